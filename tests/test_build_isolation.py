"""The build never holds a secret (site/docs/security.md, "Building the site is running
contributed code"): each attack of a pull request on the build, with a canary credential in the
environment as the scheduled job would hold it — a template reading ``os.environ`` through an
object's globals, ``site/mkdocs.yml`` with ``!ENV``, ``hooks:``, a plugin or extension outside the
allow-list, snippets from ``/``, a theme override reading the environment, and symlinks, dotfiles
and ignored files in the docs. None gets the canary or a local file onto the site or into the
output, and the build process itself holds no secret (a plugin the operator allowed dumps it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.canary import Canary
from tests.servers import env_plugin
from tests.support.project import REPO, make_project, run_cli

ENDPOINTS = [{"id": "ok", "method": "GET", "path": "/ok", "summary": "ok", "collection": "/values"}]
PROFILE = {"name": "remote", "base_url_env": "ISO_URL",
           "credentials": {"valid": {"secret": {"env": "JIRA_API_TOKEN"}, "identity": {"env": "ISO_ID"}}}}


@pytest.fixture()
def project(tmp_path):
    canary = Canary.new()
    root = make_project(tmp_path / "p", "iso", ENDPOINTS, PROFILE)
    # What the scheduled job holds: the profile's variables, an AUTHCAT_ secret, secret-looking names.
    env = {"JIRA_API_TOKEN": canary.secret, "ISO_ID": canary.identity, "ISO_URL": "http://127.0.0.1:9",
           "AUTHCAT_EXTRA_TOKEN": canary.secret, "GITHUB_TOKEN": canary.secret, "DEPLOY_KEY": canary.secret,
           "SOME_PASSWORD": canary.secret}
    return root, env, canary


def leaked(canary: Canary, root, *procs: subprocess.CompletedProcess) -> dict:
    hits = canary.find_in_tree(root / "site" / "build") if (root / "site" / "build").exists() else {}
    for proc in procs:
        if found := canary.find(proc.stdout + proc.stderr):
            hits[f"output of {proc.args[-1]}"] = found
    return hits


@pytest.mark.parametrize("expression", [
    "{{ lipsum.__globals__['os'].environ['JIRA_API_TOKEN'] }}",
    "{{ cycler.__init__.__globals__.os.environ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% set _ = legend.clear() %}",  # changing what a template is given: refused too
    # A Path in the data it is given: read .git/config (the checkout's token) or any file.
    "{{ publication.data.data_dir.parent.parent.joinpath('.git', 'config').read_text() }}",
    "{{ publication.data.data_dir.parent.parent.parent.parent.joinpath('etc', 'passwd').read_text() }}",
])
def test_a_contributed_template_cannot_reach_the_environment(project, expression):
    root, env, canary = project
    home = root / "site" / "templates" / "home.md.j2"
    home.write_text(home.read_text() + "\n" + expression + "\n")
    proc = run_cli(root, "build", env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "home.md.j2" in proc.stderr and "refused" in proc.stderr, proc.stderr
    assert leaked(canary, root, proc) == {}


@pytest.mark.parametrize("name", ["group.md.j2", "api.md.j2", "_macros.j2"])
def test_a_template_named_like_authcats_own_renders_sandboxed(project, name):
    """authcat's own templates (shipped in the package) render unsandboxed; a contributed one of the
    same name wins, as it always did, and then every page renders sandboxed."""
    root, env, canary = project
    own = REPO / "catalog" / "site" / "templates" / name
    contributed = root / "site" / "templates" / name
    contributed.write_text(own.read_text() + "\n{{ lipsum.__globals__['os'].environ['JIRA_API_TOKEN'] }}\n")
    proc = run_cli(root, "build", env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and f"site/templates/{name}" in proc.stderr and "refused" in proc.stderr, proc.stderr
    assert leaked(canary, root, proc) == {}


MKDOCS_ATTACKS = {
    "env-tag": ("copyright: !ENV [JIRA_API_TOKEN, x]\n", "copyright: the YAML tag !ENV is refused"),
    "relative-tag": ("extra:\n  where: !relative $config_dir\n", "extra.where: the YAML tag !relative is refused"),
    "python-tag": ("extra:\n  run: !!python/name:os.system\n", "extra.run: the YAML tag tag:yaml.org,2002:python/name:os.system"),
    "hooks": ("hooks:\n  - hook.py\n", "hooks: is refused: it runs contributed Python files"),
    "inherit": ("INHERIT: /etc/authcat-base.yml\n", "INHERIT: is refused"),
    "extra-templates": ("extra_templates:\n  - env.html\n", "extra_templates: is refused: it renders files of the docs"),
    "plugin": ("plugins:\n  - macros\n", "plugins.macros: the plugin 'macros' is not in the allow-list"),
    "extension": ("markdown_extensions:\n  - pymdownx.b64\n", "markdown_extensions.pymdownx.b64: the Markdown extension"),
    "snippets-unrestricted": ("markdown_extensions:\n  - pymdownx.snippets:\n      base_path: [docs]\n      restrict_base_path: false\n",
                              "markdown_extensions.pymdownx.snippets.restrict_base_path: must stay true"),
    "snippets-root": ("markdown_extensions:\n  - pymdownx.snippets:\n      base_path: [/]\n",
                      "markdown_extensions.pymdownx.snippets.base_path: is outside site/docs"),
    "custom-dir-out": ("theme:\n  name: material\n  custom_dir: ../..\n", "theme.custom_dir: must be a folder inside site/"),
}


@pytest.mark.parametrize("attack", list(MKDOCS_ATTACKS))
def test_mkdocs_yml_is_checked_before_the_build(project, attack):
    root, env, canary = project
    text, message = MKDOCS_ATTACKS[attack]
    config = root / "site" / "mkdocs.yml"
    original = config.read_text()
    # Appended (a later key replaces an earlier one in YAML): the line is the file's last lines.
    for key in ("plugins:", "markdown_extensions:", "theme:"):
        if text.startswith(key):
            original = _without_key(original, key)
    config.write_text(original + text)
    (root / "site" / "hook.py").write_text("open('HOOK-RAN', 'w').write('x')\n")
    (root / "site" / "docs" / "passwd.md").write_text('--8<-- "etc/passwd"\n')
    (root / "site" / "docs" / "env.html").write_text("{{ lipsum.__globals__['os'].environ['JIRA_API_TOKEN'] }}\n")
    before = sorted(p.name for p in (root / "site").iterdir())
    proc = run_cli(root, "build", env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = len(original.splitlines()) + 1
    assert "site/mkdocs.yml:" in proc.stderr and message in proc.stderr, proc.stderr
    assert any(f"site/mkdocs.yml:{n}:" in proc.stderr for n in range(line, line + 4)), proc.stderr
    assert not (root / "site" / "build").exists() and not (root / "HOOK-RAN").exists()
    assert sorted(p.name for p in (root / "site").iterdir()) == before, "nothing was built or staged"
    assert leaked(canary, root, proc) == {}


def _without_key(text: str, key: str) -> str:
    """``text`` without the top-level ``key`` and its indented block."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith(key):
            skipping = True
            continue
        if skipping and (line.startswith((" ", "-", "#")) or not line.strip()):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


def test_an_operator_may_allow_a_named_extension(project):
    root, env, canary = project
    config = root / "site" / "mkdocs.yml"
    config.write_text(config.read_text().replace("markdown_extensions:\n", "markdown_extensions:\n  - pymdownx.emoji\n"))
    refused = run_cli(root, "build", env=env)
    assert refused.returncode == 2 and "pymdownx.emoji" in refused.stderr and "--allow-mkdocs pymdownx.emoji" in refused.stderr
    allowed = run_cli(root, "build", "--allow-mkdocs", "pymdownx.emoji", env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert leaked(canary, root, refused, allowed) == {}


@pytest.mark.parametrize("name", [
    "main.html",  # the page template itself, extending the theme's base.html
    "partials/footer.html",  # a partial the theme's own (unsandboxed) base.html includes
])
def test_a_theme_override_cannot_reach_the_environment(project, name):
    root, env, canary = project
    overrides = root / "site" / "overrides"
    (overrides / name).parent.mkdir(parents=True, exist_ok=True)
    payload = "{{ lipsum.__globals__['os'].environ['JIRA_API_TOKEN'] }}"
    (overrides / name).write_text('{% extends "base.html" %}\n{% block footer %}' + payload + "{% endblock %}\n"
                                  if name == "main.html" else payload + "\n")
    proc = run_cli(root, "build", env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "refused" in proc.stderr, proc.stderr
    assert leaked(canary, root, proc) == {}


@pytest.mark.parametrize("expression", [
    # MkDocs' theme hands out the unsandboxed environment; from_string would compile outside.
    "{{ config.theme.get_env().from_string('{{ lipsum.__globals__.os.environ }}').render() }}",
    "{{ config.plugins.run_event('env', None) }}",
])
def test_a_theme_override_cannot_leave_the_sandbox_through_mkdocs_objects(project, expression):
    root, env, canary = project
    overrides = root / "site" / "overrides"
    overrides.mkdir(exist_ok=True)
    (overrides / "main.html").write_text('{% extends "base.html" %}\n{% block footer %}' + expression + "{% endblock %}\n")
    proc = run_cli(root, "build", env=env)
    assert proc.returncode == 2 and "refused" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert leaked(canary, root, proc) == {}


def test_a_theme_partial_a_plugin_renders_from_the_theme_runs_sandboxed(project, tmp_path):
    # Material's search plugin renders partials/language.html from config.theme.get_env() (MkDocs'
    # own environment, over the theme's folders and the contributed custom_dir): an override of
    # it once ran unsandboxed, before the theme's sandboxed environment ever saw it.
    root, env, canary = project
    marker = tmp_path / "ran-unsandboxed"
    partials = root / "site" / "overrides" / "partials"
    partials.mkdir(parents=True, exist_ok=True)
    (partials / "language.html").write_text(
        '{% import "partials/languages/en.html" as fallback %}\n'
        f"{{% set _ = cycler.__init__.__globals__.os.system('touch {marker}') %}}\n"
        "{% macro t(key) %}{{ fallback.t(key) or key }}{% endmacro %}\n")
    proc = run_cli(root, "build", env=env)
    assert proc.returncode == 2 and "refused" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert "partials/language.html" in proc.stderr
    assert not marker.exists()
    assert leaked(canary, root, proc) == {}


def test_nested_yaml_aliases_in_mkdocs_yml_are_refused_at_once(project):
    root, env, _ = project
    config = root / "site" / "mkdocs.yml"
    lines = ["extra:", "  a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):  # 9^10 strings when expanded
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    text = config.read_text().replace("extra:\n", "\n".join(lines) + "\n", 1)
    config.write_text(text)
    proc = run_cli(root, "build", env=env, timeout=60)
    assert proc.returncode == 2 and "YAML anchors and aliases are refused" in proc.stderr, proc.stderr


def test_the_parent_of_the_build_is_not_dumpable():
    """``run`` holds the secrets while its build child runs: the child (and any process of the
    user but root) cannot read the parent's /proc/<pid>/environ or memory."""
    code = ("import ctypes; from catalog.pipeline import not_dumpable; not_dumpable(); "
            "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))")  # 3: PR_GET_DUMPABLE
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "0"


def test_the_build_process_holds_no_secret(project, tmp_path):
    """Code that runs in the build anyway (here a plugin the operator allowed) finds no credential:
    the build runs in a child process whose environment was stripped."""
    root, env, canary = project
    config = root / "site" / "mkdocs.yml"
    config.write_text(config.read_text().replace("\nplugins:\n", "\nplugins:\n  - authcat-test-env\n"))
    env = {**env, "PYTHONPATH": os.pathsep.join([str(REPO), str(env_plugin.install(tmp_path / "plugins"))]),
           "HARMLESS_SETTING": "kept"}
    proc = run_cli(root, "build", "--allow-mkdocs", "authcat-test-env", env=env)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads((root / "site" / "build" / "env.json").read_text())
    assert seen.get("HARMLESS_SETTING") == "kept" and "PATH" in seen  # the dump is real
    for name in ("JIRA_API_TOKEN", "ISO_ID", "ISO_URL", "AUTHCAT_EXTRA_TOKEN", "GITHUB_TOKEN", "DEPLOY_KEY", "SOME_PASSWORD"):
        assert name not in seen, name
    assert canary.find(json.dumps(seen)) == []


def _git(root, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.mark.parametrize("folder", ["docs", "templates", "overrides", "data"])
def test_nothing_is_published_through_a_symlink_even_inside_the_project(project, folder):
    root, env, canary = project
    _git(root, "init", "-q")
    # actions/checkout persists its token in .git/config: a link to it stays inside the project.
    with (root / ".git" / "config").open("a") as f:
        f.write(f'[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic {canary.header.split(" ")[1]}\n')
    where = root / "site" / folder
    where.mkdir(exist_ok=True)
    (where / "x.txt").symlink_to(os.path.relpath(root / ".git" / "config", where))
    proc = run_cli(root, "build", env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"site/{folder}/x.txt:0: (file): is a symlink" in proc.stderr, proc.stderr
    assert leaked(canary, root, proc) == {}


def test_dotfiles_git_and_ignored_files_are_not_published(project):
    root, env, canary = project
    _git(root, "init", "-q")
    (root / ".gitignore").write_text("site/docs/local-notes.md\nsite/build/\nsite/generated/\n")
    docs = root / "site" / "docs"
    (docs / ".env").write_text(f"JIRA_API_TOKEN={canary.secret}\n")
    (docs / ".hidden").mkdir()
    (docs / ".hidden" / "page.md").write_text(f"# {canary.secret}\n")
    (docs / "local-notes.md").write_text(f"# notes\n{canary.secret}\n")
    (docs / "public-page.md").write_text("# A public page\n")
    proc = run_cli(root, "build", env=env)
    assert proc.returncode == 0, proc.stderr
    built = root / "site" / "build"
    assert (built / "public-page.html").exists()
    assert not any(p.name in (".env", ".hidden", "local-notes.html", "local-notes.md") for p in built.rglob("*"))
    assert leaked(canary, root, proc) == {}


def test_lint_checks_mkdocs_yml_too(project):
    """A pull request learns it from `lint` (pr.yml), before any build."""
    root, env, canary = project
    config = root / "site" / "mkdocs.yml"
    config.write_text(config.read_text() + "copyright: !ENV [JIRA_API_TOKEN, x]\n")
    lint = run_cli(root, "lint", env=env)
    assert lint.returncode == 2 and "site/mkdocs.yml:" in lint.stderr and "copyright: the YAML tag !ENV is refused" in lint.stderr
    config.write_text(config.read_text().replace("copyright: !ENV [JIRA_API_TOKEN, x]\n", "").replace(
        "markdown_extensions:\n", "markdown_extensions:\n  - pymdownx.emoji\n"))
    assert run_cli(root, "lint", env=env).returncode == 2
    allowed = run_cli(root, "lint", "--allow-mkdocs", "pymdownx.emoji", env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert leaked(canary, root, lint, allowed) == {}

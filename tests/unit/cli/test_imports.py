"""Every start of ``authcat`` pays for what it imports (the suite starts it over a hundred times):
each command loads its own stack when it runs, so ``--help`` and ``lint`` load no MkDocs and no
HTTP client, and ``--help`` no JSON Schema validator, template engine or event loop either
(the built-in plugins, loaded by the commands that use them, import theirs when their hooks
run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.project import cli_env, make_project

# Run the command line in a child as `authcat` does, then list the top modules it had loaded.
LOADED = """
import json, sys
sys.argv = ["authcat", *sys.argv[2:]]
from catalog.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
with open(OUT, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""

HTTP_AND_SITE = ("mkdocs", "babel", "pytz", "aiohttp", "httpx", "httpcore", "watchfiles", "ruamel",
                 "catalog.site.build", "catalog.site.guard", "catalog.engine.runner", "catalog.engine.probe")


def loaded(tmp_path: Path, root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    out = tmp_path / "loaded.json"
    code = LOADED.replace("OUT", repr(str(out)))
    done = subprocess.run([sys.executable, "-c", code, "authcat", "--root", str(root), *args], capture_output=True,
                          text=True, timeout=120, env=cli_env(env), cwd=root)
    assert out.exists(), done.stderr
    result = json.loads(out.read_text())
    return result["code"], result["modules"]


def heavy(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return sorted({n for m in modules for n in names if m == n or m.startswith(n + ".")})


def test_help_loads_neither_the_site_build_nor_the_probe_engine(tmp_path):
    code, modules = loaded(tmp_path, tmp_path, "--help")
    assert code == 0
    assert heavy(modules, (*HTTP_AND_SITE, "asyncio", "jsonschema", "referencing", "jinja2")) == []
    assert "catalog.commands.serve" in modules  # the plugins' commands are still added, for the help to list


def test_lint_loads_neither_mkdocs_nor_an_http_client(tmp_path):
    root = make_project(tmp_path / "p", "tiny", [{"id": "ok", "method": "GET", "path": "/ok", "summary": "ok"}],
                        {"name": "remote", "base_url_env": "TINY_URL"})
    store = {"XDG_CACHE_HOME": str(tmp_path / "user-cache")}  # empty: nothing accepted yet
    code, modules = loaded(tmp_path, root, "lint", env=store)
    assert code == 0
    assert heavy(modules, HTTP_AND_SITE) == []
    assert "jsonschema" in modules  # it did check the definitions
    code, modules = loaded(tmp_path, root, "lint", env=store)
    assert code == 0
    # The files it accepted come from the accepted store (catalog.definitions.accepted), unchecked.
    assert heavy(modules, (*HTTP_AND_SITE, "jsonschema", "referencing")) == []


def test_build_waits_for_its_child_without_loading_mkdocs(tmp_path):
    # The build runs in a child process (catalog.pipeline.BuildChild); the parent only checks
    # mkdocs.yml, waits and prints the report: MkDocs and Jinja there would be a fixed cost of
    # every `authcat build` for nothing.
    root = make_project(tmp_path / "p", "tiny", [{"id": "ok", "method": "GET", "path": "/ok", "summary": "ok"}],
                        {"name": "remote", "base_url_env": "TINY_URL"})
    code, modules = loaded(tmp_path, root, "build")
    assert code == 0
    assert (root / "site" / "build" / "index.html").is_file()  # the child did build
    assert heavy(modules, (*HTTP_AND_SITE, "jinja2", "markdown", "material")) == []
    # Nor the plugins: the child loads its own, and `build` is a built-in command, found without them.
    assert heavy(modules, ("pluggy", "authcat_plugins", "catalog.commands", "catalog.site.pages")) == []

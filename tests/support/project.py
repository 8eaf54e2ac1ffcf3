"""Projects to run authcat in: copies of this one, throw-away ones pointing at a test server, and
the one way to run the command line (:func:`run_cli`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "authcat"  # launchers' caches (Backlot's imported corpus), shared by runs
# The one way the tests run the real command line in a child process (see run_cli).
AUTHCAT = [sys.executable, "-m", "catalog"]


def copy_project(dest: Path, with_data: bool = True, apis: Sequence[str] | None = None) -> Path:
    """A copy of the project's endpoints and site sources (not its build output) at ``dest``.

    ``apis``: only these APIs' definitions and data files (observations, submissions, revocation
    measurements), for a test that builds the site but reads the pages of these alone: a build
    costs in proportion to the endpoints (jira-cloud has most). The log of changes, which holds
    every API's entries, is left out then."""
    dest.mkdir(parents=True, exist_ok=True)
    whole = apis is None
    if whole:
        shutil.copytree(REPO / "endpoints", dest / "endpoints")
    for api in apis or ():
        shutil.copytree(REPO / "endpoints" / api, dest / "endpoints" / api)
    ignore = shutil.ignore_patterns("build", "generated", ".build-*", *(() if with_data and whole else ("data",)))
    shutil.copytree(REPO / "site", dest / "site", ignore=ignore)
    data = dest / "site" / "data"
    data.mkdir(exist_ok=True)
    if with_data and not whole:
        for api in apis or ():
            for folder in ("observations", "submissions"):
                if (REPO / "site" / "data" / folder / api).is_dir():
                    shutil.copytree(REPO / "site" / "data" / folder / api, data / folder / api)
            if (measured := REPO / "site" / "data" / "revocation" / f"{api}.json").is_file():
                (data / "revocation").mkdir(exist_ok=True)
                shutil.copy(measured, data / "revocation" / measured.name)
    return dest


def make_project(root: Path, api: str, endpoints: Sequence[Mapping[str, Any]], target: dict, api_extra: dict | None = None) -> Path:
    """Write ``root/endpoints/<api>`` (one group file, one target) and a copy of the site skeleton."""
    folder = root / "endpoints" / api
    (folder / "targets").mkdir(parents=True)
    api_doc = {"name": api, "title": f"Test API {api}", "scheme": "basic", **(api_extra or {})}
    (folder / "api.yaml").write_text(yaml.safe_dump(api_doc, sort_keys=False))
    (folder / "things.yaml").write_text(yaml.safe_dump({"group": "Things", "endpoints": endpoints}, sort_keys=False))
    (folder / "targets" / f"{target['name']}.yaml").write_text(yaml.safe_dump(target, sort_keys=False))
    site = root / "site"
    site.mkdir()
    shutil.copy(REPO / "site" / "mkdocs.yml", site / "mkdocs.yml")
    shutil.copytree(REPO / "site" / "docs", site / "docs")
    shutil.copytree(REPO / "site" / "templates", site / "templates")
    if (REPO / "site" / "overrides").is_dir():  # the theme's overridden partials (mkdocs.yml custom_dir)
        shutil.copytree(REPO / "site" / "overrides", site / "overrides")
    (site / "data").mkdir()
    return root


def remote_target(name: str, base_url_env: str, env_prefix: str,
                  roles=("valid", "other", "unprivileged", "expired", "revoked"), **extra) -> dict:
    """A profile whose URL comes from the operator's variable ``base_url_env`` (never a literal
    URL: catalog.secrets.binding) and with env-var credential references, one pair per role."""
    creds = {
        role: {"secret": {"env": f"{env_prefix}_{role.upper()}_SECRET"}, "identity": {"env": f"{env_prefix}_{role.upper()}_ID"}}
        for role in roles
    }
    return {"name": name, "base_url_env": base_url_env, "credentials": creds, **extra}


def role_env(env_prefix: str, secret: str, identity: str,
             roles=("valid", "other", "unprivileged", "expired", "revoked")) -> dict[str, str]:
    env = {}
    for role in roles:
        env[f"{env_prefix}_{role.upper()}_SECRET"] = secret
        env[f"{env_prefix}_{role.upper()}_ID"] = identity
    return env


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: this one without AUTHCAT_* settings (only built-in plugins, the
    default cache) unless ``extra`` sets them, no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHCAT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    env["AUTHCAT_LOAD_PLUGINS"] = ""  # only built-ins unless a test says otherwise
    env.update(extra or {})
    return env


class CliRun(subprocess.CompletedProcess):
    """A finished command: ``returncode``, ``stdout``, ``stderr``, and ``output``, both in that order."""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120,
            input: str | None = None) -> CliRun:
    """``authcat --root <root> <args>`` in a child process, to its end: what a user runs, exit code
    and all. ``input`` is typed at its prompts (otherwise stdin is empty)."""
    done = subprocess.run(
        [*AUTHCAT, "--root", str(root), *args], capture_output=True, text=True, timeout=timeout,
        env=cli_env(env), cwd=root, input=input, stdin=None if input is not None else subprocess.DEVNULL,
    )
    return CliRun(done.args, done.returncode, done.stdout, done.stderr)


def start_cli(root: Path, *args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen:
    """:func:`run_cli` for a command a test talks to while it runs (``serve``, a probe it
    interrupts): the started process; ``popen`` sets its output (default: piped, text)."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True, **popen}
    return subprocess.Popen([*AUTHCAT, "--root", str(root), *args], env=cli_env(env), cwd=root,
                            stdin=subprocess.DEVNULL, **options)


def fail_each_page(monkeypatch: Any) -> None:
    """Every page MkDocs finishes fails as on a full disk (ENOSPC): a build that fails mid-way."""
    import catalog.site.build

    def fail(self: Any, output: str, page: Any, config: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(catalog.site.build.InertTitles, "on_post_page", fail)

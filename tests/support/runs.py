"""Helpers shared by the drift, check and change-log tests.

``datasette_versions()`` probes the datasette endpoints once per session against Datasette 1.0a41
(the pinned one, target ``local``) and 1.0a35 (its own venv, built once by ``datasette_env`` and
cached in ``.cache/authcat``; target ``old``), each in its own copy of the project.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from catalog.engine.runner import CACHE_ENV
from catalog.model.observation import Observation
from catalog.runs.results import Cell, EndpointResult, TargetRun
from tests.support.datasette_env import OLD_VERSION, EnvError, datasette_python
from tests.support.project import CACHE, REPO, copy_project, run_cli

CLI_TIMEOUT = 180  # seconds for one authcat command (a probe starts a server: ~5 s)


def authcat(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the real command line in a project copy (through ``run_cli``, with the shared launcher cache)."""
    return run_cli(cwd, *args, env={CACHE_ENV: os.environ.get(CACHE_ENV, str(CACHE))}, timeout=CLI_TIMEOUT)


def make_run(api: str, target: str, version: str | None, date: str,
             cells: dict[str, dict[str, tuple[str, int | None]]], path_of=lambda e: f"/{e}") -> TargetRun:
    """A synthetic run: endpoint id -> state -> (outcome, status)."""
    endpoints = {}
    for endpoint_id, by_state in cells.items():
        built = {
            state: Cell(state, outcome, observation=Observation(status=status) if status is not None else None)
            for state, (outcome, status) in by_state.items()
        }
        endpoints[endpoint_id] = EndpointResult(endpoint_id, "GET", path_of(endpoint_id), "mixed", "", "h", built, judged="j")
    states: dict[str, dict[str, Any]] = {s: {"available": True} for per in cells.values() for s in per}
    run = {"target_version": version, "date": date, "authcat_version": "0.1.0"}
    return TargetRun(api, target, run, states, endpoints)


def write_run(folder: Path, run: TargetRun) -> Path:
    path = folder / "observations" / run.api / f"{run.target}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run.to_dict(), indent=2))
    return path


def outcomes(path: Path) -> dict[tuple[str, str], str]:
    """(endpoint, state) -> outcome, read straight from an observation file (not through authcat)."""
    data = json.loads(path.read_text())
    return {(e, s): c["outcome"] for e, r in data["endpoints"].items() for s, c in r.get("states", {}).items()}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass
class Versions:
    new: Path  # project copy probed against 1.0a41 (target local)
    old: Path  # project copy probed against 1.0a35 (target old)
    old_python: Path
    seconds: dict[str, float]

    def observations(self, which: str) -> Path:
        root, target = (self.new, "local") if which == "new" else (self.old, "old")
        return root / "site" / "data" / "observations" / "datasette" / f"{target}.json"


def old_target_yaml(python: Path) -> str:
    local = (REPO / "endpoints" / "datasette" / "targets" / "local.yaml").read_text()
    body = local.split("launcher: datasette", 1)[1]
    return (f"name: old\ndescription: Datasette {OLD_VERSION}, run from its own environment.\n"
            f"launcher: datasette\noptions:\n  python: {json.dumps(str(python))}{body}")


_CACHE: dict[str, Versions] = {}


def datasette_versions(tmp_path_factory) -> Versions:
    """Both versions probed once per session (the test modules share the result)."""
    if "v" in _CACHE:
        return _CACHE["v"]
    import time

    try:
        python = datasette_python(OLD_VERSION)
    except EnvError as err:
        pytest.skip(f"cannot build a Datasette {OLD_VERSION} environment: {err}")
    seconds = {}
    new = copy_project(tmp_path_factory.mktemp("datasette-new"), with_data=False)
    old = copy_project(tmp_path_factory.mktemp("datasette-old"), with_data=False)
    (old / "endpoints" / "datasette" / "targets" / "old.yaml").write_text(old_target_yaml(python))
    for name, root, target in (("1.0a41", new, "local"), (OLD_VERSION, old, "old")):
        t0 = time.perf_counter()
        done = authcat("probe", "--api", "datasette", "--target", target, cwd=root)
        seconds[f"probe {name}"] = round(time.perf_counter() - t0, 1)
        assert done.returncode == 0, done.stderr
    _CACHE["v"] = Versions(new, old, python, seconds)
    return _CACHE["v"]


def clone(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


# Synthetic cells and endpoint results for the signal and answer tests.
BASE_HEADERS = {"content-type": "application/json", "x-request-id": "(present)"}


def cell(state, outcome, status=200, sha="a" * 64, headers=None, fields=None, count=None) -> Cell:
    obs = Observation(status=status, body_sha256=sha, headers={**BASE_HEADERS, **(headers or {})},
                      fields=dict(fields or {}), count=count, body_bytes=10)
    return Cell(state=state, outcome=outcome, observation=obs)


def result(endpoint_id, path, verdict, cells, method="GET") -> EndpointResult:
    return EndpointResult(endpoint_id, method, path, verdict, cells={c.state: c for c in cells})


def made_up_api() -> list[EndpointResult]:
    """A made-up "widgets" API: ``x-user-id`` only when a credential is accepted, ``x-auth-error:
    bad_token`` when an unknown token is read and refused, and a ``/me`` endpoint with an ``actor``
    that is null for anybody not authenticated. Wrong identity is silently served as anonymous."""
    me = {"x-user-id": "(present)"}
    refused = {"x-auth-error": "bad_token"}
    widgets = result("listWidgets", "/widgets", "falls-open", [
        cell("valid", "as-valid", sha="v" * 64, headers=me, count=3),
        cell("anonymous", "empty", sha="e" * 64, count=0),
        cell("unknown-token", "empty", sha="e" * 64, headers=refused, count=0),
        cell("wrong-identity", "empty", sha="e" * 64, count=0),
        cell("unprivileged", "empty", sha="e" * 64, headers=me, count=0),
    ])
    whoami = result("whoAmI", "/me", "mixed", [
        cell("valid", "as-valid", sha="m" * 64, headers=me, fields={"/actor": "present"}),
        cell("anonymous", "as-anonymous", sha="n" * 64, fields={"/actor": "null"}),
        cell("unknown-token", "rejected", status=401, sha="r" * 64, headers=refused, fields={"/actor": "absent"}),
        cell("wrong-identity", "as-anonymous", sha="n" * 64, fields={"/actor": "null"}),
        cell("unprivileged", "partial", sha="u" * 64, headers=me, fields={"/actor": "present"}),
    ])
    version = result("version", "/version", "public", [
        cell(s, "as-valid", sha="p" * 64, headers=me if s in ("valid", "unprivileged") else refused if s == "unknown-token" else {})
        for s in ("valid", "anonymous", "unknown-token", "wrong-identity", "unprivileged")
    ])
    return [widgets, whoami, version]

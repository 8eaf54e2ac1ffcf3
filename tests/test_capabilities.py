"""Capabilities and failures (issue 12 item 8): a state a server version cannot provide is n/a
with the reason; one failing target never stops the others, the exit code says so, its previous
observations stay, and the error names the profile (and the state)."""

from __future__ import annotations

import shutil
import stat
import sys
from pathlib import Path

import authcat_plugins.datasette_target as datasette
from catalog.targets.launchers import LaunchContext
from tests.support.project import copy_project, run_cli


def _old_datasette(folder: Path) -> Path:
    """An interpreter whose Datasette has no ``create-token --expires-after``, like releases
    before the option existed: every other command runs the real Datasette unchanged. (A command
    line that mentions the option anywhere fails, the launcher's one-process helper included,
    whose plan carries it: the launcher then runs each command on its own.)"""
    shim = folder / "python-old-datasette"
    shim.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do case "$a" in *--expires-after*)\n'
        "  echo \"Error: No such option: --expires-after\" >&2; exit 2;; esac; done\n"
        f'exec {sys.executable} "$@"\n'
    )
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return shim


def test_a_state_this_server_version_cannot_make_is_na_with_the_reason(tmp_path):
    lines: list[str] = []
    ctx = LaunchContext("datasette", tmp_path / "cache", tmp_path / "scratch",
                        {"python": str(_old_datasette(tmp_path))}, lines.append)
    with datasette.launch_datasette(ctx) as launched:
        # The launch went on: the valid, unprivileged and forged tokens were minted.
        assert {"valid", "unprivileged", "forged"} <= set(launched.credentials.roles)
        assert "expired" not in launched.credentials.roles
        reason = launched.unavailable["expired"]
        assert "expired token" in reason and "--expires-after" in reason
        assert launched.unavailable["revoked"] == datasette.UNAVAILABLE["revoked"]


def test_one_failing_target_never_stops_the_others(tmp_path):
    root = copy_project(tmp_path / "project")
    for api in ("jira-cloud", "confluence-cloud"):
        shutil.rmtree(root / "endpoints" / api)
    profile = root / "endpoints" / "datasette" / "targets" / "local.yaml"
    profile.write_text(profile.read_text() + "options:\n  python: /nonexistent/python3\n")
    before = (root / "site" / "data" / "observations" / "datasette" / "local.json").read_bytes()
    done = run_cli(root, "run", timeout=300)
    assert done.returncode == 3, done.stderr
    # The failure names the profile file and what went wrong, without a traceback.
    assert "endpoints/datasette/targets/local.yaml" in done.stderr
    assert "/nonexistent/python3" in done.stderr and "Traceback" not in done.stderr
    assert "1 target(s) failed" in done.stderr
    # Its previous observations stay; the other target was probed, written and built.
    assert (root / "site" / "data" / "observations" / "datasette" / "local.json").read_bytes() == before
    assert (root / "site" / "data" / "observations" / "jupyter-server" / "local.json").exists()
    assert (root / "site" / "build" / "apis" / "jupyter-server" / "index.html").exists()

"""A server version that cannot mint the valid credential: Datasette 0.65.5 has no API tokens
(``datasette create-token`` does not exist there). The target does not fail: every token state
is n/a with the launcher's reason — ``valid`` included — the others are sent, and judging without
a valid baseline says what it can: the credential is never recognised (every answer is the
anonymous one), and a valid credential is what would answer the rest.

The release lives in a venv of its own (tests.support.datasette_env), run through the launcher's
``options.python``. Checked by hand against the same server with curl: ``/-/actor.json`` answers
``{"actor": null}`` to ``Authorization: Bearer dstok_…`` and to ``Bearer !!!`` alike, and the
root-only ``private`` database 403 to both.
"""

from __future__ import annotations

import pytest

from catalog.engine.runner import RunOptions
from catalog.hooks.manager import Hooks, get_plugin_manager
from catalog.pipeline import Project, probe
from tests.support.datasette_env import EnvError, datasette_python
from tests.support.project import copy_project

VERSION = "0.65.5"


@pytest.fixture(scope="module")
def old_run(tmp_path_factory):
    try:
        python = datasette_python(VERSION)
    except EnvError as exc:  # no index to install it from: say so, do not pass silently
        pytest.skip(f"datasette {VERSION} could not be installed: {exc}")
    root = copy_project(tmp_path_factory.mktemp("old") / "proj")
    profile = root / "endpoints" / "datasette" / "targets" / "local.yaml"
    profile.write_text(profile.read_text() + f"options:\n  python: {python}\n")
    logs: list[str] = []
    options = RunOptions(apis=["datasette"], log=logs.append, cache_root=root / "cache")
    (run,), _ = probe(Project(root), Hooks(get_plugin_manager(load_external=False)), options)
    return run, logs


def test_the_target_does_not_fail_and_valid_is_na_with_the_reason(old_run):
    run, _ = old_run
    assert run.version == VERSION
    for state in ("valid", "unprivileged", "expired", "forged"):
        info = run.states[state]
        assert info["available"] is False, state
        assert "has no API tokens" in info["reason"] and "create-token" in info["reason"], info["reason"]
    assert run.states["anonymous"]["available"] and run.states["malformed"]["available"]
    assert run.meta["probes"] > 0


def test_what_can_be_said_without_a_valid_baseline(old_run):
    run, logs = old_run
    assert run.meta["credential"]["recognised"] is False
    assert "never recognised" in run.meta["credential"]["reason"]
    assert any("never recognised" in line for line in logs)
    probed = [r for r in run.endpoints.values() if r.cells]
    assert probed
    for result in probed:
        assert result.verdict in ("inconclusive", "not-served"), (result.endpoint_id, result.verdict)
        malformed = result.cells["malformed"]
        anonymous = result.cells["anonymous"].observation
        assert malformed.observation.status == anonymous.status, result.endpoint_id
        if malformed.observation.ok:
            assert malformed.outcome == "inconclusive" and "not recognised" in malformed.note
    # /-/actor.json names nobody whatever is sent: {"actor": null}, as to no credential at all.
    actor = run.endpoints["actor"]
    assert actor.cells["malformed"].observation.status == 200
    assert actor.cells["malformed"].observation.body_sha256 == actor.cells["anonymous"].observation.body_sha256


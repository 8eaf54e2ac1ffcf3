"""End to end on the real Backlot emulator: the behaviours the catalog exists to show."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from catalog.hooks.manager import Hooks
from catalog.pipeline import build

pytestmark = pytest.mark.backlot


def cell(runs, api, path, state):
    run = runs[(api, "backlot")]
    result = next(r for r in run.endpoints.values() if r.path == path and r.method == "GET")
    return result, result.cells[state]


@pytest.mark.parametrize("path", ["/rest/api/3/project/search", "/rest/api/3/search/jql"])
@pytest.mark.parametrize("state", ["wrong-identity", "unknown-token"])
def test_jira_serves_bad_credentials_an_empty_collection(bundled_run, path, state):
    _, runs = bundled_run
    _, c = cell(runs, "jira-cloud", path, state)
    assert c.status == 200
    assert c.outcome == "empty"


def test_project_search_falls_open(bundled_run):
    _, runs = bundled_run
    result, valid = cell(runs, "jira-cloud", "/rest/api/3/project/search", "valid")
    assert valid.outcome == "as-valid" and valid.observation.count > 0
    assert result.verdict == "falls-open"


def test_server_info_is_not_rejected_for_anonymous(bundled_run):
    _, runs = bundled_run
    _, c = cell(runs, "jira-cloud", "/rest/api/3/serverInfo", "anonymous")
    assert c.outcome != "rejected" and c.status == 200


def test_confluence_space_forbids_anonymous_and_rejects_malformed(bundled_run):
    _, runs = bundled_run
    _, anonymous = cell(runs, "confluence-cloud", "/wiki/rest/api/space", "anonymous")
    _, malformed = cell(runs, "confluence-cloud", "/wiki/rest/api/space", "malformed")
    assert (anonymous.status, anonymous.outcome) == (403, "forbidden")
    assert (malformed.status, malformed.outcome) == (401, "rejected")


def test_states_backlot_cannot_provide_are_na_with_a_reason(bundled_run):
    _, runs = bundled_run
    run = runs[("jira-cloud", "backlot")]
    for state in ("expired", "revoked", "forged"):
        assert run.states[state]["available"] is False and run.states[state]["reason"]
    _result, c = cell(runs, "jira-cloud", "/rest/api/3/project/search", "expired")
    assert c.outcome == "n/a"


def test_matrices_hold_at_least_20_endpoints_by_8_states(bundled_run):
    _, runs = bundled_run
    probed = [
        (api, r) for (api, _), run in runs.items() for r in run.endpoints.values()
        if sum(1 for c in r.cells.values() if c.outcome != "n/a") >= 8
    ]
    assert len(probed) >= 20


def test_unserved_endpoints_are_marked_not_served(bundled_run):
    _, runs = bundled_run
    run = runs[("jira-cloud", "backlot")]
    dashboards = [r for r in run.endpoints.values() if r.path == "/rest/api/3/dashboard"]
    assert dashboards and dashboards[0].verdict == "not-served"
    assert not dashboards[0].cells  # nothing was sent, nothing is called hidden


def test_unprivileged_user_sees_less(bundled_run):
    _, runs = bundled_run
    _, c = cell(runs, "jira-cloud", "/rest/api/3/project/search", "unprivileged")
    assert c.status == 200 and c.observation.count == 0


def test_rerun_leaves_observation_entries_unchanged(bundled_run):
    from catalog.engine.runner import RunOptions
    from catalog.pipeline import probe

    project, _runs = bundled_run
    path = project.data / "observations" / "jira-cloud" / "backlot.json"
    import json

    before = json.loads(path.read_text())
    rerun, changes = probe(project, Hooks(), RunOptions(apis=["jira-cloud"], refresh=True, log=lambda m: None))
    after = json.loads(path.read_text())
    assert rerun[0].meta["probes"] > 0  # really probed again
    assert changes == []
    assert after["endpoints"] == before["endpoints"]
    assert after["states"] == before["states"]


def backlot_secrets() -> list[str]:
    """Every token Backlot's prepared corpus holds (read from its data folder, as the plugin does)."""
    from tests.support.project import CACHE

    found = []
    for tokens in CACHE.glob("backlot/data-*/tokens.yaml"):
        doc = yaml.safe_load(tokens.read_text())
        found += [u["token"] for u in doc["users"]] + [doc.get("admin_token")]
    return [s for s in found if s]


def test_no_backlot_credential_in_observations_or_site(bundled_run):
    project, _ = bundled_run
    build(project, Hooks())
    secrets = backlot_secrets()
    assert secrets, "the Backlot corpus should have been prepared by the run"
    pattern = re.compile("|".join(re.escape(s) for s in secrets))
    scanned = 0
    for folder in (project.data, project.site.build):
        for path in folder.rglob("*"):
            if path.is_file():
                scanned += 1
                assert not pattern.search(path.read_text(errors="ignore")), path
    assert scanned > 50
    assert (project.site.build / "index.html").exists()


def test_no_backlot_credential_committed_in_the_repository():
    from tests.support.project import REPO

    secrets = backlot_secrets()
    if not secrets:
        pytest.skip("no Backlot corpus prepared on this machine yet")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    pattern = re.compile("|".join(re.escape(s) for s in secrets))
    hits = [name for name in tracked.decode().split("\0") if name and (REPO / name).is_file()
            and pattern.search((REPO / name).read_text(errors="ignore"))]
    assert hits == []

"""The example Jira profile, pointed at a real server through environment variables only.

Backlot plays the part of a user's Jira site: the profile gets its URL and credentials from the
environment, probes it, and shows the states whose variables are unset as n/a with the variable.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from catalog.engine.runner import RunOptions
from catalog.hooks.manager import Hooks
from catalog.pipeline import probe
from catalog.targets.launchers import LaunchContext
from tests.support.project import CACHE

pytestmark = pytest.mark.backlot


@pytest.fixture(scope="module")
def backlot():
    hooks = Hooks()
    with tempfile.TemporaryDirectory() as scratch:
        ctx = LaunchContext("backlot", CACHE / "backlot", Path(scratch))
        with hooks.launchers["backlot"](ctx) as launched:
            yield launched


def test_my_site_profile_probes_with_env_credentials(project, backlot, monkeypatch):
    valid = backlot.credentials.get("valid")
    other = backlot.credentials.get("other")
    monkeypatch.setenv("JIRA_BASE_URL", backlot.base_url + "/atlassian")
    monkeypatch.setenv("JIRA_EMAIL", valid.identity)
    monkeypatch.setenv("JIRA_API_TOKEN", valid.secret)
    monkeypatch.setenv("JIRA_OTHER_EMAIL", other.identity)
    for unset in ("JIRA_REVOKED_TOKEN", "JIRA_EXPIRED_TOKEN", "JIRA_UNPRIVILEGED_TOKEN", "JIRA_DEACTIVATED_TOKEN"):
        monkeypatch.delenv(unset, raising=False)
    runs, _ = probe(project, Hooks(), RunOptions(apis=["jira-cloud"], targets=["my-site"], refresh=True, log=lambda m: None,
                                                rate_limit=500, concurrency=8))
    [run] = runs
    assert run.target == "my-site"
    assert run.states["revoked"] == {"available": False, "reason": "set JIRA_REVOKED_TOKEN", "family": "bad"}
    assert run.states["wrong-identity"]["available"] is True
    result = next(r for r in run.endpoints.values() if r.path == "/rest/api/3/project/search")
    assert result.cells["wrong-identity"].outcome == "empty"
    assert run.version is not None  # read from serverInfo as the profile says
    written = (project.data / "observations" / "jira-cloud" / "my-site.json").read_text()
    assert valid.secret not in written and json.loads(written)["target"] == "my-site"


def test_my_site_is_skipped_without_its_variables(project, monkeypatch):
    monkeypatch.delenv("JIRA_BASE_URL", raising=False)
    logged: list[str] = []
    runs, _ = probe(project, Hooks(), RunOptions(apis=["jira-cloud"], targets=["my-site"], log=logged.append))
    assert runs == []
    assert any("JIRA_BASE_URL" in line for line in logged)

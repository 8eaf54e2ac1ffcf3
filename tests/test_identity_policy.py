"""Identity policy (site/docs/security.md): an identity is personal data on a remote target and
stays redacted wherever a server echoes it; a profile of a local server may declare its fixture
users public, and a launched target's are public by default, so paths, pages and recipes that
name a fixture user (``/users/alice``) stay readable — the secret stays redacted either way."""

from __future__ import annotations

import json

import pytest

from catalog.model.definition import TargetProfile
from catalog.secrets.binding import identities_public
from catalog.secrets.scrub import REDACTED, Scrubber
from tests.canary import Canary
from tests.servers.fault_server import FaultServer
from tests.support.project import make_project, run_cli

ENDPOINTS = [{"id": "ok", "method": "GET", "path": "/ok", "summary": "ok", "collection": "/values"},
             {"id": "mine", "method": "GET", "path": "/users/alice/repos", "summary": "alice's repositories"}]


def _probe(tmp_path, identities: str | None):
    canary = Canary.new()
    profile = {"name": "local", "base_url_env": "LOCAL_URL", "timeout": 5, "retries": 0,
               "credentials": {"valid": {"secret": {"env": "LOCAL_SECRET"}, "identity": {"env": "LOCAL_ID"}}}}
    if identities:
        profile["identities"] = identities
    root = make_project(tmp_path / "p", "people", ENDPOINTS, profile)
    with FaultServer() as server:
        env = {"LOCAL_URL": server.url, "LOCAL_SECRET": canary.secret, "LOCAL_ID": "alice"}
        probe = run_cli(root, "run", env=env)
    assert probe.returncode == 0, probe.stderr
    data = json.loads((root / "site" / "data" / "observations" / "people" / "local.json").read_text())
    return root, data, canary, probe


def test_an_identity_is_personal_by_default(tmp_path):
    _, data, canary, probe = _probe(tmp_path, None)
    assert data["endpoints"]["mine"]["path"] == REDACTED  # the name of a person is not published
    assert "alice" not in json.dumps(data)
    assert canary.find(probe.stdout + probe.stderr) == []


def test_fixture_users_declared_public_stay_readable(tmp_path):
    root, data, canary, probe = _probe(tmp_path, "public")
    assert data["endpoints"]["mine"]["path"] == "/users/alice/repos"
    page = (root / "site" / "build" / "apis" / "people" / "index.html").read_text()
    assert "/users/alice/repos" in page and REDACTED not in page
    assert canary.find_in_tree(root / "site") == {} and canary.find(probe.stdout + probe.stderr) == []


@pytest.mark.parametrize("launcher, declared, url, public", [
    ("backlot", None, "http://127.0.0.1:5000", True),  # a launcher's fixture users: public by default
    ("backlot", "personal", "http://127.0.0.1:5000", False),
    (None, "public", "http://127.0.0.1:8080", True),
    (None, "public", "http://localhost:8080", True),
    (None, "public", "https://example.atlassian.net", False),  # a pull request cannot publish the operator's account
    (None, "public", "http://127.0.0.1.example.test", False),
    (None, None, "http://127.0.0.1:8080", False),
])
def test_public_identities_only_on_a_launched_or_loopback_target(launcher, declared, url, public):
    profile = TargetProfile(api="a", name="t", launcher=launcher, identities=declared)
    assert identities_public(profile, url) is public


def test_a_public_identity_paired_with_the_secret_is_still_redacted():
    canary = Canary.new()
    scrub = Scrubber([canary.secret], ["alice"], personal=False)
    assert scrub("/users/alice/repos") == "/users/alice/repos"
    assert scrub(f"alice:{canary.secret}") == REDACTED and scrub(canary.secret.lower()) == REDACTED

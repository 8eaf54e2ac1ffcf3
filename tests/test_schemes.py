"""Declarative auth schemes, state families, static headers and query values — on real servers.

Each test writes a throw-away project whose api.yaml declares the scheme the way a user would
(YAML only), runs the real pipeline against ``tests/servers/schemes.py`` on 127.0.0.1, and checks
the matrix, the verdicts and what the site says. Secrets are canaries whose encoded forms differ
from the raw ones.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from catalog.answers.presentations import api_presentations, target_findings
from catalog.engine.runner import RunOptions
from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, load_catalog, load_publication, probe
from catalog.runs.results import TargetRun
from tests.servers.schemes import SchemeServer
from tests.support.project import make_project

ENDPOINTS: list[dict[str, Any]] = [
    {"id": "listItems", "method": "GET", "path": "/api/items", "collection": "/items"},
    {"id": "whoAmI", "method": "GET", "path": "/api/me", "actor_fields": ["/actor"]},
    {"id": "tenants", "method": "GET", "path": "/api/tenants"},
]
BAD = ("malformed", "unknown-token")


def canary() -> str:
    return f"Sec~{secrets.token_hex(6)}@+/=UP"


class Run:
    def __init__(self, root: Path, run: TargetRun, server: SchemeServer, secret: str):
        self.root, self.run, self.server, self.secret = root, run, server, secret

    def outcomes(self, endpoint_id: str) -> dict[str, str]:
        return {s: c.outcome for s, c in self.run.endpoints[endpoint_id].cells.items()}

    def verdict(self, endpoint_id: str) -> str:
        return self.run.endpoints[endpoint_id].verdict

    def stored(self) -> str:
        return (self.root / "site" / "data" / "observations" / "api" / "local.json").read_text()


def run_api(root: Path, server: SchemeServer, api: dict[str, Any], target: dict[str, Any] | None = None,
            identity: str | None = None) -> Run:
    env = f"SCH_{secrets.token_hex(3).upper()}"
    valid: dict[str, Any] = {"secret": {"env": f"{env}_SECRET"}}
    if identity:
        valid["identity"] = {"env": f"{env}_ID"}
    # The operator names the origin (an environment variable): only there do credentials go.
    profile = {"name": "local", "base_url_env": f"{env}_URL", "credentials": {"valid": valid}, "timeout": 5,
               "retries": 0, **(target or {})}
    make_project(root, "api", ENDPOINTS, profile, api)
    os.environ[f"{env}_URL"] = server.url
    os.environ[f"{env}_SECRET"] = server.secret
    if identity:
        os.environ[f"{env}_ID"] = identity
    try:
        runs, _ = probe(Project(root), Hooks(), RunOptions(log=lambda m: None))
    finally:
        os.environ.pop(f"{env}_SECRET", None)
        os.environ.pop(f"{env}_URL", None)
        os.environ.pop(f"{env}_ID", None)
    [run] = runs
    return Run(root, run, server, server.secret)


# --------------------------------------------------------------------------------------------
# Families: presentations of the valid secret never decide a verdict
# --------------------------------------------------------------------------------------------


def test_accepted_presentations_do_not_make_a_verdict_mixed(tmp_path):
    """An SSWS-keyword API (Okta's scheme) that also takes `ssws`, `Bearer` and `?access_token=`:
    every bad credential is refused, so it fails closed; the presentations are summarised apart."""
    secret = canary()
    with SchemeServer(("keyword", "SSWS"), secret, accepts=("any-case", "bearer", "access_token")) as server:
        got = run_api(tmp_path / "p", server, {"scheme": {"keyword": "SSWS", "query_parameter": "access_token"}})
    items = got.outcomes("listItems")
    assert items["valid"] == "as-valid" and items["anonymous"] == "rejected"
    assert {items[s] for s in BAD} == {"rejected"}
    assert items["scheme-case"] == items["wrong-scheme"] == items["query-parameter"] == "as-valid"
    assert items["wrong-identity"] == "n/a"  # an SSWS token is its own identity
    assert got.run.states["wrong-identity"]["reason"].endswith("the token is its own identity")
    assert got.verdict("listItems") == "fails-closed" and got.verdict("tenants") == "fails-closed"
    assert got.run.states["query-parameter"] == {"available": True, "family": "presentation"}
    # The query presentation really went as ?access_token=<secret>, with no Authorization header.
    sent = [(q, {k.lower() for k in h}) for path, q, h in server.requests if "access_token" in q]
    assert sent and all(q["access_token"] == [secret] and "authorization" not in h for q, h in sent)
    # The token check finds the endpoints (on the old main "mixed" left it with "none found").
    hooks = Hooks()
    publication = load_publication(Project(tmp_path / "p"), hooks)
    catalog = publication.data
    answers = publication.answers["api"].target("local")
    assert answers is not None
    assert {c.path for c in answers.token_check.candidates} >= {"/api/items", "/api/tenants"}
    rows = {state: agreed for state, agreed, _ in api_presentations(catalog.apis["api"]).rows}
    assert rows["wrong-scheme"].startswith("accepts the secret under Bearer too")
    assert rows["query-parameter"].startswith("accepts the secret as ?access_token=")
    assert rows["scheme-case"].startswith('accepts the scheme word in another case ("ssws" for "SSWS")')
    # The same in the export, per target (never part of a verdict).
    from catalog.site.export import export_data

    [target] = export_data(publication)["apis"][0]["targets"]
    found = {p["state"]: p["verdict"] for p in target["presentations"]}
    assert found == {"scheme-case": "accepts", "wrong-scheme": "accepts", "query-parameter": "accepts"}
    assert secret not in got.stored() and quote(secret, safe="") not in got.stored()


def test_a_bearer_api_that_honours_rfc_7235_fails_closed(tmp_path):
    """The built-in `bearer` preset against a server that takes `bearer` in any case, as RFC 7235
    says: on the old main the accepted `scheme-case` made every endpoint `mixed`."""
    secret = canary()
    with SchemeServer(("keyword", "Bearer"), secret, accepts=("any-case",)) as server:
        got = run_api(tmp_path / "p", server, {"scheme": "bearer"})
    items = got.outcomes("listItems")
    assert items["scheme-case"] == "as-valid" and {items[s] for s in BAD} == {"rejected"}
    assert got.verdict("listItems") == "fails-closed" and got.verdict("whoAmI") == "fails-closed"
    assert got.run.endpoints["listItems"].reason == "every bad credential is rejected"


def test_a_case_sensitive_keyword_is_the_finding_not_a_fallback(tmp_path):
    secret = canary()
    with SchemeServer(("keyword", "SSWS"), secret) as server:
        got = run_api(tmp_path / "p", server, {"scheme": {"keyword": "SSWS"}})
    items = got.outcomes("listItems")
    assert items["scheme-case"] == "rejected" and items["wrong-scheme"] == "rejected"
    assert items["query-parameter"] == "n/a"
    assert "declares no query parameter" in got.run.states["query-parameter"]["reason"]
    assert got.verdict("listItems") == "fails-closed"
    [case] = [f for f in target_findings(got.run) if f.state == "scheme-case"]
    assert case.verdict == "refuses" and case.refused == ["listItems", "tenants", "whoAmI"]
    hooks = Hooks()
    catalog = load_catalog(Project(tmp_path / "p"), hooks)
    rows = {state: agreed for state, agreed, _ in api_presentations(catalog.apis["api"]).rows}
    assert "RFC 7235 §2.1" in rows["scheme-case"] and rows["scheme-case"].startswith("refuses")


def test_a_bad_credential_answered_with_500_counts_as_closed_and_is_named(tmp_path):
    secret = canary()
    with SchemeServer(("keyword", "Bearer"), secret, crash_on="!!!") as server:
        got = run_api(tmp_path / "p", server, {"scheme": "bearer"})
    items = got.outcomes("listItems")
    assert items["malformed"] == "server-error" and items["unknown-token"] == "rejected"
    result = got.run.endpoints["listItems"]
    assert result.verdict == "fails-closed"  # no data was served to a bad credential
    assert result.reason == "every bad credential is rejected, though malformed got a 5xx (server-error): no data served"


# --------------------------------------------------------------------------------------------
# Declared schemes: keyword with a template, named header, query parameter, cookie
# --------------------------------------------------------------------------------------------


def test_a_declared_basic_template_swaps_the_identity(tmp_path):
    secret, identity = canary(), "Me+You@Example.COM"
    scheme = {"keyword": "Basic", "value": "{identity}:{secret}", "encoding": "base64"}
    with SchemeServer(("basic", None), secret, identity=identity) as server:
        got = run_api(tmp_path / "p", server, {"scheme": scheme}, identity=identity)
    items = got.outcomes("listItems")
    assert items["valid"] == "as-valid"
    assert items["wrong-identity"] == "rejected"  # the same secret under another identity
    assert items["scheme-case"] == "rejected"  # this server reads `Basic` only
    assert got.verdict("listItems") == "fails-closed"


@pytest.mark.parametrize("declared, where", [
    ({"header": "PRIVATE-TOKEN"}, ("header", "PRIVATE-TOKEN")),
    ({"query": "api_key"}, ("query", "api_key")),
    ({"cookie": "sid"}, ("cookie", "sid")),
])
def test_a_key_in_a_named_header_query_parameter_or_cookie(tmp_path, declared, where):
    secret = canary()
    with SchemeServer(where, secret) as server:
        got = run_api(tmp_path / "p", server, {"scheme": declared})
    items = got.outcomes("listItems")
    assert items["valid"] == "as-valid" and items["anonymous"] == "rejected"
    assert {items[s] for s in BAD} == {"rejected"}
    assert items["scheme-case"] == "n/a" and "no scheme word" in got.run.states["scheme-case"]["reason"]
    assert items["wrong-scheme"] == "rejected"  # the secret as `Authorization: Bearer` is not read here
    assert got.verdict("listItems") == "fails-closed"
    valid_requests = [(q, h) for _, q, h in server.requests if secret in json.dumps([q, h])]
    assert valid_requests  # the secret travelled where the scheme says, decoded intact by the server
    stored = got.stored()
    assert secret not in stored and quote(secret, safe="") not in stored


# --------------------------------------------------------------------------------------------
# Static headers and query values
# --------------------------------------------------------------------------------------------


def test_static_headers_from_the_api_and_the_target(tmp_path):
    """Every request carries the API-version header; the target's value wins over the API's."""
    secret = canary()
    with SchemeServer(("keyword", "Bearer"), secret, require_header=("X-Api-Version", "2024-01-01")) as server:
        got = run_api(tmp_path / "p", server, {"scheme": "bearer", "headers": {"X-Api-Version": "1999"}},
                      target={"headers": {"X-Api-Version": "2024-01-01"}})
        sent = [{k.lower(): v for k, v in h.items()} for _, _, h in server.requests]
    assert sent and all(h.get("x-api-version") == "2024-01-01" for h in sent)
    assert got.outcomes("listItems")["valid"] == "as-valid"
    assert got.verdict("listItems") == "fails-closed"


def test_a_static_query_value_is_discovered_like_a_path_parameter(tmp_path):
    secret, tenant = canary(), "T~1@+/=x"
    with SchemeServer(("keyword", "Bearer"), secret, require_query=("tenant", tenant)) as server:
        got = run_api(tmp_path / "p", server, {"scheme": "bearer", "query": {"format": "json"}},
                      target={"query": {"tenant": {"from": {"endpoint": "tenants", "pointer": "/tenants/0/id"}}}})
        probed = [q for path, q, _ in server.requests if path == "/api/items"]
    assert probed and all(q["tenant"] == [tenant] and q["format"] == ["json"] for q in probed)
    assert got.outcomes("listItems")["valid"] == "as-valid"
    assert got.verdict("listItems") == "fails-closed"


def test_an_undiscoverable_static_query_value_says_why(tmp_path):
    secret = canary()
    with SchemeServer(("keyword", "Bearer"), secret, require_query=("tenant", "t1")) as server:
        got = run_api(tmp_path / "p", server, {"scheme": "bearer"},
                      target={"query": {"tenant": {"from": {"endpoint": "tenants", "pointer": "/nope"}}}})
    result = got.run.endpoints["listItems"]
    assert result.verdict == "not-probed"
    assert result.reason == "cannot discover query tenant: tenants's valid answer has nothing at /nope"

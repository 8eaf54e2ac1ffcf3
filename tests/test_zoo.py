"""The zoo (tests/servers/zoo.py): one small real server per behaviour, run through the whole
pipeline, with the matrix, verdicts, signals and token check each behaviour must produce."""

from __future__ import annotations

import pytest

from catalog.answers.columns import bad_state_order
from catalog.answers.questions import api_questions
from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, load_catalog
from tests.servers.zoo import VERSION
from tests.servers.zoo_project import run_zoo

BAD = ("malformed", "unknown-token", "wrong-scheme", "expired")


def test_version_only_in_a_header(tmp_path):
    """The server states its version in a header only: the run records it and says where."""
    zoo = run_zoo(tmp_path / "p", "version-header")
    assert zoo.run.version == VERSION
    assert zoo.run.meta["version_source"] == "header X-Server-Version of GET /api/status"
    assert zoo.target.version == VERSION


def test_version_only_in_html(tmp_path):
    endpoints = [{"id": "about", "method": "GET", "path": "/about"},
                 {"id": "status", "method": "GET", "path": "/api/status"}]
    zoo = run_zoo(tmp_path / "p", "version-header", endpoints=endpoints,
                  target={"version_from": {"endpoint": "about", "pattern": r"zoo server v([0-9][^<\s]*)"}})
    assert zoo.run.version == VERSION
    assert zoo.run.meta["version_source"] == "pattern in the body of GET /about"


def test_version_literal_and_never_blank(tmp_path):
    literal = run_zoo(tmp_path / "a", "bearer-only", target={"version": "2.0-literal"})
    assert literal.run.version == "2.0-literal" and "profile" in literal.run.meta["version_source"]
    # Nothing states a version: "unknown", with why, never a blank.
    missing = run_zoo(tmp_path / "b", "bearer-only", target={"version_from": {"endpoint": "status", "header": "X-Nope"}})
    assert missing.run.version == "unknown"
    assert missing.run.meta["version_source"] == "unknown: nothing found in the header X-Nope of GET /api/status"


def test_a_server_that_ignores_credentials_is_not_called_public(tmp_path):
    zoo = run_zoo(tmp_path / "p", "ignores")
    # Every state, bad ones included, gets exactly the valid answer, which anonymous callers get
    # too: the baselines read as-valid, every other state as ignored (served like everyone).
    for endpoint_id in ("listItems", "whoAmI", "status"):
        outcomes = zoo.outcomes(endpoint_id)
        assert outcomes["anonymous"] == "as-valid"
        assert {o for s, o in outcomes.items() if s not in ("valid", "anonymous")} <= {"ignored", "n/a"}
        assert outcomes["unknown-token"] == "ignored"
    # Not `public`: the valid credential was never recognised (actor: null, and /api/items is
    # documented as needing a credential yet anonymous callers get the same three items).
    assert set(zoo.verdicts().values()) == {"inconclusive"}
    target = zoo.target
    assert not target.recognition.recognised
    assert any("/actor is null" in e for e in target.recognition.evidence)
    assert any("GET /api/items: documented as needing a credential" in e for e in target.recognition.evidence)
    assert target.token_check.candidates == [] and "never recognised" in (target.token_check.reason or "")
    assert target.signals == ()
    assert zoo.run.meta["credential"]["recognised"] is False


def test_a_key_sent_where_the_server_does_not_look_is_never_recognised(tmp_path):
    """The API reads its key from X-Api-Key; a profile that presents it as Basic gets answers
    equal to anonymous ones everywhere: said on the target, no verdict claims anything."""
    zoo = run_zoo(tmp_path / "p", "key-header", api={"scheme": "basic"})
    assert not zoo.target.recognition.recognised
    assert "public" not in zoo.verdicts().values()


def test_case_sensitive_scheme(tmp_path):
    zoo = run_zoo(tmp_path / "p", "case-sensitive")
    items = zoo.outcomes("listItems")
    assert items["valid"] == "as-valid" and items["anonymous"] == "rejected"
    assert {items[s] for s in BAD} == {"rejected"}
    assert items["scheme-case"] == "rejected"  # `bearer` refused: RFC 7235 says it should not be
    assert items["unprivileged"] == "empty"
    assert items["wrong-identity"] == "n/a"
    assert zoo.verdicts() == {"listItems": "fails-closed", "status": "public", "whoAmI": "fails-closed"}
    assert [c.path for c in zoo.target.token_check.candidates] == ["/api/me", "/api/items"]
    assert "/actor is not null" in {s.label() for s in zoo.target.recommended}


@pytest.mark.parametrize("behaviour", ["bearer-only", "version-header"])
def test_bearer_only(tmp_path, behaviour):
    zoo = run_zoo(tmp_path / "p", behaviour)
    items = zoo.outcomes("listItems")
    # The secret under Basic is refused; a Bearer token has no separate identity to swap.
    assert items["wrong-scheme"] == "rejected" and items["wrong-identity"] == "n/a"
    assert {items[s] for s in ("malformed", "unknown-token", "expired")} == {"rejected"}
    assert items["scheme-case"] == "as-valid"  # `bearer` accepted, as RFC 7235 §2.1 says
    # Presentations of the valid secret decide no verdict: every bad credential is refused.
    assert zoo.verdicts() == {"listItems": "fails-closed", "status": "public", "whoAmI": "fails-closed"}
    assert [c.path for c in zoo.target.token_check.candidates] == ["/api/me", "/api/items"]
    assert "/actor is not null" in {s.label() for s in zoo.target.recommended}


def test_two_targets_of_one_api_are_answered_apart(tmp_path):
    """One API, two servers (two configurations): each target keeps its own token check and
    signals, and the summary says where they differ — never one rule over both."""
    from catalog.hooks.manager import Hooks
    from catalog.pipeline import Project, load_publication

    first = run_zoo(tmp_path / "p", "case-sensitive")
    # A second target of the same API in the same project: the server that ignores credentials.
    second = run_zoo(tmp_path / "q", "ignores")
    data = tmp_path / "p" / "site" / "data" / "observations" / "zoo"
    moved = (tmp_path / "q" / "site" / "data" / "observations" / "zoo" / "zoo.json").read_text()
    (data / "proxy.json").write_text(moved.replace('"target": "zoo"', '"target": "proxy"'))
    hooks = Hooks()
    answers = load_publication(Project(tmp_path / "p"), hooks).answers["zoo"]
    names = [t.target for t in answers.targets]
    assert sorted(names) == ["proxy", "zoo"]
    zoo, proxy = answers.target("zoo"), answers.target("proxy")
    assert zoo is not None and proxy is not None
    assert [c.path for c in zoo.token_check.candidates] == [c.path for c in first.target.token_check.candidates]
    assert proxy.token_check.candidates == [] and not proxy.recognition.recognised
    assert answers.summary.unrecognised.keys() == {"proxy"}
    assert second.target.signals == ()


def test_envelope_with_several_auth_codes_and_non_auth_errors(tmp_path):
    """Every answer is a 200. The declared auth-failure rule (``error`` one of three codes) makes
    the refusals ``rejected-in-body``; an error that is not about auth is never one."""
    zoo = run_zoo(tmp_path / "p", "envelope")
    items = zoo.outcomes("listItems")
    assert {items[s] for s in ("anonymous", "malformed", "unknown-token", "wrong-scheme", "expired")} == {"rejected-in-body"}
    assert items["valid"] == "as-valid" and items["unprivileged"] == "empty"
    assert items["scheme-case"] == "as-valid"
    missing = zoo.outcomes("missing")
    assert missing["valid"] == missing["unprivileged"] == "client-error"  # channel_not_found
    assert missing["unknown-token"] == "rejected-in-body"
    rules = {s: c.note for s, c in zoo.run.endpoints["missing"].cells.items() if c.outcome != "n/a"}
    assert "other-error" in rules["valid"] and "auth-refused" in rules["unknown-token"]
    assert zoo.verdicts() == {"listItems": "fails-closed", "missing": "inconclusive", "status": "public",
                              "whoAmI": "fails-closed"}
    # The token check never names the endpoint whose valid answer is an error.
    assert [c.path for c in zoo.target.token_check.candidates] == ["/api/me", "/api/items"]
    assert "status 2xx" not in {s.label() for s in zoo.target.recommended}  # every answer is a 200
    assert "/actor is not null" in {s.label() for s in zoo.target.recommended}


def test_required_static_header(tmp_path):
    """The server answers 400 to anything without `X-Api-Version: 2`; declared in api.yaml it is
    sent on every probe and the matrix is the server's real auth behaviour."""
    zoo = run_zoo(tmp_path / "p", "static-header")
    assert all(path for path, _ in zoo.server.requests)
    assert {h.get("x-api-version") for _, h in zoo.server.requests} == {"2"}
    items = zoo.outcomes("listItems")
    assert items["valid"] == "as-valid" and {items[s] for s in ("malformed", "unknown-token", "expired")} == {"rejected"}
    assert zoo.verdicts() == {"listItems": "fails-closed", "status": "public", "whoAmI": "fails-closed"}
    assert [c.path for c in zoo.target.token_check.candidates] == ["/api/me", "/api/items"]


@pytest.mark.parametrize(("behaviour", "where"), [("key-header", "header"), ("key-query", "query")])
def test_key_in_a_custom_header_or_query_parameter(tmp_path, behaviour, where):
    zoo = run_zoo(tmp_path / "p", behaviour)
    carried = {"header": lambda path, h: bool(h.get("x-api-key")), "query": lambda path, h: "api_key=" in path}[where]
    assert any(carried(path, h) for path, h in zoo.server.requests)
    items = zoo.outcomes("listItems")
    assert items["valid"] == "as-valid" and items["anonymous"] == "rejected"
    assert {items[s] for s in ("malformed", "unknown-token", "expired")} == {"rejected"}
    # No Authorization keyword: no scheme word to change the case of, no identity to swap.
    assert items["scheme-case"] == "n/a" and items["wrong-identity"] == "n/a"
    assert zoo.verdicts() == {"listItems": "fails-closed", "status": "public", "whoAmI": "fails-closed"}
    assert zoo.target.recognition.recognised
    assert [c.path for c in zoo.target.token_check.candidates] == ["/api/me", "/api/items"]
    assert "/actor is not null" in {s.label() for s in zoo.target.recommended}


def test_an_api_that_reports_authentication_in_one_status_field_gets_that_check(tmp_path):
    """Every answer is a 200 whatever the credential; only GET /api/status says in its body how the
    credential was read. Pooled over every endpoint the field is absent almost everywhere; scored
    on that endpoint alone it is right every time, so the token check (Q2) and the fallback
    signals (Q3) name the endpoint and the field."""
    zoo = run_zoo(tmp_path / "p", "status-field")
    assert zoo.verdicts()["status"] != "fails-closed"  # the status code never tells
    target = zoo.target
    fields = [s for s in target.recommended if s.one_endpoint == ("GET", "/api/status")]
    ok = next(s for s in fields if s.value == "ok")
    assert ok.name == "/result/authstatus/0" and ok.meaning == "credential accepted"
    assert ok.correct == ok.checked >= 3 and ok.scope == "answers of GET /api/status"
    best = target.token_check.candidates[0]
    assert (best.method, best.path, best.refusal) == ("GET", "/api/status", "body field")
    assert "/result/authstatus/0" in (best.reads or "")
    catalog = load_catalog(Project(zoo.root), Hooks())
    questions = {q.key: q for q in api_questions(catalog.apis["zoo"], zoo.answers.targets, bad_state_order(catalog))}
    q2 = [line.text for line in questions["token-check"].lines if line.kind == "observed"]
    assert q2[0].startswith("call `GET /api/status`, read `body /result/authstatus/0: ok`"), q2
    q3 = [line.text for line in questions["fallback-signal"].lines if line.kind == "observed"]
    assert any(t.startswith("call `GET /api/status`, read `body /result/authstatus/0: ok`") for t in q3), q3

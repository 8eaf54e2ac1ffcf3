"""Answers are computed per target and summarised per API (design.md, "What the catalog answers"):
two targets of one API are never pooled into one rule, and a credential a server never read is
said on the target instead of `public` verdicts and a token check."""

from __future__ import annotations

from catalog.answers.per_target import signals_per_target
from catalog.answers.publication import api_answers
from catalog.answers.recognition import mark_unrecognised, recognition
from catalog.answers.signals import find_signals
from catalog.definitions.loader import ApiDefinition
from catalog.model.definition import Api, Documented, Endpoint
from catalog.runs.results import ApiCatalog, TargetRun
from tests.support.runs import cell, result


def _endpoint(eid, path, anonymous=None, actor=()) -> Endpoint:
    return Endpoint(api="widgets", id=eid, method="GET", path=path, group="Widgets",
                    actor_fields=tuple(actor), documented=Documented(anonymous=anonymous))


ENDPOINTS = [_endpoint("listWidgets", "/widgets", anonymous=False), _endpoint("whoAmI", "/me", actor=["/actor"])]


def _run(target: str, accepted_header: str, results) -> TargetRun:
    run = TargetRun("widgets", target, {"date": "2026-01-01T00:00:00Z", "target_version": "1"},
                    {"valid": {"available": True}}, {r.endpoint_id: r for r in results})
    by_id = {e.id: e for e in ENDPOINTS}
    for r in run.endpoints.values():
        r.endpoint = by_id[r.endpoint_id]
    return run


def _target(target: str, header: str) -> TargetRun:
    """One configuration of the widgets server: ``header`` only on accepted answers; a wrong
    identity is served the anonymous (empty) list, an unknown token is refused."""
    me = {header: "(present)"}
    widgets = result("listWidgets", "/widgets", "mixed", [
        cell("valid", "as-valid", sha="v" * 64, headers=me, count=3),
        cell("anonymous", "empty", sha="e" * 64, count=0),
        cell("unknown-token", "rejected", status=401, sha="r" * 64),
        cell("wrong-identity", "empty", sha="e" * 64, count=0),
        cell("unprivileged", "empty", sha="e" * 64, headers=me, count=0),
    ])
    whoami = result("whoAmI", "/me", "fails-closed", [
        cell("valid", "as-valid", sha="m" * 64, headers=me, fields={"/actor": "present"}),
        cell("anonymous", "rejected", status=401, sha="r" * 64),
        cell("unknown-token", "rejected", status=401, sha="r" * 64),
        cell("wrong-identity", "rejected", status=401, sha="r" * 64),
        cell("unprivileged", "as-valid", sha="u" * 64, headers=me, fields={"/actor": "present"}),
    ])
    return _run(target, header, [widgets, whoami])


def _api(*runs) -> ApiCatalog:
    return ApiCatalog(ApiDefinition(Api("widgets", "Widgets"), list(ENDPOINTS)), list(runs))


def test_each_target_keeps_its_own_signal_and_the_summary_says_they_differ():
    a, b = _target("eu", "x-user-id"), _target("us", "x-account")
    pooled = find_signals([*a.endpoints.values(), *b.endpoints.values()])
    # The old way: one rule over both targets. Neither header holds on the other target's answers.
    assert not any(s.recommended and s.name in ("x-user-id", "x-account") for s in pooled)
    answers = api_answers(_api(a, b), signals_per_target(_api(a, b), find_signals))
    eu, us = answers.target("eu"), answers.target("us")
    assert "x-user-id present" in {s.label() for s in eu.recommended}
    assert "x-account present" in {s.label() for s in us.recommended}
    assert not any(s.name == "x-account" for s in eu.signals)
    differences = {(d.topic, d.subject): d for d in answers.summary.differences()}
    d = differences[("signal", "x-user-id present (credential accepted)")]
    assert d.holds_on == ("eu",) and set(d.differs_on) == {"us"}
    # Both targets agree /me checks a token: an agreement, named once, with both targets.
    agreed = {a.subject: a for a in answers.summary.agreements()}
    assert agreed["GET /me checks a token"].holds_on == ("eu", "us")
    assert any("x-user-id present" in s and "only" in s for s in answers.summary.sentences())


def test_a_token_check_on_one_target_only_is_a_difference():
    a, b = _target("eu", "x-user-id"), _target("us", "x-user-id")
    b.endpoints["whoAmI"].cells["wrong-identity"] = cell("wrong-identity", "as-anonymous", sha="n" * 64)
    b.endpoints["whoAmI"].verdict = "mixed"
    answers = api_answers(_api(a, b), signals_per_target(_api(a, b), find_signals))
    assert [c.path for c in answers.target("eu").token_check.candidates] == ["/me"]
    assert answers.target("us").token_check.candidates == []
    check = next(d for d in answers.summary.differences() if d.topic == "token check")
    assert check.holds_on == ("eu",) and check.differs_on == {"us": "GET /me is mixed"}


def _ignoring(target="proxy") -> TargetRun:
    """A server that ignores the credential: everybody gets the same answers, `actor: null`."""
    same = {"sha": "s" * 64, "count": 2}
    states = ("valid", "anonymous", "unknown-token", "malformed", "unprivileged")
    widgets = result("listWidgets", "/widgets", "public", [cell(s, "as-valid", **same) for s in states])
    whoami = result("whoAmI", "/me", "public", [
        cell(s, "as-valid", sha="n" * 64, fields={"/actor": "null"}) for s in states
    ])
    return _run(target, "", [widgets, whoami])


def test_a_credential_never_recognised_is_said_instead_of_public():
    run = _ignoring()
    found = recognition(run)
    assert not found.recognised
    assert any("/actor is null" in e for e in found.evidence)
    assert any("documented as needing a credential" in e for e in found.evidence)
    mark_unrecognised(run)
    assert {r.verdict for r in run.endpoints.values()} == {"inconclusive"}
    assert run.meta["credential"]["recognised"] is False
    answers = api_answers(_api(run), signals_per_target(_api(run), find_signals))
    mine = answers.target("proxy")
    assert mine is not None and not mine.recognition.recognised and mine.signals == ()
    assert mine.token_check.candidates == [] and "never recognised" in (mine.token_check.reason or "")
    assert answers.summary.unrecognised == {"proxy": found.reason}


def test_a_public_api_whose_caller_is_named_is_recognised():
    run = _ignoring()
    for r in run.endpoints.values():
        r.cells["valid"].observation.fields = {"/actor": "present"} if r.endpoint_id == "whoAmI" else {}
    run.endpoints["listWidgets"].endpoint = _endpoint("listWidgets", "/widgets", anonymous=True)
    assert recognition(run).recognised
    mark_unrecognised(run)
    assert {r.verdict for r in run.endpoints.values()} == {"public"}

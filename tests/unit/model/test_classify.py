"""The outcome rules and verdicts of design.md, on hand-made observations (pure logic)."""

from __future__ import annotations

import pytest

from catalog.model.definition import Api, Endpoint
from catalog.model.judgement import default_judge, verdict
from catalog.model.observation import Observation

API = Api("demo", "Demo")
LIST = Endpoint(api="demo", id="list", method="GET", path="/things", group="g", collection="/values")


def obs(status, sha="v", count=None, **kw):
    return Observation(status=status, body_sha256=sha, count=count, **kw)


V = obs(200, "valid-body", 3)
A = obs(200, "anon-body", 0)


@pytest.mark.parametrize(
    "o, expected",
    [
        (obs(401), "rejected"),
        (obs(403), "forbidden"),
        (obs(404), "hidden"),
        (obs(200, "other", 0), "empty"),
        (obs(200, "valid-body", 3), "as-valid"),
        (obs(200, "other", 1), "partial"),
        (obs(302, location_origin="https://elsewhere.example"), "redirect"),
        (obs(400), "client-error"),
        (obs(429), "rate-limited"),
        (obs(503), "server-error"),
        (Observation(status=None, error="timeout: no complete answer"), "error"),
    ],
)
def test_outcomes(o, expected):
    assert default_judge("unknown-token", o, V, A, LIST, API).outcome == expected


def test_as_anonymous_needs_a_body_equal_to_anonymous_but_not_valid():
    plain = Endpoint(api="demo", id="p", method="GET", path="/p", group="g")
    anon = obs(200, "anon-body")
    assert default_judge("revoked", obs(200, "anon-body"), obs(200, "valid-body"), anon, plain, API).outcome == "as-anonymous"


def test_a_bad_credential_served_what_everybody_gets_is_ignored_not_as_valid():
    # A public endpoint: valid equals anonymous. A bad credential served that answer was never
    # checked (the silent fallback on a public endpoint), never "accepted as if valid".
    plain = Endpoint(api="demo", id="p", method="GET", path="/p", group="g")
    same = obs(200, "same-body")
    for state in ("revoked", "malformed", "scheme-case", "unprivileged"):
        assert default_judge(state, obs(200, "same-body"), same, obs(200, "same-body"), plain, API).outcome == "ignored"
    # The baselines keep as-valid: anonymous equal to valid is what makes the verdict `public`.
    assert default_judge("anonymous", obs(200, "same-body"), same, same, plain, API).outcome == "as-valid"
    assert verdict({"valid": "as-valid", "anonymous": "as-valid", "revoked": "ignored"}, same)[0] == "public"
    # Where anonymous gets something else, the valid answer means accepted as if valid.
    assert default_judge("revoked", obs(200, "same-body"), same, obs(401), plain, API).outcome == "as-valid"
    assert default_judge("revoked", obs(200, "same-body"), same, obs(200, "anon"), plain, API).outcome == "as-valid"


def test_rejected_in_body_wins_over_a_2xx_comparison():
    o = obs(200, "valid-body", 3, fields={"auth-failure": "yes"})
    assert default_judge("revoked", o, V, A, LIST, API).outcome == "rejected-in-body"


def test_without_a_valid_baseline_a_2xx_is_inconclusive():
    judged = default_judge("revoked", obs(200, "x", 0), obs(500), A, LIST, API)
    assert judged.outcome == "inconclusive" and "500" in judged.note


def test_empty_valid_collection_makes_it_inconclusive_and_says_which_fixture():
    judged = default_judge("revoked", obs(200, "x", 0), obs(200, "y", 0), A, LIST, API)
    assert judged.outcome == "inconclusive" and "fixture" in judged.note


def test_404_without_valid_2xx_is_not_hidden():
    assert default_judge("revoked", obs(404), obs(404), A, LIST, API).outcome == "client-error"


def test_verdicts():
    ok = obs(200)
    assert verdict({"valid": "as-valid", "anonymous": "empty", "revoked": "rejected", "malformed": "hidden"}, ok)[0] == "fails-closed"
    assert verdict({"valid": "as-valid", "anonymous": "empty", "revoked": "empty", "malformed": "as-anonymous"}, ok)[0] == "falls-open"
    assert verdict({"valid": "as-valid", "anonymous": "empty", "revoked": "empty", "malformed": "rejected"}, ok)[0] == "mixed"
    assert verdict({"valid": "as-valid", "anonymous": "as-valid", "revoked": "rejected"}, ok)[0] == "public"
    assert verdict({"valid": "as-valid", "revoked": "n/a"}, ok)[0] == "inconclusive"
    assert verdict({"valid": "client-error"}, obs(404))[0] == "not-served"
    # unprivileged is a legitimate caller: it never makes an endpoint "mixed"
    assert verdict({"valid": "as-valid", "anonymous": "empty", "unprivileged": "empty", "revoked": "rejected"}, ok)[0] == "fails-closed"


def test_the_published_verdict_definitions_name_the_classifiers_own_sets():
    # The methodology page and catalog.json print VERDICTS: they must say what verdict() does.
    from catalog.model.judgement import CLOSED_WITH_ERROR, REJECTING, SERVED_2XX, VERDICTS

    for outcome in REJECTING | CLOSED_WITH_ERROR:
        assert outcome in VERDICTS["fails-closed"]
    for outcome in SERVED_2XX:
        assert outcome in VERDICTS["falls-open"] and outcome in VERDICTS["mixed"]
    # Every bad credential closed, one of them by a 5xx: fails-closed, and the reason says so.
    judged, why = verdict({"valid": "as-valid", "anonymous": "rejected", "malformed": "server-error",
                           "revoked": "rejected"}, obs(200))
    assert judged == "fails-closed" and "malformed got a 5xx (server-error): no data served" in why

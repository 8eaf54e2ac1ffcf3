"""Auth signals: found from observations alone, for any API, with honest counts."""

from __future__ import annotations

from catalog.answers.signals import ACCEPTED, REJECTED, find_signals, label_cells, recommended
from catalog.model.observation import Observation
from catalog.runs.results import Cell
from tests.support.runs import BASE_HEADERS, made_up_api


def by_label(signals):
    return {(s.meaning, s.label()): s for s in signals}


def test_a_made_up_api_gets_its_own_signals_back():
    signals = by_label(find_signals(made_up_api()))
    user = signals[(ACCEPTED, "x-user-id present")]
    assert user.recommended and user.kind == "header-present"
    # 2xx answers: valid ×3, unprivileged ×3 accepted; anonymous ×3, wrong-identity ×3, unknown-token ×2 not.
    assert (user.checked, user.correct, user.carried) == (14, 14, 6)
    assert user.states == ("unprivileged", "valid")
    refused = signals[(REJECTED, "x-auth-error: bad_token")]
    assert refused.recommended and refused.kind == "header-value" and refused.states == ("unknown-token",)
    # accepted (valid, unprivileged: 6) + anonymous (3) + every unknown-token answer (3)
    assert (refused.checked, refused.correct, refused.carried) == (12, 12, 3)
    actor = signals[(ACCEPTED, "/actor is not null")]
    assert actor.recommended and actor.endpoints == (("GET", "/me"),)
    assert (actor.checked, actor.correct) == (4, 4)  # the /me 2xx answers: valid, unprivileged, anonymous, wrong-identity


def test_a_header_on_any_credential_is_not_recommended():
    """A header the server sends whenever an Authorization header came (accepted or not) is a trap."""
    results = made_up_api()
    for r in results:
        for c in r.cells.values():
            if c.state != "anonymous":
                c.observation.headers["cache-control"] = "private"
    signals = by_label(find_signals(results))
    trap = signals[(ACCEPTED, "cache-control present")]  # value and presence alike: presence kept
    assert not trap.recommended
    assert trap.misses == 5 and "GET /widgets · wrong-identity" in trap.misclassified
    assert signals[(ACCEPTED, "x-user-id present")].recommended


def test_a_rejection_header_seen_on_an_accepted_answer_is_not_recommended():
    results = made_up_api()
    results[0].cells["valid"].observation.headers["x-auth-error"] = "bad_token"
    signals = by_label(find_signals(results))
    refused = signals[(REJECTED, "x-auth-error: bad_token")]
    assert not refused.recommended and refused.misses == 1


def test_labels_follow_the_evidence_not_the_state_name():
    """A scheme variant served the valid answer where the credential matters is accepted; on the
    public endpoint it takes the judgement it got elsewhere."""
    results = made_up_api()
    for r in results:
        valid = r.cells["valid"].observation
        r.cells["wrong-scheme"] = Cell("wrong-scheme", "as-valid", observation=Observation(
            status=valid.status, body_sha256=valid.body_sha256, headers=dict(valid.headers), fields=dict(valid.fields)))
    labels = {(s.endpoint_id, s.state): s.label for s in label_cells(results)}
    assert labels[("listWidgets", "wrong-scheme")] == "accepted"
    assert labels[("version", "wrong-scheme")] == "accepted"
    assert labels[("version", "unknown-token")] == "rejected"
    assert labels[("whoAmI", "anonymous")] == "anonymous"
    assert labels[("whoAmI", "unknown-token")] == "rejected"


def test_no_signal_when_nothing_separates():
    results = made_up_api()
    for r in results:
        for c in r.cells.values():
            c.observation.headers = dict(BASE_HEADERS)
            c.observation.fields = {}
    assert not [s for s in recommended(find_signals(results)) if s.kind != "status"]


def test_jira_on_backlot_accepted_and_rejected_signals(project):
    from catalog.hooks.manager import Hooks
    from catalog.pipeline import load_catalog

    catalog = load_catalog(project, Hooks())
    jira = catalog.apis["jira-cloud"]
    signals = by_label(Hooks().auth_signals(jira.definition.api, [r for run in jira.runs for r in run.endpoints.values()]))
    accepted = signals[(ACCEPTED, "x-aaccountid present")]
    rejected = signals[(REJECTED, "x-seraph-loginreason: AUTHENTICATED_FAILED")]
    for s in (accepted, rejected):
        assert s.recommended and s.misses == 0 and s.checked > 20, s
    assert {"unknown-token", "wrong-identity"} <= set(rejected.states)
    assert "anonymous" not in rejected.states and "valid" not in rejected.states
    assert {"valid", "unprivileged"} <= set(accepted.states)
    # The status code tells nothing on Jira: a 2xx is no sign of an accepted credential there.
    assert not signals[(ACCEPTED, "status 2xx")].recommended


def test_confluence_on_backlot_is_told_apart_by_status_codes(project):
    from catalog.hooks.manager import Hooks
    from catalog.pipeline import load_catalog

    catalog = load_catalog(project, Hooks())
    api = catalog.apis["confluence-cloud"]
    signals = find_signals(r for run in api.runs for r in run.endpoints.values())
    best = recommended(signals, ACCEPTED)
    assert [s.label() for s in best] == ["status 2xx"]
    assert best[0].correct == best[0].checked > 0

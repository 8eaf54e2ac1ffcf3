"""The reader's summary from the committed catalog: one sentence per API × bad state joining observed,
reported and documented evidence with numbered notes; contradictions between evidence kinds."""

from __future__ import annotations

import pytest

from catalog.answers.sentences import OBSERVED_VS_REPORTED, REPORT_VS_REPORT, phrase
from catalog.hooks.manager import Hooks
from catalog.pipeline import load_publication


@pytest.fixture(scope="module")
def summaries(tmp_path_factory):
    from catalog.pipeline import Project
    from tests.support.project import copy_project

    project = Project(copy_project(tmp_path_factory.mktemp("sentences") / "project"))
    return load_publication(project, Hooks()).in_short


def test_jira_revoked_joins_the_reports_the_unavailable_target_and_the_signal(summaries):
    jira = summaries["jira-cloud"]
    revoked = jira.by_state()["revoked"]
    text = revoked.text()
    assert text.startswith("Jira Cloud platform REST API, revoked: not observable on backlot (an emulator)")
    assert "accepted as if valid (it keeps working) on every endpoint (reported R1, R4)" in text
    assert "served as anonymous on GET /rest/api/3/project" in text and "(reported R5)" in text
    assert "watch " in text and "x-seraph-loginreason" in text.split("watch ")[1]
    # Nothing observed: the headline is the reports', labelled as such.
    assert (revoked.headline, revoked.headline_kind) == ("as-valid", "reported")
    # Every note number in the sentence is a note, and each report's note links to its source.
    notes = {n.number: n for n in jira.notes}
    cited = [n for c in revoked.clauses for n in c.notes]
    assert cited and all(n in notes for n in cited)
    r1 = next(n for n in jira.notes if n.label.startswith("R1,"))
    assert r1.href.startswith("https://community.atlassian.com/") and "about 20 minutes" in r1.text


def test_an_observed_state_says_what_each_target_answered_and_on_how_many(summaries):
    malformed = summaries["matrix"].by_state()["malformed"]
    # Synapse crashes on `Bearer !!!` on most endpoints; the writes that need no credential (login,
    # register, the requestToken family) answer before reading it.
    assert (malformed.headline, malformed.headline_kind) == ("server-error", "observed")
    assert malformed.share is not None and malformed.share[0] > 0.9 * malformed.share[1]
    text = malformed.text()
    assert "observed on synapse (a real server run locally)" in text
    assert f"crashed the server (500) on {malformed.share[0]} of {malformed.share[1]}" in text
    datasette = summaries["datasette"].by_state()["malformed"]
    assert datasette.share is not None and datasette.share[0] < datasette.share[1]  # not every endpoint alike


def test_contradictions_between_evidence_kinds_come_first_and_mark_their_states(summaries):
    jira = summaries["jira-cloud"]
    kinds = [c.kind for c in jira.contradictions]
    assert OBSERVED_VS_REPORTED in kinds and REPORT_VS_REPORT in kinds
    assert kinds == sorted(kinds, key=lambda k: k != OBSERVED_VS_REPORTED)
    # R5 says an unknown token got 401 on project search; R11 says 200 with an empty list.
    search = [c for c in jira.contradictions if c.kind == REPORT_VS_REPORT and c.state == "unknown-token"]
    assert search and "401 rejected" in search[0].detail and "200 empty" in search[0].detail
    assert jira.by_state()["unknown-token"].disagree
    assert not summaries["matrix"].by_state()["unknown-token"].disagree


def test_any_outcome_reads_even_one_without_a_phrase():
    assert phrase("rejected", 401) == "refused with 401"
    assert phrase("server-error", 502) == "crashed the server (502)"
    assert phrase("some-plugin-outcome") == "got some-plugin-outcome"

"""The stable vocabulary: outcomes, verdicts and state families are StrEnums with the JSON words."""

from __future__ import annotations

import json

from catalog.model.judgement import OUTCOMES, REJECTING, SERVED_2XX, VERDICTS
from catalog.model.vocabulary import Outcome, StateFamily, Verdict


def test_every_outcome_and_verdict_has_a_meaning_in_precedence_order():
    assert list(OUTCOMES) == list(Outcome)
    assert set(VERDICTS) == set(Verdict)
    assert set(Outcome) >= REJECTING | SERVED_2XX and not REJECTING & SERVED_2XX


def test_the_json_words_are_unchanged():
    # What site/data and catalog.json have always held: renaming a member must not change these.
    assert [o.value for o in Outcome] == [
        "rejected", "rejected-in-body", "forbidden", "hidden", "empty", "as-anonymous", "as-valid", "partial",
        "redirect", "client-error", "rate-limited", "server-error", "error", "inconclusive", "n/a"]
    assert [v.value for v in Verdict] == [
        "fails-closed", "falls-open", "mixed", "public", "inconclusive", "not-served", "not-probed"]
    assert [f.value for f in StateFamily] == ["legitimate", "presentation", "bad"]
    assert json.dumps({Outcome.AS_VALID: Verdict.FALLS_OPEN}) == '{"as-valid": "falls-open"}'
    assert f"{Outcome.NOT_AVAILABLE}" == "n/a" and Outcome("n/a") is Outcome.NOT_AVAILABLE

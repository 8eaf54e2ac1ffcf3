"""The stable vocabulary: outcomes, verdicts and state families are StrEnums with the JSON words."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from catalog.model.credentials import NotAvailable, TokenState
from catalog.model.judgement import CLOSED_WITH_ERROR, HIDDEN, OUTCOMES, REFUSED, REJECTING, SERVED_2XX, VERDICTS
from catalog.model.observation import Observation, same_answer
from catalog.model.vocabulary import BUILTIN_FAMILIES, Outcome, State, StateFamily, Verdict


def test_every_outcome_and_verdict_has_a_meaning_in_precedence_order():
    assert list(OUTCOMES) == list(Outcome)
    assert set(VERDICTS) == set(Verdict)
    assert set(Outcome) >= REJECTING | SERVED_2XX and not REJECTING & SERVED_2XX


def test_the_json_words_are_unchanged():
    # What site/data and catalog.json have always held: renaming a member must not change these.
    assert [o.value for o in Outcome] == [
        "rejected", "rejected-in-body", "forbidden", "hidden", "empty", "as-anonymous", "ignored", "as-valid", "partial",
        "redirect", "client-error", "rate-limited", "server-error", "error", "inconclusive", "n/a"]
    assert [v.value for v in Verdict] == [
        "fails-closed", "falls-open", "mixed", "public", "inconclusive", "not-served", "not-probed"]
    assert [f.value for f in StateFamily] == ["legitimate", "presentation", "bad"]
    assert json.dumps({Outcome.AS_VALID: Verdict.FALLS_OPEN}) == '{"as-valid": "falls-open"}'
    assert f"{Outcome.NOT_AVAILABLE}" == "n/a" and Outcome("n/a") is Outcome.NOT_AVAILABLE


def test_the_built_in_state_names_are_one_enum_with_a_family_each():
    assert [s.value for s in State] == [
        "valid", "anonymous", "unprivileged", "scheme-case", "wrong-scheme", "query-parameter", "malformed",
        "unknown-token", "wrong-identity", "expired", "revoked", "forged", "deactivated"]
    assert set(BUILTIN_FAMILIES) == set(State)
    assert {"valid": 1}[State.VALID] == 1 and json.dumps({State.UNKNOWN_TOKEN: 1}) == '{"unknown-token": 1}'
    # A state's name is a plain string even when it is made from the enum (it is written to files).
    assert type(TokenState(State.VALID, "", lambda scheme, creds: NotAvailable("")).name) is str


def test_refused_hidden_and_closed_with_an_error_are_one_set_each():
    assert {Outcome.REJECTED, Outcome.REJECTED_IN_BODY, Outcome.FORBIDDEN} == REFUSED
    assert {Outcome.HIDDEN} == HIDDEN
    assert {Outcome.CLIENT_ERROR, Outcome.SERVER_ERROR} == CLOSED_WITH_ERROR
    assert REJECTING == REFUSED | HIDDEN
    sets = (REFUSED, HIDDEN, CLOSED_WITH_ERROR, SERVED_2XX)
    assert all(not a & b for i, a in enumerate(sets) for b in sets[i + 1:]), "an outcome is in two sets"


def test_the_same_answer_is_the_same_status_and_the_same_body():
    a = Observation(status=200, body_sha256="x")
    assert same_answer(a, Observation(status=200, body_sha256="x"))
    assert not same_answer(a, Observation(status=201, body_sha256="x"))
    assert not same_answer(a, Observation(status=200, body_sha256="y"))
    assert not same_answer(a, None) and not same_answer(None, None)


def _bare_words(tree: ast.AST, words: frozenset[str]) -> list[int]:
    """Lines that compare a state, outcome or verdict with a word spelt as a string, or look a cell,
    state or observation up by one (``cells.get("valid")``)."""
    def bare(node: ast.AST | None) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in words
        if isinstance(node, ast.Tuple | ast.Set | ast.List):
            return any(bare(e) for e in node.elts)
        return False

    def named(node: ast.AST, parts: tuple[str, ...]) -> bool:
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
        return any(part in name for part in parts)

    judged = ("state", "outcome", "verdict")
    keyed = ("cells", "states", "observations", "outcomes")
    def spelt(node: ast.AST) -> bool:
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            return any(bare(n) for n in sides) and any(named(n, judged) for n in sides)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            return bool(node.args) and bare(node.args[0]) and named(node.func.value, keyed)
        return isinstance(node, ast.Subscript) and bare(node.slice) and named(node.value, keyed)

    return [getattr(node, "lineno", 0) for node in ast.walk(tree) if spelt(node)]


def test_the_code_names_states_outcomes_and_verdicts_by_the_enums():
    # One vocabulary: `State.VALID`, `Outcome.REJECTED`, `Verdict.MIXED`, never "valid" == state.
    words = frozenset({*State, *Outcome, *Verdict})
    root = Path(__file__).resolve().parents[3]  # the repository
    found = {}
    for path in sorted([*root.glob("catalog/**/*.py"), *root.glob("plugins/*.py")]):
        if path.name == "vocabulary.py":
            continue
        lines = _bare_words(ast.parse(path.read_text(encoding="utf-8")), words)
        if lines:
            found[str(path.relative_to(root))] = lines
    assert found == {}

"""Was the valid credential ever recognised on a target? (design.md, "What the catalog answers" 7)

A server that ignores the credential entirely (a proxy stripping the header, an auth plugin not
loaded, a token for another realm) answers the "valid" request exactly like an anonymous one. Its
endpoints would all come out ``public`` and a token check would be offered, both false. This
module says so instead, from two kinds of evidence on one target's observations:

* an **identity field** (an endpoint's ``actor_fields``) is null or absent in the valid answer,
  on every endpoint that declares one: the server named no caller;
* the valid answer equals the anonymous one on an endpoint **documented as needing a credential**.

Either counts only when no endpoint of the target told the valid credential apart from no
credential at all (a valid answer that differs from the anonymous one proves recognition).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.model.observation import same_answer
from catalog.model.vocabulary import State, Verdict
from catalog.runs.results import EndpointResult, TargetRun

UNRECOGNISED_REASON = "the valid credential was never recognised on this target"


@dataclass(frozen=True)
class Recognition:
    """The answer for one target: ``recognised`` False comes with the evidence, in words."""

    target: str
    recognised: bool
    reason: str = ""  # a sentence naming the evidence (empty when recognised)
    evidence: tuple[str, ...] = field(default_factory=tuple)  # "GET /path: /actor is null", …

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "recognised": self.recognised, "reason": self.reason,
                "evidence": list(self.evidence)}


def _differs_from_anonymous(result: EndpointResult) -> bool:
    valid, anon = result.cells.get(State.VALID), result.cells.get(State.ANONYMOUS)
    v = valid.observation if valid else None
    a = anon.observation if anon else None
    if v is None or v.status is None or a is None or a.status is None:
        return False
    return not same_answer(v, a)


def recognition(run: TargetRun) -> Recognition:
    """Whether ``run``'s valid credential was recognised, judged on its own observations only."""
    results = list(run.endpoints.values())
    valid_state = run.states.get(State.VALID, {})
    if not valid_state.get("available", True):
        return _without_valid(run, results, str(valid_state.get("reason") or "valid is n/a"))
    if any(_differs_from_anonymous(r) for r in results):
        return Recognition(run.target, True)
    evidence: list[str] = []
    identity_null = identity_named = 0
    for result in results:
        valid = result.cells.get(State.VALID)
        obs = valid.observation if valid else None
        endpoint = result.endpoint
        if obs is None or not obs.ok or endpoint is None:
            continue
        for pointer in endpoint.actor_fields:
            state = obs.fields.get(pointer)
            if state in ("null", "absent"):
                identity_null += 1
                evidence.append(f"{result.method} {result.path}: the identity field {pointer} is {state} in the valid answer")
            elif state == "present":
                identity_named += 1
        anon = result.cells.get(State.ANONYMOUS)
        if endpoint.documented.anonymous is False and anon is not None and same_answer(obs, anon.observation):
            evidence.append(
                f"{result.method} {result.path}: documented as needing a credential, yet the valid "
                "and the anonymous answers are the same"
            )
    if identity_named or not evidence:
        return Recognition(run.target, True)
    kinds = []
    if identity_null:
        kinds.append("no valid answer names a caller")
    if len(evidence) > identity_null:
        kinds.append("endpoints documented as needing a credential serve anonymous callers the same answer")
    reason = (
        f"{UNRECOGNISED_REASON}: every valid answer equals the anonymous one, and "
        + " and ".join(kinds)
        + ". The server ignores the credential (or another layer strips it): these answers say nothing "
        "about how it treats bad credentials."
    )
    return Recognition(run.target, False, reason, tuple(evidence))


def _without_valid(run: TargetRun, results: list[EndpointResult], why: str) -> Recognition:
    """No valid credential: the target is "never recognised" when every credential that was sent
    got exactly the anonymous answer on every endpoint (nothing on it reads a credential)."""
    sent = compared = 0
    evidence: list[str] = []
    for result in results:
        anon = result.cells.get(State.ANONYMOUS)
        a = anon.observation if anon else None
        for state, cell in result.cells.items():
            obs = cell.observation
            if state in (State.VALID, State.ANONYMOUS) or obs is None or obs.status is None:
                continue
            sent += 1
            if not same_answer(obs, a):
                return Recognition(run.target, True)  # some credential changed the answer: it is read
            compared += 1
    if not sent:
        return Recognition(run.target, True)
    evidence.append(f"{compared} answers to a credential, on {len(results)} endpoints, equal the anonymous ones")
    reason = (f"no valid credential on this target ({why}); every credential sent got the anonymous answer: "
              "a credential is never recognised here, so these answers say nothing about fallbacks")
    return Recognition(run.target, False, reason, tuple(evidence))


def mark_unrecognised(run: TargetRun) -> Recognition:
    """Record the recognition on the run and turn its ``public`` verdicts into ``inconclusive``.

    ``public`` would claim "no credential needed"; with a credential the server never read, the
    observations cannot say that (design.md: do not call its endpoints public).
    """
    found = recognition(run)
    if found.recognised:
        run.meta.pop("credential", None)
        return found
    run.meta["credential"] = {"recognised": False, "reason": found.reason}
    for result in run.endpoints.values():
        if result.verdict == Verdict.PUBLIC:
            result.verdict = Verdict.INCONCLUSIVE
            result.reason = UNRECOGNISED_REASON
    return found

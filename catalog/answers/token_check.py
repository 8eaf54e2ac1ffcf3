"""Which endpoint checks a token on one target, and why each endpoint got its verdict
(design.md, "What the catalog answers" 2 and the verdict explanations).

Everything is computed from one target's cells; nothing here names a vendor. The per-target and
per-API answers that gather these are in :mod:`catalog.answers.per_target` and
:mod:`catalog.answers.publication`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from catalog.answers.describe import describe_answer
from catalog.answers.recognition import Recognition, recognition
from catalog.answers.signals import ACCEPTED, Signal
from catalog.model.definition import Endpoint
from catalog.model.judgement import CLOSED_WITH_ERROR, REJECTING, SERVED_2XX, UNJUDGED
from catalog.model.observation import is_2xx, same_answer
from catalog.model.vocabulary import Outcome, State, Verdict
from catalog.runs.results import Cell, EndpointResult, TargetRun

__all__ = ["CheckCandidate", "TokenCheck", "describe_answer", "explain", "token_check", "unprivileged_like"]



@dataclass
class CheckCandidate:
    """An endpoint that can check a token on one target."""

    endpoint_id: str
    method: str
    path: str
    body_bytes: int  # the valid answer's size: what a check costs
    refusals: str  # what EVERY bad state gets there: "unknown-token, revoked → 401; malformed → 500 (server-error)"
    unprivileged: str | None = None  # caveat when a valid credential without rights is refused too
    accepts: tuple[str, ...] = ()  # near candidates: bad states served the valid answer
    refusal: str = "401"  # how it refuses: 401 (or the declared envelope) | body field | 403/404
    ambiguous: bool = False  # a 403/404 the unprivileged caller gets too: "no rights" looks like "dead token"
    parameters: tuple[str, ...] = ()  # fixture-specific path or query values it needs (placeholders in recipes)
    identity: bool = False  # its answer names the caller (whoami, /me, /myself, an actor field)
    reads: str | None = None  # a body field to read instead of the status ("/result/authstatus/0: ok")
    odd: str | None = None  # bad states closed with a 5xx or another 4xx: "malformed → 500"

    @property
    def rank(self) -> tuple:
        """Usefulness, best first: (a) refuses every bad credential in a way no legitimate caller
        gets (401 or the declared envelope, then a body field, then a 403/404; one the unprivileged
        caller also gets last), (b) needs no fixture-specific value, (c) names the caller, (d) cheapest."""
        return (self.ambiguous, _REFUSAL_ORDER.get(self.refusal, 9), bool(self.parameters), not self.identity,
                self.method != "GET", self.body_bytes, self.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint_id, "method": self.method, "path": self.path,
            "body_bytes": self.body_bytes, "refusals": self.refusals,
            "unprivileged": self.unprivileged, "accepts": list(self.accepts),
            "refusal": self.refusal, "ambiguous": self.ambiguous, "parameters": list(self.parameters),
            "identity": self.identity, "reads": self.reads, "odd": self.odd,
        }


_REFUSAL_ORDER = {"401": 0, "body field": 1, "403/404": 2}
# A path that names the caller: /whoami, /me, /myself, /current-user, /self.
IDENTITY_PATH = re.compile(r"(?i)/(whoami|me|myself|self|current[-_]?user)(?:$|[/?])")
# Top-level keys of a valid answer that name the caller (its JSON shape is kept).
_IDENTITY_KEYS = re.compile(r"(?i)(?:^\{|,)(user_?id|user_?name|username|account_?id|login|identity|principal|sub|email)[:?]")


@dataclass
class TokenCheck:
    """The token-check answer on one target: candidates cheapest first, or why there is none."""

    target: str
    candidates: list[CheckCandidate] = field(default_factory=list)
    near: list[CheckCandidate] = field(default_factory=list)
    reason: str | None = None  # set when there is no candidate

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "found": bool(self.candidates), "reason": self.reason,
            "candidates": [c.to_dict() for c in self.candidates], "near": [c.to_dict() for c in self.near],
        }


# --------------------------------------------------------------------------------------------
# Verdict explanations
# --------------------------------------------------------------------------------------------


def _grouped(cells: list[Cell], endpoint: Endpoint | None, valid: Cell | None) -> str:
    groups: dict[str, list[str]] = {}
    for cell in cells:
        groups.setdefault(describe_answer(cell, endpoint, valid), []).append(cell.state)
    return "; ".join(f"{', '.join(states)} → {answer}" for answer, states in groups.items())


def unprivileged_like(result: EndpointResult) -> list[str]:
    """Bad states the ``unprivileged`` caller is answered exactly like (same status, same body)."""
    if result.verdict in (Verdict.PUBLIC, *UNJUDGED):
        return []
    unpriv = result.cells.get(State.UNPRIVILEGED)
    valid = result.cells.get(State.VALID)
    if unpriv is None or unpriv.observation is None or unpriv.status is None:
        return []
    same = []
    for state, cell in result.cells.items():
        if not result.is_bad(state) or cell.observation is None or cell.status is None:
            continue
        if valid is not None and same_answer(cell.observation, valid.observation):
            continue  # this presentation was accepted: it is no "dead token"
        if same_answer(cell.observation, unpriv.observation):
            same.append(state)
    return same


def explain(result: EndpointResult, endpoint: Endpoint | None = None) -> str:
    """One sentence built from the cells that says why the endpoint got its verdict."""
    endpoint = endpoint or result.endpoint
    valid = result.cells.get(State.VALID)
    bad = [c for s, c in result.cells.items() if result.is_bad(s) and c.outcome != Outcome.NOT_AVAILABLE]
    refused = [c for c in bad if c.outcome in REJECTING]
    served = [c for c in bad if c.outcome in SERVED_2XX or (c.outcome == Outcome.INCONCLUSIVE and is_2xx(c.status))]
    verdict = result.verdict
    if verdict == Verdict.NOT_SERVED:
        sentence = "The target answers the valid request with 404: it does not serve this endpoint."
    elif verdict == Verdict.NOT_PROBED:
        sentence = f"Not probed: {result.reason or 'catalogued from documentation only'}."
    elif verdict == Verdict.PUBLIC:
        sentence = f"Anonymous callers get the valid answer ({valid.status if valid else '?'}): no credential is needed"
        sentence += f", yet {_grouped(refused, endpoint, valid)}." if refused else "."
    elif verdict == Verdict.FAILS_CLOSED:
        sentence = (f"{_every_bad(bad, endpoint, valid)}: every bad state is refused or served no data, so a 2xx "
                    "means the credential was accepted.")
    elif verdict in (Verdict.FALLS_OPEN, Verdict.MIXED):
        plain = describe_answer(valid, endpoint) if valid else ""
        accepted = [c for c in served if describe_answer(c, endpoint, valid) == plain]
        fallback = [c for c in served if c not in accepted]
        parts = [p for p in (_grouped(refused, endpoint, valid), _grouped(accepted, endpoint, valid)) if p]
        if fallback:
            outcomes = {c.outcome for c in fallback}
            looks_like = (
                "an empty result" if Outcome.EMPTY in outcomes
                else "an anonymous call" if Outcome.AS_ANONYMOUS in outcomes else "a narrower result"
            )
            lead = f"{'; '.join(parts)}, but " if parts else ""
            sentence = (
                f"{lead}{_grouped(fallback, endpoint, valid)}: a client cannot tell a dead token "
                f"from {looks_like} by the status code."
            )
        else:
            sentence = (
                f"{'; '.join(parts)}: every state with a bad secret is refused; the server accepts "
                f"the valid secret as {', '.join(c.state for c in accepted)} too."
            )
    else:
        valid_part = f"valid → {describe_answer(valid, endpoint)}" if valid else "no valid answer"
        sentence = f"Cannot judge ({result.reason or 'no baseline'}): {valid_part}"
        sentence += f"; {_grouped(bad, endpoint, valid)}." if bad else "."
    like = unprivileged_like(result)
    if like:
        unpriv = result.cells[State.UNPRIVILEGED]
        sentence += (
            f" The unprivileged caller gets exactly what {', '.join(like)} get ({unpriv.status}, same body):"
            " \"no permission\" and \"dead token\" look the same."
        )
    return sentence


# --------------------------------------------------------------------------------------------
# Token validity check
# --------------------------------------------------------------------------------------------


def _bad_cells(result: EndpointResult) -> list[Cell]:
    """The available, judged bad-credential cells (a cell still 429 is not judged)."""
    return [c for s, c in result.cells.items()
            if result.is_bad(s) and c.outcome not in (Outcome.NOT_AVAILABLE, Outcome.RATE_LIMITED)]


def _every_bad(cells: list[Cell], endpoint: Endpoint | None, valid: Cell | None) -> str:
    """What every bad state gets, odd statuses named: "revoked → 401; malformed → 500 (server-error)"."""
    groups: dict[str, list[str]] = {}
    for cell in cells:
        words = describe_answer(cell, endpoint, valid)
        if cell.outcome in CLOSED_WITH_ERROR:
            words += f" ({cell.outcome}: no data served)"
        groups.setdefault(words, []).append(cell.state)
    return "; ".join(f"{', '.join(states)} → {answer}" for answer, states in groups.items())


def _parameters(endpoint: Endpoint | None, result: EndpointResult) -> tuple[str, ...]:
    """The fixture-specific values a call needs: path parameters and query values taken from them."""
    if endpoint is None:
        return tuple(re.findall(r"{([^}/]+)}", result.path))
    from_query = [m for v in endpoint.query.values() if isinstance(v, str) for m in re.findall(r"^{([^{}/]+)}$", v)]
    return tuple(dict.fromkeys([*endpoint.path_params, *from_query]))


def names_the_caller(result: EndpointResult) -> bool:
    """An identity endpoint: its path says so (whoami, /me, /myself), or its valid answer names the
    caller (a declared actor field is there, or a top-level key such as user_id)."""
    if IDENTITY_PATH.search(result.path):
        return True
    valid = result.cells.get(State.VALID)
    obs = valid.observation if valid else None
    if obs is None or not obs.ok:
        return False
    endpoint = result.endpoint
    if endpoint is not None and any(obs.fields.get(p) == "present" for p in endpoint.actor_fields):
        return True
    return bool(obs.shape and _IDENTITY_KEYS.search(obs.shape))


def _candidate(result: EndpointResult, accepts: tuple[str, ...] = ()) -> CheckCandidate:
    valid = result.cells.get(State.VALID)
    endpoint = result.endpoint
    bad = _bad_cells(result)
    unpriv = result.cells.get(State.UNPRIVILEGED)
    caveat = None
    ambiguous = False
    if unpriv is not None and unpriv.status is not None and not is_2xx(unpriv.status):
        caveat = f"a valid credential without rights gets {unpriv.status} too"
        # A 403/404 the unprivileged caller gets too cannot tell "no rights" from "dead token".
        ambiguous = any(c.status == unpriv.status and c.outcome in (Outcome.FORBIDDEN, Outcome.HIDDEN) for c in bad)
    refusing = [c for c in bad if c.outcome in REJECTING]
    strong = all(c.outcome in (Outcome.REJECTED, Outcome.REJECTED_IN_BODY) for c in refusing)
    odd = [c for c in bad if c.outcome in CLOSED_WITH_ERROR]
    return CheckCandidate(
        endpoint_id=result.endpoint_id, method=result.method, path=result.path,
        body_bytes=valid.observation.body_bytes if valid and valid.observation else 0,
        refusals=_every_bad(bad, endpoint, valid), unprivileged=caveat, accepts=accepts,
        refusal="401" if strong and refusing else "403/404", ambiguous=ambiguous,
        parameters=_parameters(endpoint, result), identity=names_the_caller(result),
        odd="; ".join(f"{c.state} → {c.status}" for c in odd) or None,
    )


def _field_candidate(result: EndpointResult, signal: Signal) -> CheckCandidate:
    """A check that reads a body field: an endpoint that serves everybody a 2xx and says in one
    field whether the credential was accepted (a rule that holds on that endpoint alone)."""
    valid = result.cells.get(State.VALID)
    bad = _bad_cells(result)
    return CheckCandidate(
        endpoint_id=result.endpoint_id, method=result.method, path=result.path,
        body_bytes=valid.observation.body_bytes if valid and valid.observation else 0,
        refusals="; ".join(f"{c.state} → {c.status} without it" for c in bad),
        refusal="body field", parameters=_parameters(result.endpoint, result),
        identity=names_the_caller(result), reads=signal.label(),
    )


def _cost(c: CheckCandidate) -> tuple:
    return c.rank


def _served_as_valid(result: EndpointResult) -> tuple[str, ...] | None:
    """For a ``mixed`` endpoint: the bad states that got the valid answer, if those are all it served."""
    valid = result.cells.get(State.VALID)
    served = [
        (s, c) for s, c in result.cells.items()
        if result.is_bad(s) and c.outcome != Outcome.NOT_AVAILABLE and c.outcome not in REJECTING
    ]
    if not served or valid is None or valid.observation is None:
        return None
    for _, cell in served:
        if describe_answer(cell, result.endpoint, valid) != describe_answer(valid, result.endpoint):
            return None
    return tuple(s for s, _ in served)


def token_check(run: TargetRun, recognised: Recognition | None = None,
                signals: list[Signal] | None = None) -> TokenCheck:
    """The endpoints of ``run`` (one target) that refuse every bad credential, most useful first
    (:attr:`CheckCandidate.rank`); ``signals`` (this target's) add the endpoints whose body says
    whether the credential was accepted."""
    check = TokenCheck(target=run.target)
    results = list(run.endpoints.values())
    recognised = recognised or recognition(run)
    if not recognised.recognised:
        check.reason = f"none can be named: {recognised.reason}"
        return check
    for result in results:
        if result.verdict == Verdict.FAILS_CLOSED:
            check.candidates.append(_candidate(result))
        elif result.verdict == Verdict.MIXED:
            accepts = _served_as_valid(result)
            if accepts:
                check.near.append(_candidate(result, accepts))
    by_key = {(r.method, r.path): r for r in results}
    for signal in signals or []:
        where = signal.one_endpoint
        # A body field read on one endpoint (a header that holds there is a fallback signal, Q3).
        if signal.recommended and signal.meaning == ACCEPTED and where in by_key and signal.kind.startswith("body"):
            result = by_key[where]
            # Where the status cannot tell (a bad credential is served); never where the valid
            # answer itself failed or was an error in the body (inconclusive).
            if result.verdict in (Verdict.FALLS_OPEN, Verdict.MIXED, Verdict.PUBLIC) and _bad_cells(result):
                check.candidates.append(_field_candidate(result, signal))
    check.candidates.sort(key=_cost)
    check.near.sort(key=_cost)
    if not check.candidates:
        check.reason = no_check_reason(results)
    return check


def no_check_reason(results: list[EndpointResult]) -> str:
    """Why no endpoint fails closed, from the verdict counts."""
    probed = [r for r in results if r.verdict not in UNJUDGED]
    if not probed:
        return "no endpoint was probed on this target"
    counts = Counter(r.verdict for r in probed)
    parts = []
    if counts[Verdict.FALLS_OPEN]:
        parts.append(f"{counts[Verdict.FALLS_OPEN]} serve every bad state a 2xx")
    if counts[Verdict.MIXED]:
        served = Counter(
            s for r in probed if r.verdict == Verdict.MIXED for s, c in r.cells.items()
            if r.is_bad(s) and c.outcome in SERVED_2XX
        )
        parts.append(f"{counts[Verdict.MIXED]} refuse some bad states but serve {', '.join(sorted(served))}")
    if counts[Verdict.PUBLIC]:
        parts.append(f"{counts[Verdict.PUBLIC]} are public (no credential needed)")
    if counts[Outcome.INCONCLUSIVE]:
        failed = sum(1 for r in probed if r.verdict == Verdict.INCONCLUSIVE
                     and not is_2xx(r.cells[State.VALID].status if State.VALID in r.cells else None))
        detail = f", the valid request itself failed on {failed}" if failed else ""
        parts.append(f"{counts[Verdict.INCONCLUSIVE]} could not be judged{detail}")
    return f"none found on this target: of {len(probed)} probed endpoints, " + "; ".join(parts) + "."

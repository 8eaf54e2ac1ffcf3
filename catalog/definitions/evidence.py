"""Reported and documented claims as data: checked against the token states, and arranged as
cells (endpoint × state) beside the observed matrix.

A claim in the YAML (``reported:`` on an endpoint or in ``api.yaml``, ``documented.claims`` on an
endpoint) that names a ``state`` and a ``status`` and/or ``outcome`` is a *claimed cell*: what a
source says that state got. The site marks such cells with their kind and links them to their
source; the answers use them where no target could observe the state (a revoked Jira token).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from catalog.definitions.yamlfile import DefinitionError, Problem
from catalog.model.definition import Endpoint, Reported
from catalog.model.observation import is_2xx
from catalog.model.vocabulary import Outcome

if TYPE_CHECKING:
    from catalog.definitions.loader import ApiDefinition

# Which statuses an outcome can come with (an outcome describes the answer).
_OUTCOME_STATUS: dict[str, Callable[[int], bool]] = {
    Outcome.REJECTED: lambda s: s == 401,
    Outcome.FORBIDDEN: lambda s: s == 403,
    Outcome.HIDDEN: lambda s: s == 404,
    Outcome.REJECTED_IN_BODY: is_2xx,
    Outcome.EMPTY: is_2xx,
    Outcome.AS_ANONYMOUS: is_2xx,
    Outcome.IGNORED: is_2xx,
    Outcome.AS_VALID: is_2xx,
    Outcome.PARTIAL: is_2xx,
    Outcome.REDIRECT: lambda s: 300 <= s < 400,
    Outcome.CLIENT_ERROR: lambda s: 400 <= s < 500 and s not in (401, 403, 404, 429),
    Outcome.RATE_LIMITED: lambda s: s == 429,
    Outcome.SERVER_ERROR: lambda s: s >= 500,
}
API_WIDE = "*"  # the "endpoint" of a claim made in api.yaml: every endpoint of the API


def _problem(claim: Reported, key: str, message: str) -> Problem:
    where = claim.where
    line = claim.fields.get(key) or (where.line if where else 0)
    return Problem(where.file if where else "?", line, f"{claim.path}.{key}" if claim.path else key, message)


def claim_problems(claims: Iterable[Reported], states: Iterable[str], api_states: Iterable[str] | None = None) -> list[Problem]:
    """What is wrong with these claims: an unknown state, or an outcome its status cannot have."""
    known = sorted(states)
    allowed = set(api_states) if api_states is not None else None
    problems = []
    for claim in claims:
        if claim.state is not None and claim.state not in known:
            hint = difflib.get_close_matches(claim.state, known, n=1, cutoff=0.6)
            problems.append(_problem(claim, "state", f"unknown token state {claim.state!r}"
                                     + (f", did you mean {hint[0]!r}?" if hint else f" (known: {', '.join(known)})")))
        elif claim.state is not None and allowed is not None and claim.state not in allowed:
            problems.append(_problem(claim, "state", f"state {claim.state!r} is not one of this API's states (api.yaml: states)"))
        rule = _OUTCOME_STATUS.get(claim.outcome or "")
        if rule is not None and claim.status is not None and not rule(claim.status):
            problems.append(_problem(claim, "outcome", f"outcome {claim.outcome!r} cannot come with status {claim.status}"))
    return problems


def all_claims(definition: ApiDefinition) -> list[Reported]:
    """Every claim of one API definition: the API's own, then each endpoint's."""
    out = list(definition.api.reported)
    for e in definition.endpoints:
        out += [*e.reported, *e.documented.claims]
    return out


def check_claims(apis: dict, states: Iterable[str]) -> None:
    """Raise :class:`DefinitionError` naming file:line: field for every bad claim in these APIs."""
    known = list(states)
    problems = []
    for definition in apis.values():
        problems += claim_problems(all_claims(definition), known, definition.api.states)
    if problems:
        raise DefinitionError(problems)


@dataclass(frozen=True)
class ClaimedCell:
    """One claimed answer: an endpoint (or the whole API), a state, and the claims saying so."""

    endpoint: Endpoint | None  # None: an API-wide claim
    state: str
    claims: tuple[Reported, ...]

    @property
    def status(self) -> int | None:
        return next((c.status for c in self.claims if c.status is not None), None)

    @property
    def outcome(self) -> str | None:
        return next((c.outcome for c in self.claims if c.outcome), None)

    @property
    def kinds(self) -> list[str]:
        return sorted({c.kind for c in self.claims})


def claimed_cells(definition: ApiDefinition) -> dict[str, dict[str, ClaimedCell]]:
    """Claimed cells by endpoint id (``API_WIDE`` for api.yaml's) then state, in YAML order."""
    rows: dict[str, dict[str, list[Reported]]] = {}
    sources: list[tuple[str, Endpoint | None, Iterable[Reported]]] = [(API_WIDE, None, definition.api.reported)]
    sources += [(e.id, e, (*e.reported, *e.documented.claims)) for e in definition.endpoints]
    owners: dict[str, Endpoint | None] = {}
    for key, endpoint, claims in sources:
        for claim in claims:
            if claim.is_cell and claim.state:
                rows.setdefault(key, {}).setdefault(claim.state, []).append(claim)
                owners[key] = endpoint
    return {key: {state: ClaimedCell(owners[key], state, tuple(cs)) for state, cs in states.items()}
            for key, states in rows.items()}


def claim_to_dict(claim: Reported) -> dict:
    return {
        "kind": claim.kind, "claim": claim.claim, "source": claim.source, "date": claim.date, "ref": claim.ref,
        "state": claim.state, "status": claim.status, "outcome": claim.outcome,
        "signal": dict(claim.signal) if claim.signal else None,
    }


def signal_label(signal: Mapping[str, Any]) -> str:
    name = signal.get("header") or signal.get("field") or "?"
    return f"{name}: {signal['value']}" if signal.get("value") else f"{name} present"

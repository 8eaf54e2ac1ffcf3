"""The silent fallback in one sentence: a dead token served like no token, next to where it is refused.

Computed from one target's cells: an endpoint that needs no credential (its anonymous answer is a
2xx) answering bad credentials with exactly that anonymous answer, while another endpoint of the
same target refuses the same credentials. That pair is what a client must know: a 2xx from the
first says nothing about the token (Matrix's ``/publicRooms`` on Synapse, Jira's reported cases).
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.answers.token_check import token_check
from catalog.model.judgement import REFUSED
from catalog.model.observation import is_2xx, same_answer
from catalog.model.vocabulary import Outcome, State, Verdict
from catalog.runs.results import EndpointResult, TargetRun


@dataclass(frozen=True)
class Fallback:
    served: EndpointResult  # the endpoint that serves bad credentials as anonymous
    states: tuple[str, ...]
    status: int
    refused_by: EndpointResult | None  # an endpoint that refuses those same states
    refused_status: str
    others: int  # more endpoints that serve the same way

    def sentence(self, target: str) -> str:
        text = (f"On {target}, {self.served.method} {self.served.path} answers {_join(self.states)} tokens "
                f"with the same {self.status} it gives a caller with no token")
        if self.refused_by is not None:
            text += (f", while {self.refused_by.method} {self.refused_by.path} rejects the very same tokens "
                     f"with {self.refused_status}")
        text += ": a 2xx there says nothing about the token"
        if self.others:
            text += f" ({self.others} more endpoint{'s' if self.others > 1 else ''} behave alike)"
        return text + "."


def _join(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _served_as_anonymous(result: EndpointResult) -> tuple[str, ...]:
    anon = result.cells.get(State.ANONYMOUS)
    a = anon.observation if anon else None
    if a is None or not is_2xx(a.status):
        return ()
    return tuple(state for state, cell in result.cells.items()
                 if result.is_bad(state) and cell.observation is not None
                 and same_answer(cell.observation, a))


def _reads_credential(result: EndpointResult) -> bool:
    return any(result.is_bad(state) and cell.status is not None and not is_2xx(cell.status)
               for state, cell in result.cells.items())


def find_fallback(run: TargetRun) -> Fallback | None:
    """The clearest fallback of one target, or None when no bad credential was served as anonymous."""
    served = [(r, states) for r in run.endpoints.values() if (states := _served_as_anonymous(r))]
    if not served:
        return None
    # First the endpoints that show they read the credential (another bad state got no 2xx there:
    # /publicRooms crashes on a malformed header yet serves a revoked token), then most bad
    # states, then endpoints without path parameters (easiest to try), then by path.
    served.sort(key=lambda rs: (not _reads_credential(rs[0]), -len(rs[1]), "{" in rs[0].path, rs[0].path))
    result, states = served[0]
    refusing = [r for r in run.endpoints.values()
                if all(r.cells.get(s) is not None and r.cells[s].outcome in REFUSED for s in states)]
    # The token check's own pick when it refuses them all (cheapest first), else a 401 without
    # path parameters on an endpoint that fails closed.
    check = [c.endpoint_id for c in token_check(run).candidates]
    refusing.sort(key=lambda r: (r.endpoint_id not in check, check.index(r.endpoint_id) if r.endpoint_id in check else 0,
                                 any(r.cells[s].outcome != Outcome.REJECTED for s in states), "{" in r.path,
                                 r.verdict != Verdict.FAILS_CLOSED, r.path))
    refused_by = refusing[0] if refusing else None
    statuses = sorted({str(refused_by.cells[s].status) for s in states}) if refused_by else []
    anon = result.cells[State.ANONYMOUS].observation
    assert anon is not None and anon.status is not None
    return Fallback(result, states, anon.status, refused_by, "/".join(statuses), len(served) - 1)

"""Documented vs observed (design.md, "What the catalog answers" 4), one target at a time.

Where the vendor's documentation disagrees with itself (the two markers of anonymous access), or
with what one target's ``anonymous`` state got. Observations of two targets are never pooled:
each disagreement names the target (and its version) it was observed on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.answers.describe import describe_answer
from catalog.model.definition import Endpoint
from catalog.model.judgement import UNJUDGED
from catalog.model.observation import is_2xx
from catalog.model.vocabulary import Outcome, State
from catalog.runs.results import ApiCatalog, TargetRun

MARKERS = "documentation markers"
DOC_VS_OBSERVED = "documented vs observed"
ANON_NOTHING = "anonymous gets nothing"

_NO_ANSWER = frozenset({Outcome.NOT_AVAILABLE, Outcome.ERROR, Outcome.RATE_LIMITED, Outcome.SERVER_ERROR})


@dataclass(frozen=True)
class Disagreement:
    """One disagreement. ``target`` is None for the documentation disagreeing with itself."""

    endpoint: Endpoint
    kind: str  # MARKERS | DOC_VS_OBSERVED | ANON_NOTHING
    detail: str
    target: str | None = None
    target_version: str | None = None
    observed_status: int | None = None
    observed_outcome: str | None = None

    @property
    def documented_anonymous(self) -> bool | None:
        return self.endpoint.documented.anonymous

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint.id, "kind": self.kind, "detail": self.detail,
            "target": self.target, "target_version": self.target_version,
            "documented_anonymous": self.documented_anonymous,
            "observed_status": self.observed_status, "observed_outcome": self.observed_outcome,
        }

    # Mapping-style access for templates and callers written against the former dicts.
    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


def marker_disagreements(api: ApiCatalog) -> list[Disagreement]:
    """Endpoints whose two documentation markers of anonymous access disagree (no target)."""
    found = []
    for endpoint in api.definition.endpoints:
        doc = endpoint.documented
        if doc.markers_disagree:
            found.append(Disagreement(endpoint, MARKERS, (
                f"the sentence \"can be accessed anonymously\" is {'present' if doc.anonymous_sentence else 'absent'}, "
                f"the empty security requirement is {'present' if doc.security_optional else 'absent'}"
            )))
    return found


def observed_disagreements(api: ApiCatalog, run: TargetRun) -> list[Disagreement]:
    """Where documented anonymous access disagrees with what ``run``'s anonymous state got.

    Documented anonymous access the target refuses; "needs a credential" while anonymous callers
    are served; documented anonymous access that only yields an empty collection.
    """
    found = []
    for endpoint in api.definition.endpoints:
        said_anon = endpoint.documented.anonymous
        result = run.endpoints.get(endpoint.id)
        if said_anon is None or result is None or result.verdict in UNJUDGED:
            continue
        anon = result.cells.get(State.ANONYMOUS)
        if anon is None or anon.status is None or anon.outcome in _NO_ANSWER:
            continue
        served = is_2xx(anon.status)
        said = "accessible anonymously" if said_anon else "needing a credential"
        version = f" {run.version}" if run.version else ""
        observed = f"anonymous got {describe_answer(anon, endpoint)} on {run.target}{version}"

        if (said_anon and not served) or (not said_anon and served):
            kind, detail = DOC_VS_OBSERVED, f"documented as {said}; {observed}"
        elif said_anon and anon.outcome == Outcome.EMPTY:
            kind, detail = ANON_NOTHING, f"documented as {said}, and it is, but {observed}: anonymous access yields nothing here"
        else:
            continue
        found.append(Disagreement(endpoint, kind, detail, run.target, run.version, anon.status, anon.outcome))
    return found


def disagreements(api: ApiCatalog) -> list[Disagreement]:
    """The documentation's own disagreements, then each target's, target by target."""
    found = marker_disagreements(api)
    for run in api.runs:
        found += observed_disagreements(api, run)
    return found

"""What moved between two runs of the same API on the same target, cell by cell, and why.

Each change is attributed (see ``catalog.engine.cache``): **server** behaviour when the endpoint's
definition key and judgement key are the same in both runs (same request, same classifier, a new
answer: drift, also across target versions), **definition** when either differs (the endpoint
YAML, the API file — envelope, volatile fields, schemes, headers —, the classifier, the token
states or authcat's version changed). Only server changes are drift.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from catalog.model.judgement import REJECTING, SERVED_2XX
from catalog.model.vocabulary import Outcome, StateFamily, family_of
from catalog.runs.results import EndpointResult, TargetRun

SERVER = "server"
DEFINITION = "definition"
NOT_JUDGED = "not-judged"
CAUSES = {
    SERVER: "server behaviour: same definition and classifier, a new answer (drift)",
    DEFINITION: "definition or classifier: the endpoint, the API file, the token states, the classifier "
                "or authcat's version changed",
    NOT_JUDGED: "not judged: the cell was rate-limited (429 after backing off) in one of the runs, which says "
                "how fast the prober asked, not how the server treats the credential",
}


def cause_of(before: EndpointResult | None, after: EndpointResult | None) -> str:
    """SERVER when both results were probed and judged from the same keys, else DEFINITION."""
    if before is None or after is None or not before.definition_key or not before.judged:
        return DEFINITION
    same = before.definition_key == after.definition_key and before.judged == after.judged
    return SERVER if same else DEFINITION


@dataclass(frozen=True)
class ComparedCell:
    """One endpoint × state as two runs of the same API on the same target have it."""

    endpoint: str
    method: str
    path: str
    state: str
    before: str | None  # outcome, or None when the cell did not exist
    after: str | None
    before_status: int | None = None
    after_status: int | None = None
    cause: str = SERVER  # SERVER (drift), DEFINITION (the definition or the classifier changed) or NOT_JUDGED

    @property
    def moved(self) -> bool:
        return self.before != self.after

    @property
    def observed(self) -> bool:
        """At least one run could send this state (``n/a`` or missing on both: nothing compared)."""
        return not (self.before in (None, Outcome.NOT_AVAILABLE) and self.after in (None, Outcome.NOT_AVAILABLE))


@dataclass(frozen=True)
class Change(ComparedCell):
    """A cell whose outcome moved, with the API and target it belongs to (the change log's entry)."""

    api: str = ""
    target: str = ""

    @property
    def drift(self) -> bool:
        return self.cause == SERVER

    @property
    def regression(self) -> bool:
        """A bad state that was rejected now gets a 2xx."""
        return (
            family_of(self.state) is StateFamily.BAD
            and self.before in REJECTING
            and self.after in SERVED_2XX
        )

    def __str__(self) -> str:
        return f"{self.method} {self.path}  {self.state}: {self.before or '—'} → {self.after or '—'}"

    def to_dict(self) -> dict:
        cell = asdict(self)
        return {"api": cell.pop("api"), "target": cell.pop("target"), **cell}  # the change log's key order


def compared_cells(old: TargetRun, new: TargetRun) -> list[ComparedCell]:
    """Every (endpoint, state) in either run, in endpoint then state order: the one walk that both
    the change log (:func:`diff_runs`) and ``authcat check``'s reports (``catalog.answers.reports``) use."""
    cells = []
    for endpoint_id in sorted(set(old.endpoints) | set(new.endpoints)):
        before = old.endpoints.get(endpoint_id)
        after = new.endpoints.get(endpoint_id)
        ref = after or before
        assert ref is not None
        cause = cause_of(before, after)
        for state in sorted(set(before.cells if before else ()) | set(after.cells if after else ())):
            b = before.cells.get(state) if before else None
            a = after.cells.get(state) if after else None
            limited = Outcome.RATE_LIMITED in (b.outcome if b else None, a.outcome if a else None)
            cells.append(ComparedCell(
                endpoint=endpoint_id, method=ref.method, path=ref.path, state=state,
                before=b.outcome if b else None, after=a.outcome if a else None,
                before_status=b.status if b else None, after_status=a.status if a else None,
                cause=NOT_JUDGED if limited else cause))
    return cells


def changes_in(new: TargetRun, cells: list[ComparedCell]) -> list[Change]:
    """The cells that moved, as changes of ``new``'s API and target."""
    return [Change(**asdict(c), api=new.api, target=new.target) for c in cells if c.moved]


def diff_runs(old: TargetRun | None, new: TargetRun) -> list[Change]:
    """Every (endpoint, state) whose outcome differs; cells only in one run count as moved."""
    return [] if old is None else changes_in(new, compared_cells(old, new))

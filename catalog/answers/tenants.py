"""Cells observed on vendor tenants (submissions): how many tenants, when, and whether they agree.

Each submission is a target of its own (kind ``vendor tenant``): its answers are computed per
target like any other's, never pooled. This module only lines the tenants up cell by cell, the
way the catalog says it: "observed on 2 tenants (2026-12-06, 2026-12-09), agreeing: rejected
(401)", or the split ("as-anonymous on 1 tenant (2026-12-06); rejected on 1 tenant (2026-12-09)").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.model.judgement import UNJUDGED
from catalog.model.vocabulary import Outcome
from catalog.runs.results import ApiCatalog, TargetRun

TENANT_KIND = "vendor tenant"  # the kind of target a submission is (catalog.runs.submissions.KIND)


def is_tenant(run: TargetRun) -> bool:
    return run.meta.get("kind") == TENANT_KIND


def tenant_runs(api: ApiCatalog) -> list[TargetRun]:
    return [run for run in api.runs if is_tenant(run)]


@dataclass(frozen=True)
class Seen:
    """One answer as one tenant gave it."""

    target: str
    date: str  # YYYY-MM-DD
    outcome: str
    status: int | None

    @property
    def answer(self) -> str:
        return f"{self.outcome} ({self.status})" if self.status is not None else self.outcome


@dataclass(frozen=True)
class TenantCell:
    """One (endpoint, state) across the tenants that observed it."""

    state: str
    seen: tuple[Seen, ...]

    @property
    def answers(self) -> dict[str, list[Seen]]:
        out: dict[str, list[Seen]] = {}
        for s in self.seen:
            out.setdefault(s.answer, []).append(s)
        return out

    @property
    def agree(self) -> bool:
        return len({s.outcome for s in self.seen}) == 1

    @property
    def outcome(self) -> str | None:
        """The outcome every tenant gave, or None for a split."""
        return self.seen[0].outcome if self.agree else None

    def sentence(self) -> str:
        n = len(self.seen)
        if self.agree:
            dates = ", ".join(sorted({s.date for s in self.seen}))
            answers = " or ".join(self.answers)
            return f"observed on {n} tenant{'s' if n > 1 else ''} ({dates}), {'agreeing: ' if n > 1 else ''}{answers}"
        parts = []
        for answer, seen in sorted(self.answers.items(), key=lambda kv: -len(kv[1])):
            dates = ", ".join(sorted({s.date for s in seen}))
            parts.append(f"{answer} on {len(seen)} tenant{'s' if len(seen) > 1 else ''} ({dates})")
        return f"split over {n} tenants: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"tenants": len(self.seen), "agree": self.agree, "sentence": self.sentence(),
                "answers": {a: [{"target": s.target, "date": s.date} for s in seen] for a, seen in self.answers.items()}}


def tenant_cells(api: ApiCatalog) -> dict[str, dict[str, TenantCell]]:
    """endpoint id -> state -> the tenants' answers (judged cells only: not n/a, endpoint served)."""
    found: dict[str, dict[str, list[Seen]]] = {}
    for run in tenant_runs(api):
        date = (run.meta.get("date") or "undated")[:10]
        for endpoint_id, result in run.endpoints.items():
            if result.verdict in UNJUDGED:
                continue
            for state, cell in result.cells.items():
                if cell.outcome == Outcome.NOT_AVAILABLE:
                    continue
                found.setdefault(endpoint_id, {}).setdefault(state, []).append(
                    Seen(run.target, date, cell.outcome, cell.status))
    return {eid: {st: TenantCell(st, tuple(seen)) for st, seen in states.items()} for eid, states in found.items()}

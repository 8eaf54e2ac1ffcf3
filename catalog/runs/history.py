"""Since when a cell has been what it is (like a compat table's "version added"), from the change log.

A cell whose current outcome came from a logged change is dated by that change (``since``, with
what it was before). A cell no logged change touched has been so at least since the oldest run
the log knows for its target, or the current run when the log is empty (``at_least: true``).
The log is indexed once per build (:class:`ChangeIndex`): a page per endpoint must not rescan it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from catalog.runs.results import TargetRun


class ChangeIndex:
    """The change log by (API, target, endpoint), with the oldest run date per (API, target)."""

    def __init__(self, changes: list[dict[str, Any]]):
        self.cells: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
        self.oldest: dict[tuple, str] = {}
        for c in changes:
            key = (c.get("api"), c.get("target"))
            self.cells[(*key, c.get("endpoint"))].append(c)
            for d in (c.get("previous_date"), c.get("date")):
                if d and (key not in self.oldest or d < self.oldest[key]):
                    self.oldest[key] = d

    def history(self, api: str, run: TargetRun, endpoint_id: str) -> dict[str, dict[str, Any]]:
        """Per state of one endpoint on one target: ``{"since", "at_least", "before", "changes"}``."""
        oldest = self.oldest.get((api, run.target)) or run.meta.get("date")
        moves = self.cells.get((api, run.target, endpoint_id), [])
        result = run.endpoints.get(endpoint_id)
        out: dict[str, dict[str, Any]] = {}
        for state, cell in (result.cells.items() if result else ()):
            mine = [c for c in moves if c.get("state") == state]
            last = max(mine, key=lambda c: c.get("date") or "") if mine else None
            if last is not None and last.get("after") == str(cell.outcome):
                out[state] = {"since": last.get("date"), "at_least": False, "before": last.get("before"), "changes": len(mine)}
            else:
                out[state] = {"since": oldest, "at_least": True, "before": None, "changes": len(mine)}
        return out


def cell_history(changes: list[dict[str, Any]], api: str, run: TargetRun, endpoint_id: str) -> dict[str, dict[str, Any]]:
    """One cell row's history from a raw log (builds an index: for one-off use)."""
    return ChangeIndex(changes).history(api, run, endpoint_id)

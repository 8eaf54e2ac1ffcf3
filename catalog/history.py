"""Since when a cell has been what it is (like a compat table's "version added"), from the change log.

A cell whose current outcome came from a logged change is dated by that change (``since``, with
what it was before). A cell no logged change touched has been so at least since the oldest run
the log knows for its target, or the current run when the log is empty (``at_least: true``).
"""

from __future__ import annotations

from typing import Any

from .results import TargetRun


def cell_history(changes: list[dict[str, Any]], api: str, run: TargetRun, endpoint_id: str) -> dict[str, dict[str, Any]]:
    """Per state of one endpoint on one target: ``{"since", "at_least", "before", "changes"}``."""
    mine = [c for c in changes if c.get("api") == api and c.get("target") == run.target]
    dates = [d for c in mine for d in (c.get("previous_date"), c.get("date")) if d]
    oldest = min(dates) if dates else run.run.get("date")
    result = run.endpoints.get(endpoint_id)
    out: dict[str, dict[str, Any]] = {}
    for state, cell in (result.cells.items() if result else ()):
        moves = [c for c in mine if c.get("endpoint") == endpoint_id and c.get("state") == state]
        last = max(moves, key=lambda c: c.get("date") or "") if moves else None
        if last is not None and last.get("after") == str(cell.outcome):
            out[state] = {"since": last.get("date"), "at_least": False, "before": last.get("before"), "changes": len(moves)}
        else:
            out[state] = {"since": oldest, "at_least": True, "before": None, "changes": len(moves)}
    return out

"""One cell's answer in a few words (``200 with an empty `/values```, ``401``, ``no answer``).

The words every answer uses for a cell: the verdict explanations, the token check's refusals and
the documented-vs-observed sentences all describe a cell through this one function.
"""

from __future__ import annotations

from catalog.model.definition import Endpoint
from catalog.model.observation import is_2xx, same_answer
from catalog.model.vocabulary import Outcome
from catalog.runs.results import Cell


def describe_answer(cell: Cell, endpoint: Endpoint | None, valid: Cell | None = None) -> str:
    """A cell's answer in a few words: ``200 with an empty `/values```, ``401``, ``no answer``."""
    status = cell.status
    if status is None:
        return "no answer" if cell.outcome != Outcome.NOT_AVAILABLE else Outcome.NOT_AVAILABLE
    where = f"`{endpoint.collection}`" if endpoint and endpoint.collection else "body"
    outcome = cell.outcome
    if outcome == Outcome.INCONCLUSIVE and is_2xx(status) and valid is not None and same_answer(cell.observation, valid.observation):
        outcome = Outcome.AS_VALID
    texts: dict[str, str] = {
        Outcome.EMPTY: f"{status} with an empty {where}",
        Outcome.AS_ANONYMOUS: f"{status} with the anonymous answer",
        Outcome.AS_VALID: f"{status} with the valid answer",
        Outcome.PARTIAL: f"{status} with a different answer",
        Outcome.REJECTED_IN_BODY: f"{status} with an auth-failure body",
    }
    return texts.get(outcome, str(status))

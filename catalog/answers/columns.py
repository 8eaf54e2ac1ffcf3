"""One column order for every API's matrix: states grouped by family, then by their own order.

A reader comparing two APIs finds ``revoked`` in the same place on both; the family groups
(design.md, "State families") head the columns.
"""

from __future__ import annotations

from catalog.model.vocabulary import LEGITIMATE_STATES, State
from catalog.runs.results import CatalogData

# Column groups, in this order, for every API (design.md "State families").
FAMILIES = (
    ("legitimate", "legitimate callers"),
    ("presentation", "the valid secret, presented otherwise"),
    ("bad", "bad credentials"),
)
_PRESENTATIONS = frozenset({State.SCHEME_CASE, State.WRONG_SCHEME})


def state_family(catalog: CatalogData, state: str) -> str:
    """The family of a state: its plugin's declaration where there is one, else the built-in sets."""
    declared = getattr(catalog.states.get(state), "family", None)
    if declared is not None:
        value = str(getattr(declared, "value", declared)).lower()
        return next((key for key, _ in FAMILIES if key in value), "bad")
    if state in LEGITIMATE_STATES:
        return "legitimate"
    if state in _PRESENTATIONS or state.startswith("query"):
        return "presentation"
    return "bad"


def state_order(catalog: CatalogData) -> list[str]:
    return [s for _, _, states in state_columns(catalog) for s in states]


def bad_state_order(catalog: CatalogData) -> list[str]:
    """The bad-credential states only (what the verdicts and the three answers judge), in column order."""
    return [s for key, _, states in state_columns(catalog) if key == "bad" for s in states]


def state_columns(catalog: CatalogData, present: set[str] | None = None) -> list[tuple[str, str, list[str]]]:
    """One column order for every API: grouped by family, then by the states' own order.

    ``present`` keeps only those states (a run's, or the claims'); empty families are dropped.
    """
    order = {name: (getattr(st, "order", 100), name) for name, st in catalog.states.items()}
    names = sorted(set(order) | (present or set()), key=lambda n: order.get(n, (1000, n)))
    out = []
    for key, label in FAMILIES:
        states = [n for n in names if state_family(catalog, n) == key and (present is None or n in present)]
        if states:
            out.append((key, label, states))
    return out

"""The API page's matrix rows and cells, a group page's state rows and the outcome swatch written from
Python (``catalog.site.build.row_html``, ``cell_html``, ``state_rows_html``, ``swatch_html``) are
the ``_macros.j2`` macros' bytes, for every kind of cell and for text that must be escaped;
authcat's own templates use them only where they render unsandboxed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from markupsafe import Markup

from catalog.model.observation import Observation
from catalog.runs.results import Cell
from catalog.site.build import CORE_TEMPLATES, cell_html, core_env, row_html, state_rows_html, swatch_html

HOSTILE = "<b>\"'&amp;</b>"

CELLS = [
    None,
    Cell("expired", "rejected", "", Observation(status=401)),
    Cell("revoked", "as-valid", "served like the valid token", Observation(status=200)),
    Cell("forged", "n/a", "not available on this target"),
    Cell("malformed", "error", HOSTILE, Observation(status=None, error="timed out")),
    Cell(HOSTILE, HOSTILE, HOSTILE, Observation(status=500)),
]


@pytest.mark.parametrize("c", CELLS, ids=lambda c: c.outcome if c else "none")
@pytest.mark.parametrize("href", ["group.html#op--local--expired", HOSTILE])
def test_a_cell_is_the_macros_bytes(c, href):
    macros: Any = core_env().get_template("_macros.j2").module
    for state in ("expired", HOSTILE):
        assert str(cell_html(c, href, f"cell-{HOSTILE}", state)) == str(macros.cell(c, href, f"cell-{HOSTILE}", state))


@pytest.mark.parametrize("outcome", ["rejected", "n/a", "as-anonymous", HOSTILE, None])
def test_a_swatch_is_the_macros_bytes(outcome):
    macros: Any = core_env().get_template("_macros.j2").module
    assert str(swatch_html(outcome)) == str(macros.swatch(outcome))


def _row(endpoint_id: str, summary: Any, cells: dict, verdict: str = "checks-token", reason: str = HOSTILE):
    endpoint = SimpleNamespace(id=endpoint_id, method="GET", path=f"/a/{HOSTILE}/B", summary=summary)
    return SimpleNamespace(endpoint=endpoint, verdict=verdict, href=f"group-{HOSTILE}.html#x",
                           result=SimpleNamespace(cells=cells, reason=reason))


ROWS = [
    _row("op-1", "Lists the Items", {"valid": CELLS[1], "expired": CELLS[1], "revoked": CELLS[2]}),
    _row(f"op {HOSTILE}", HOSTILE, {c.state: c for c in CELLS[1:]}),
    _row("op-3", None, {}, verdict="not-served"),
    _row("op-4", "İstanbul ÉTÉ", {"forged": CELLS[3]}, verdict="not-probed"),
]
COLUMNS = [("good", "Good tokens", ["valid", "anonymous"]), ("bad", HOSTILE, ["expired", "revoked", "forged", HOSTILE])]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.endpoint.id[:4])
@pytest.mark.parametrize("target", ["local", HOSTILE])
def test_a_row_is_the_macros_bytes(row, target):
    macros: Any = core_env().get_template("_macros.j2").module
    run = SimpleNamespace(target=target, states={"valid": 1, "anonymous": 1, "expired": 1})
    made = row_html(row, COLUMNS, run)
    assert isinstance(made, Markup) and str(made) == str(macros.matrix_row(row, COLUMNS, run))
    assert HOSTILE not in str(made)  # every contributed string escaped


HISTORIES = [
    {},
    {"expired": {"since": "2026-11-02T10:00:00Z", "at_least": True}, "revoked": {"since": None},
     "malformed": {"since": f"{HOSTILE}2026", "at_least": False, "before": HOSTILE},
     "forged": {"since": "2026-12-01", "at_least": False, "before": None}},
]


@pytest.mark.parametrize("hist", HISTORIES, ids=["no-history", "history"])
@pytest.mark.parametrize("target", ["local", HOSTILE])
def test_state_rows_are_the_macros_bytes(hist, target):
    macros: Any = core_env().get_template("_macros.j2").module
    headers = {"www-authenticate": f'Basic realm="{HOSTILE}"', "x-aaccountid": "abc", "x-other": HOSTILE}
    cells = {c.state: c for c in CELLS[1:]}
    cells["expired"] = Cell("expired", "rejected", "", Observation(status=401, count=3, headers=headers))
    cells["empty"] = Cell("empty", "empty", "", Observation(status=200, count=0))
    cells["revoked"] = Cell("revoked", "as-valid", "", None)
    e = SimpleNamespace(id=f"op {HOSTILE}")
    run = SimpleNamespace(target=target)
    made = state_rows_html(e, run, cells, hist)
    assert isinstance(made, Markup) and str(made) == str(macros.state_rows(e, run, cells, hist))
    assert HOSTILE not in str(made) and "abc" in str(made) and "x-other" not in str(made)


def test_the_templates_use_them_only_when_authcat_renders_them():
    for name, helper, macro in (("api.md.j2", "row_html", "matrix_row"), ("group.md.j2", "state_rows_html", "state_rows")):
        text = (CORE_TEMPLATES / name).read_text()
        assert f"= {helper} if {helper} is defined else {macro} %}}" in text

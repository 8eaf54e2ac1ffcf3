"""The matrix cell and the outcome swatch written from Python (``catalog.site.build.cell_html``,
``swatch_html``) are the ``_macros.j2`` macros' bytes, for every kind of cell and for text that
must be escaped; authcat's own templates use them only where they render unsandboxed."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.model.observation import Observation
from catalog.runs.results import Cell
from catalog.site.build import CORE_TEMPLATES, cell_html, core_env, swatch_html

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


def test_the_templates_use_them_only_when_authcat_renders_them():
    for name, helper, macro in (("api.md.j2", "cell_html", "cell"), ("group.md.j2", "swatch_html", "swatch")):
        text = (CORE_TEMPLATES / name).read_text()
        assert f"= {helper} if {helper} is defined else {macro} %}}" in text

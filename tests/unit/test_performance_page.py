"""The Performance page quotes the latest ``make bench``: its table must be that run's, not a
hand-edited one (``python -m benchmarks.table`` prints it from ``benchmarks/results.json``)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.table import markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_latest_results_table_is_the_recorded_run():
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    page = (ROOT / "site" / "docs" / "performance.md").read_text(encoding="utf-8")
    section = page.split("## Latest results", 1)[1].split("\n## ", 1)[0]
    assert markdown(results) in section
    assert f"Measured {results['date']}" in section


def test_every_figure_of_the_run_says_its_kind_spread_and_load():
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    for figure in results["figures"]:
        assert figure["kind"] in {"ratio", "absolute", "count"}, figure["figure"]
        assert figure["load"], figure["figure"]
        if figure["value"] is not None and (figure.get("rounds") or 1) > 1 and figure["kind"] != "count":
            low, high = figure["spread"]
            assert low <= figure["value"] <= high, figure["figure"]

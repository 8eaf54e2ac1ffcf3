"""Run every figure (B1–B7), print the table and write ``benchmarks/results.json``.

B1 engine, B2 schedule, B3 site scaling, B4 incremental runs, B5 10,000 endpoints, B6 the test
suite's time (from the last ``make test``), B7 parallel start.

``python -m benchmarks.run`` (or ``make bench``); ``--only B1 B3`` runs a subset (the JSON is
then written beside, as ``results.partial.json``, so the committed table stays whole).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from . import b1_engine, b2_schedule, b3_site, b4_incremental, b5_scale, b6_suite, b7_parallel
from .common import LOADS, ROOT, Row, load_now, machine
from .table import load_text, met_text, spread_text, value_text

FIGURES: dict[str, Callable[..., list[Row]]] = {
    "B1": b1_engine.main, "B2": b2_schedule.main, "B3": b3_site.main, "B4": b4_incremental.main,
    "B5": b5_scale.main, "B6": b6_suite.main, "B7": b7_parallel.main,
}


def table(rows: list[Row]) -> str:
    lines = [("figure", "kind", "value", "spread", "goal", "met?", "load", "note")]
    for r in rows:
        d = r.to_dict()
        lines.append((r.figure, r.kind, value_text(d), spread_text(d), r.goal, met_text(d), load_text(d), r.note))
    cols = len(lines[0]) - 1
    widths = [max(len(line[i]) for line in lines) for i in range(cols)]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line[:cols])) + "  " + line[cols])
        if n == 0:
            out.append("  ".join("-" * w for w in widths) + "  ----")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=sorted(FIGURES), help="run these figures only")
    args = ap.parse_args()
    chosen = args.only or list(FIGURES)
    started = time.perf_counter()
    load_before = os.getloadavg()
    rows: list[Row] = []
    took: dict[str, float] = {}  # each figure's wall time: where `make bench`'s time goes
    for name in chosen:
        LOADS.clear()
        before = load_now()
        figure_started = time.perf_counter()
        try:
            got = FIGURES[name](log=print)
        except Exception as exc:
            print(f"{name} failed: {type(exc).__name__}: {str(exc)[-500:]}")
            got = [Row(f"{name} (failed)", None, "", "—", False, f"{type(exc).__name__}: {str(exc)[-300:]}")]
        after = load_now()
        took[name] = round(time.perf_counter() - figure_started, 1)
        print(f"{name} took {took[name]:.0f} s")
        for row in got:  # the load seen while this figure ran: its rounds', and before and after it
            if row.load is None:
                loads = [before, after, *LOADS]
                row.load = (min(loads), max(loads))
        rows += got
    info = {**machine(), "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": info,
        "duration_s": round(time.perf_counter() - started, 1),
        "figure_duration_s": took,
        "figures": [r.to_dict() for r in rows],
    }
    out = ROOT / "benchmarks" / ("results.json" if not args.only else "results.partial.json")
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(f"{info['cpu']}, {info['cores']} cores, Python {info['python']}; load average "
          f"{info['load_average_before'][0]} → {info['load_average_after'][0]}")
    print(table(rows))
    print(f"\ntook {result['duration_s']:.0f} s: " + ", ".join(f"{n} {t:.0f} s" for n, t in took.items()))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The latest results as a Markdown table (README and the site's Performance page quote it).

``python -m benchmarks.table`` prints the table from ``benchmarks/results.json``: every figure
with its value, its goal and whether it is met, in the order ``make bench`` ran them.
"""

from __future__ import annotations

import json

from .common import ROOT


def markdown(results: dict) -> str:
    lines = ["| figure | value | goal | met? |", "|---|---|---|---|"]
    for f in results["figures"]:
        value = "not measured" if f["value"] is None else f"{f['value']:g} {f['unit']}".strip()
        met = "—" if f["met"] is None else "yes" if f["met"] else "**no**"
        lines.append(f"| {f['figure']} | {value} | {f['goal']} | {met} |")
    return "\n".join(lines)


def main() -> int:
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    m = results["machine"]
    print(f"Measured {results['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
          f"`make bench` took {results['duration_s']:.0f} s.\n")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

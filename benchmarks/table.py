"""The latest results as a Markdown table (README and the site's Performance page quote it).

``python -m benchmarks.table`` prints the table from ``benchmarks/results.json``: every figure
with its value, its goal and whether it is met, in the order ``make bench`` ran them.
"""

from __future__ import annotations

import json

from .common import ROOT


def value_text(f: dict) -> str:
    return "not measured" if f["value"] is None else f"{f['value']:g} {f['unit']}".strip()


def spread_text(f: dict) -> str:
    """``lowest–highest (n rounds)``, or ``1 run`` for a single measurement."""
    if f.get("spread"):
        low, high = f["spread"]
        return f"{low:g}–{high:g} ({f.get('rounds') or '?'} rounds)"
    if f.get("value") is None:
        return "—"
    # A count checked in every round (B4's "only the edited endpoint") has no spread, but rounds.
    return f"{f['rounds']} rounds" if (f.get("rounds") or 1) > 1 else "1 run"


def met_text(f: dict) -> str:
    return "—" if f["met"] is None else "yes" if f["met"] else "no"


def load_text(f: dict) -> str:
    load = f.get("load")
    return "—" if not load else f"{load[0]:g}" if load[0] == load[1] else f"{load[0]:g}–{load[1]:g}"


def markdown(results: dict) -> str:
    lines = ["| figure | kind | value (median) | spread | goal | met? | load (2 cores) |", "|---|---|---|---|---|---|---|"]
    for f in results["figures"]:
        met = met_text(f) if f["met"] is not False else "**no**"
        lines.append(f"| {f['figure']} | {f.get('kind', '?')} | {value_text(f)} | {spread_text(f)} | {f['goal']} | "
                     f"{met} | {load_text(f)} |")
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

"""Test-suite time: ``make test``'s wall time and its ten slowest tests.

``scripts/run-tests`` (what ``make test`` and CI run) writes ``.cache/last-test-run.json`` (start,
end, exit status: from the system-packages check through the static checks and the suite to its
end, all a user waits for once the venv exists; not the venv's creation) and pytest's JUnit file
``.cache/last-test-run.xml`` (each test's time: set-up, call and tear-down). This figure reads the
last run's files; with ``--run`` (``python -m benchmarks.b6_suite --run``) it runs the suite
first. A suite that was not run is reported as not measured, never guessed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from .common import ROOT, Row

GOAL_S = 360.0
LAST = ROOT / ".cache" / "last-test-run.json"
JUNIT = ROOT / ".cache" / "last-test-run.xml"


def slowest(junit_text: str, n: int = 10) -> tuple[int, list[tuple[float, str]]]:
    """How many tests ran and the ``n`` slowest as (seconds, ``file::name``)."""
    root = ET.fromstring(junit_text)
    cases = []
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        cases.append((float(case.get("time") or 0), name))
    return len(cases), sorted(cases, reverse=True)[:n]


def main(run: bool = False, log=print) -> list[Row]:
    if run:
        log("B6: running make test (the whole suite)")
        subprocess.run(["make", "test"], cwd=ROOT, check=False)
    if not LAST.exists() or not JUNIT.exists():
        return [Row("B6 make test wall time", None, "s", f"≤ {GOAL_S:.0f}", None,
                    "not measured: no .cache/last-test-run.* (run `make test`, or `python -m benchmarks.b6_suite --run`)",
                    kind="absolute")]
    last = json.loads(LAST.read_text())
    wall = float(last["ended"]) - float(last["started"])
    count, top = slowest(JUNIT.read_text())
    when = datetime.fromtimestamp(float(last["ended"]), UTC).strftime("%Y-%m-%dT%H:%MZ")
    note = (f"{count} tests, exit {last['exit']}, run {when}; slowest: "
            + "; ".join(f"{name} {secs:.1f} s" for secs, name in top))
    if last.get("arguments"):  # `make test` passes none; a chosen subset's time is not the suite's
        return [Row("B6 make test wall time", None, "s", f"≤ {GOAL_S:.0f}", None,
                    f"not measured: the last run-tests was given arguments (a subset of the suite, {wall:.0f} s); "
                    "run `make test`", kind="absolute")]
    if last["exit"] != 0:  # an interrupted or failing suite's time is not the suite's time
        note = f"the last make test did not pass (exit {last['exit']}): its time is not a whole run's; " + note
    return [Row("B6 make test wall time", round(wall, 1), "s", f"≤ {GOAL_S:.0f}", wall <= GOAL_S and last["exit"] == 0, note,
                {"tests": count, "exit": last["exit"], "date": when, "workers": last.get("workers"),
                 "slowest": [{"test": name, "s": round(secs, 2)} for secs, name in top]}, "absolute", None, 1,
                tuple(last["load"]) if last.get("load") else None)]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="store_true", help="run make test first")
    for row in main(ap.parse_args().run):
        print(row.to_dict())

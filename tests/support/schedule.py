"""pytest-xdist scheduling: each group of tests (tests/conftest.py: a module, or the modules
sharing a session fixture) runs whole on one worker, the longest groups first.

xdist's own ``--dist loadgroup`` finds a test's group in a suffix it appends to the test's node id;
from pytest 9.2 on the node id cannot be changed that way, the suffix never appears, and every
test becomes a group of its own: a module's servers and a session's runs were then set up on every
worker. The scheduler here computes the group from the node id itself, the same rule the
``xdist_group`` marks follow.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

TESTS = Path(__file__).resolve().parents[1]
# Each module's summed test time in a full run, for the order of a run with no report of its own
# (a clean clone): only the order of the groups depends on it. Refresh it after a full run with
# ``python -m tests.support.schedule .cache/last-test-run.xml``.
KNOWN = Path(__file__).with_name("durations.json")


def module_of(nodeid: str) -> str:
    """``tests/unit/x/test_y.py::test_z[a::b]@group`` -> ``unit/x/test_y.py`` (relative to tests/)."""
    path = nodeid.split("::", 1)[0]
    return path.removeprefix("tests/")


def seconds_by_module(junit: Path) -> dict[str, float]:
    """Each module's summed test time in the last run's JUnit report (empty if there is none)."""
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return {}
    seconds: dict[str, float] = {}
    for case in root.iter("testcase"):
        parts = case.get("classname", "").split(".")[1:]  # tests.unit.x.test_y[.Class]
        while parts and not (TESTS.joinpath(*parts[:-1]) / f"{parts[-1]}.py").is_file():
            parts.pop()
        if parts:
            module = "/".join(parts) + ".py"
            seconds[module] = seconds.get(module, 0.0) + float(case.get("time") or 0)
    return seconds


def make_scheduler(group_of: Callable[[str], str], junit: Path):
    """A LoadScopeScheduling whose scope is ``group_of(module)``, ordered longest group first: by
    the last run's times where there is a report, else by :data:`KNOWN`, then by number of tests."""

    class GroupScheduling(LoadScopeScheduling):
        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            return group_of(module_of(nodeid))

        def _assign_work_unit(self, node) -> None:
            if not self.ordered:  # the queue is complete before the first unit is handed out
                self.ordered = True
                seconds: dict[str, float] = {}
                for module, time in (seconds_by_module(junit) or json.loads(KNOWN.read_text())).items():
                    seconds[group_of(module)] = seconds.get(group_of(module), 0.0) + time
                units = sorted(self.workqueue.items(), key=lambda u: (-seconds.get(u[0], 0.0), -len(u[1])))
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return GroupScheduling


if __name__ == "__main__":
    known = {m: round(t, 1) for m, t in sorted(seconds_by_module(Path(sys.argv[1])).items())}
    KNOWN.write_text(json.dumps(known, indent=0) + "\n")

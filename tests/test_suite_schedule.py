"""The suite's own scheduling: under ``-n 2 --dist loadgroup`` every test of a module runs on one
worker (its module fixtures and servers start once), and the modules sharing a session fixture
share that worker."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.conftest import group_of
from tests.support.project import REPO
from tests.support.schedule import KNOWN, TESTS, module_of, seconds_by_module


def test_each_module_runs_whole_on_one_worker():
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider", "-v",
         "tests/unit/engine/test_retry.py", "tests/unit/engine/test_body.py"],
        cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    workers: dict[str, set[str]] = {}
    for worker, module in re.findall(r"^\[(gw\d)\] .*?PASSED (tests/\S+?\.py)::", done.stdout, re.M):
        workers.setdefault(module, set()).add(worker)
    assert set(workers) == {"tests/unit/engine/test_retry.py", "tests/unit/engine/test_body.py"}, done.stdout
    assert all(len(w) == 1 for w in workers.values()), workers


def test_groups_and_the_last_runs_times(tmp_path):
    assert module_of("tests/unit/engine/test_retry.py::test_a[x::y]@unit/engine/test_retry.py") == "unit/engine/test_retry.py"
    assert group_of("test_export.py") == group_of("test_backlot_catalog.py") != group_of("test_drift.py")
    junit = tmp_path / "run.xml"
    junit.write_text('<testsuites><testsuite><testcase classname="tests.test_drift" time="2.5"/>'
                     '<testcase classname="tests.test_drift" time="1"/>'
                     '<testcase classname="tests.unit.engine.test_retry" time="0.5"/></testsuite></testsuites>')
    assert seconds_by_module(junit) == {"test_drift.py": 3.5, "unit/engine/test_retry.py": 0.5}
    assert seconds_by_module(tmp_path / "none.xml") == {}
    # A clean clone orders the groups by the committed times of a full run: every module named exists.
    known = json.loads(KNOWN.read_text())
    assert known and all((TESTS / module).is_file() for module in known)

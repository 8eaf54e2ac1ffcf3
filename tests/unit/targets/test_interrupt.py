"""Ctrl-C or SIGTERM ends a run at once and leaves nothing: the servers already up are killed, not
asked to stop; a start that outlives its run cannot make the run's removed folder again; the
build process ``run`` starts early is stopped, not waited for (issue 23 item 1).

Real processes on this machine; the launchers are small test ones (the servers are not the point).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from catalog.model.credentials import Credentials
from catalog.model.definition import TargetProfile
from catalog.pipeline import BuildChild, Project
from catalog.targets.launchers import LaunchContext, Launched
from catalog.targets.process import ServerProcess
from catalog.targets.profiles import TargetPool
from tests.support.project import make_project

# Writes "graceful" when asked to stop (SIGTERM), then exits; says it is up by writing its pid.
POLITE = """
import os, signal, sys, time
here = sys.argv[1]
def stop(*_):
    open(os.path.join(here, "graceful"), "w").close()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(os.path.join(here, "pid"), "w").write(str(os.getpid()))
while True:
    time.sleep(0.05)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for this purpose: it runs nothing and holds nothing.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _polite_launcher(marks: Path):
    @contextlib.contextmanager
    def start(ctx: LaunchContext):
        with ServerProcess([sys.executable, "-c", POLITE, str(marks)], ctx.scratch_dir / "polite.log") as server:
            deadline = time.monotonic() + 30
            while not (marks / "pid").exists() or not (marks / "pid").read_text():
                assert time.monotonic() < deadline and server.proc and server.proc.poll() is None
                time.sleep(0.02)
            yield Launched(base_url="http://127.0.0.1:9", version="1", credentials=Credentials())
    return start


def test_a_normal_end_asks_the_server_to_stop(tmp_path):
    """The control case: without an interrupt the server gets its SIGTERM and stops by itself."""
    with TargetPool({"polite": _polite_launcher(tmp_path)}, tmp_path / "cache", tmp_path / "run") as pool:
        pool.start([TargetProfile(api="toy", name="one", launcher="polite")])
        pid = int((tmp_path / "pid").read_text())
    assert (tmp_path / "graceful").exists() and not _alive(pid)


def test_an_interrupt_kills_the_servers_already_up_at_once(tmp_path):
    """Ctrl-C or SIGTERM: no graceful stop (a busy server may take its whole grace to leave)."""
    pool = TargetPool({"polite": _polite_launcher(tmp_path)}, tmp_path / "cache", tmp_path / "run")
    with pytest.raises(KeyboardInterrupt), pool:
        pool.start([TargetProfile(api="toy", name="one", launcher="polite")])
        pid = int((tmp_path / "pid").read_text())
        raise KeyboardInterrupt
    assert not _alive(pid)
    assert not (tmp_path / "graceful").exists(), "the server was asked to stop instead of killed"


def test_a_start_after_its_run_ended_does_not_make_the_run_folder_again(tmp_path):
    started: list[str] = []

    @contextlib.contextmanager
    def late(ctx: LaunchContext):
        started.append(ctx.name)
        yield Launched(base_url="http://127.0.0.1:9", version="1", credentials=Credentials())

    run = tmp_path / "run"
    with TargetPool({"late": late}, tmp_path / "cache", run) as pool:
        run.rmdir()  # the run's folder removed, as at the end of a run, before this start
        pool.start([TargetProfile(api="toy", name="one", launcher="late")])
        assert not run.exists() and started == []
        with pytest.raises(Exception, match="late"):
            pool.running(TargetProfile(api="toy", name="one", launcher="late"), tmp_path)


def test_the_early_build_process_is_stopped_not_waited_for(tmp_path):
    """``run`` starts the build's process before probing; cancelled, it is stopped where it is
    (it waits on its stdin only once its start is over, seconds on a busy machine)."""
    root = make_project(tmp_path / "proj", "toy", [{"id": "one", "method": "GET", "path": "/one"}],
                        {"name": "local", "base_url": "http://127.0.0.1:9"})
    child = BuildChild(Project(root))
    child.cancel()
    assert child.proc.returncode in (-signal.SIGTERM, 128 + signal.SIGTERM, -signal.SIGKILL), child.proc.returncode
    assert not (root / "site" / "build").exists()

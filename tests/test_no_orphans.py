"""Nothing a run launched outlives it: no process, no scratch folder (issue 23 item 1).

Every launched process inherits a marker variable from the authcat process, so the test finds all
of them — the servers, their guards and a ``sleep`` the server started in a session of its own —
by reading ``/proc/*/environ``. Signals are sent on readiness (both servers' pid files written, the
progress file holding the finished endpoints), never after a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml

from catalog.targets.process import sweep_stale
from tests.servers.launcher_plugin import install_entry_point
from tests.support.project import CACHE, REPO, copy_project, make_project, start_cli

OK_ENDPOINTS = [{"id": f"ok-{i}", "method": "GET", "path": f"/ok-{i}", "collection": "/values"} for i in range(1, 5)]
STALL = {"id": "stall", "method": "GET", "path": "/stall"}


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def marked(marker: str) -> list[str]:
    """Every live process (not a zombie) whose environment holds ``marker``, as 'pid command'."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if needle not in Path(f"/proc/{entry}/environ").read_bytes():
                continue
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            found.append(f"{entry} {command}")
    return found


def scratch_folders(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("authcat-"))


def left_in(tmp: Path) -> str:
    """What a scratch folder left behind holds, for the failure message (what wrote it, and when)."""
    lines = []
    for folder in scratch_folders(tmp):
        for path in sorted((tmp / folder).rglob("*")):
            info = path.lstat()
            lines.append(f"{path.relative_to(tmp)} {'dir' if path.is_dir() else info.st_size} mtime={info.st_mtime:.3f}")
        lines.append(f"{folder} mtime={(tmp / folder).lstat().st_mtime:.3f}")
    return "\n".join(lines)


def setup(tmp_path: Path, slow_start: bool):
    """A project whose ``quick`` target starts at once and, with ``slow_start``, a ``slow`` one whose
    start never ends; both servers first start an orphan ``sleep`` in a session of their own."""
    pids = {name: tmp_path / f"{name}.pid" for name in ("quick", "slow")}
    quick = {"name": "quick", "launcher": "fault-server", "timeout": 120, "retries": 0,
             "options": {"pidfile": str(pids["quick"]), "orphan": True}}
    root = make_project(tmp_path / "proj", "orphans", OK_ENDPOINTS + [STALL], quick)
    if slow_start:
        slow = {"name": "slow", "launcher": "fault-server", "timeout": 120, "retries": 0,
                "options": {"pidfile": str(pids["slow"]), "orphan": True, "ready_path": "/stall", "start_timeout": 600}}
        (root / "endpoints" / "orphans" / "targets" / "slow.yaml").write_text(yaml.safe_dump(slow))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    marker = f"ORPHAN_MARK_{uuid.uuid4().hex}"
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), str(install_entry_point(tmp_path / "plugins"))]),
           "AUTHCAT_LOAD_PLUGINS": "faultlauncher", "AUTHCAT_CACHE_DIR": str(tmp_path / "cache"),
           "TMPDIR": str(tmp), marker: "1"}
    proc = start_cli(root, "probe", "--refresh", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return root, proc, pids, marker, tmp


def started(pids: dict[str, Path], names) -> bool:
    return all(pids[n].exists() and pids[n].read_text() for n in names)


def progress_written(root: Path):
    partial = root / "site" / "data" / "observations" / "orphans" / "quick.partial.json"
    return lambda: partial.exists() and {"ok-1", "ok-2", "ok-3", "ok-4"} <= set(json.loads(partial.read_text())["endpoints"])


@pytest.mark.parametrize("moment", ["start-up", "probing"])
def test_sigkill_leaves_no_launched_process_and_no_scratch_folder(tmp_path, moment):
    root, proc, pids, marker, tmp = setup(tmp_path, slow_start=moment == "start-up")
    try:
        if moment == "start-up":  # one server up, the other still starting
            wait_for(lambda: started(pids, ["quick", "slow"]), 120, "both servers to be spawned")
        else:
            wait_for(progress_written(root), 120, "the finished endpoints' progress write")
        assert len(marked(marker)) >= 4, marked(marker)  # authcat, a guard, a server, an orphan at least
        assert scratch_folders(tmp)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The guards see authcat gone (a pidfd) and kill everything below them, orphans included.
    wait_for(lambda: not marked(marker), 30, f"every launched process to end: {marked(marker)}")
    wait_for(lambda: not scratch_folders(tmp), 30, f"the scratch folder to be removed: {scratch_folders(tmp)}")


def test_sigterm_during_start_up_stops_at_once(tmp_path):
    _root, proc, pids, marker, tmp = setup(tmp_path, slow_start=True)
    try:
        wait_for(lambda: started(pids, ["quick", "slow"]), 120, "both servers to be spawned")
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err, err
    assert took < 10, f"SIGTERM during start-up took {took:.1f} s to end the command"
    assert not marked(marker), "left running after the command ended"
    assert not scratch_folders(tmp), f"scratch folder left after the command ended:\n{left_in(tmp)}\n{err}"


def test_stale_scratch_folders_of_dead_runs_are_swept(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid is now free: the run that named a folder after it is gone
    stale = tmp_path / f"authcat-run-{dead.pid}-abc123"
    (stale / "synapse").mkdir(parents=True)
    (stale / "synapse" / "signing.key").write_text("a server secret")
    alive = tmp_path / f"authcat-run-{os.getpid()}-def456"  # this process: a run still going
    alive.mkdir()
    other = tmp_path / "authcat-unrelated"  # not a name authcat gives: never touched
    other.mkdir()
    assert sweep_stale(tmp_path) == [stale]
    assert not stale.exists() and alive.exists() and other.exists()


# -- the bundled launchers: Backlot, Datasette (token-minting subprocesses), Jupyter Server, Synapse --

def _real_run(tmp_path: Path):
    root = copy_project(tmp_path / "bundled")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    marker = f"ORPHAN_MARK_{uuid.uuid4().hex}"
    env = {"AUTHCAT_CACHE_DIR": str(CACHE), "TMPDIR": str(tmp), marker: "1"}
    proc = start_cli(root, "run", "--refresh", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, marker, tmp


def guards(marker: str) -> list[str]:
    return [p for p in marked(marker) if "guard.py" in p]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_real_refresh_signalled_during_start_up_leaves_nothing(tmp_path, sig):
    """``run --refresh`` of the bundled targets, signalled as soon as three launches are under way
    (Datasette's token minting among them, or a server already up): nothing it started remains."""
    proc, marker, tmp = _real_run(tmp_path)
    try:
        wait_for(lambda: len(guards(marker)) >= 3, 180, "three guarded launches")
        signalled = time.monotonic()
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        wait_for(lambda: not marked(marker), 30, f"every launched process to end: {marked(marker)}")
        wait_for(lambda: not scratch_folders(tmp), 30, f"the scratch folder to be removed: {scratch_folders(tmp)}")
    else:
        assert proc.returncode == 143, err
        assert took < 10, f"SIGTERM during start-up took {took:.1f} s to end the command:\n{err}"
        assert not marked(marker), "left running after the command ended"
        assert not scratch_folders(tmp), f"scratch folder left after the command ended (at {time.time():.3f}):\n{left_in(tmp)}\n{err}"

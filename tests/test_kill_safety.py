"""Nothing is lost: a run killed with SIGKILL mid-way leaves the previous observations byte for
byte; a run interrupted with Ctrl-C (SIGINT) stops its local servers and a second run resumes,
reusing the cells the first one finished instead of probing them again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import yaml

from tests.servers.fault_server import FaultServer
from tests.servers.launcher_plugin import install_entry_point
from tests.support.project import AUTHCAT, REPO, cli_env, make_project, remote_target, role_env, run_cli

OK_ENDPOINTS = [{"id": f"ok-{i}", "method": "GET", "path": f"/ok-{i}", "collection": "/values"} for i in range(1, 5)]
STALL = {"id": "stall", "method": "GET", "path": "/stall"}


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json")) if not p.name.endswith(".partial.json")}


def test_sigkill_leaves_previous_observations_untouched(tmp_path):
    env = role_env("KILL", "kill-test-secret", "me@example.test")
    with FaultServer() as server:
        root = make_project(tmp_path / "proj", "killed", OK_ENDPOINTS,
                            remote_target("remote", "KILL_URL", "KILL", timeout=30, retries=0))
        env["KILL_URL"] = server.url
        first = run_cli(root, "probe", env=env)
        assert first.returncode == 0, first.stderr
        folder = root / "site" / "data" / "observations" / "killed"
        before = snapshot(folder)
        assert "remote.json" in before

        server.stall_all = True  # every request now hangs: the run is mid-way when it dies
        server.arrivals.clear()
        proc = subprocess.Popen([*AUTHCAT, "--root", str(root), "probe", "--refresh"], env=cli_env(env), cwd=root,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: len(server.arrivals) >= 8, 30, "the second run's requests (concurrency 8)")
            time.sleep(1.2)  # long enough for a progress write to happen, should one be due
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert snapshot(folder) == before, "the killed run changed the observations"
        for path in folder.glob("*.json"):  # whatever exists is whole JSON, never half a file
            json.loads(path.read_text())


def test_sigint_stops_servers_and_the_next_run_resumes(tmp_path):
    pidfile = tmp_path / "server.pid"
    # The stalling endpoint answers only when the run is interrupted: with the longest timeout a
    # profile may set (120 s, three times the wait below) the SIGINT always lands mid-run.
    target = {"name": "local", "launcher": "fault-server", "options": {"pidfile": str(pidfile)}, "timeout": 120, "retries": 0}
    root = make_project(tmp_path / "proj", "resumed", OK_ENDPOINTS + [STALL], target)
    plugin_path = install_entry_point(tmp_path / "plugins")
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), str(plugin_path)]), "AUTHCAT_LOAD_PLUGINS": "faultlauncher",
           "AUTHCAT_CACHE_DIR": str(tmp_path / "cache")}
    folder = root / "site" / "data" / "observations" / "resumed"
    partial = folder / "local.partial.json"

    proc = subprocess.Popen([*AUTHCAT, "--root", str(root), "probe"], env=cli_env(env), cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        def finished_ok():
            if not partial.exists():
                return None
            done = json.loads(partial.read_text())["endpoints"]
            return {e for e in done if e.startswith("ok-")} == {"ok-1", "ok-2", "ok-3", "ok-4"}

        wait_for(finished_ok, 40, "the four fast endpoints to be saved as progress")
        server_pid = int(pidfile.read_text())
        assert Path(f"/proc/{server_pid}").exists()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    wait_for(lambda: not Path(f"/proc/{server_pid}").exists(), 10, "the launched server to be gone")
    assert not (folder / "local.json").exists(), "an interrupted run writes no observation file"
    assert {"ok-1", "ok-2", "ok-3", "ok-4"} <= set(json.loads(partial.read_text())["endpoints"])

    # Resume: the stalling endpoint now times out quickly (the timeout is not part of the cache key).
    target_file = root / "endpoints" / "resumed" / "targets" / "local.yaml"
    target_file.write_text(yaml.safe_dump({**target, "timeout": 0.5}))
    second = run_cli(root, "probe", env=env)
    assert second.returncode == 0, second.stderr
    run = json.loads((folder / "local.json").read_text())
    states = [s for s, info in run["states"].items() if info["available"]]
    assert run["run"]["reused"] == 4, run["run"]
    assert run["run"]["probes"] == len(states), "only the unfinished endpoint was probed again"
    assert {c["outcome"] for c in run["endpoints"]["stall"]["states"].values() if c["outcome"] != "n/a"} == {"error"}
    assert not partial.exists(), "a completed run removes its progress file"
    second_pid = int(pidfile.read_text())
    assert second_pid != server_pid and not Path(f"/proc/{second_pid}").exists()

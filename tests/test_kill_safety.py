"""Nothing is lost, whatever stops a run (issue 11 item 7).

Every test lets the *server* (or a build plugin) decide when the run is interruptible: the stalling
endpoint never answers on its own, so the signal always lands mid-run however slow the machine,
and no sleep races the run.

- SIGKILL mid-probe leaves the previous observations byte for byte.
- SIGINT and SIGTERM stop the launched server and keep finished endpoints; the next run resumes.
- SIGKILL at any point of a site build leaves the previous site whole, ``catalog.json`` included.
- One writer per project: a second ``build`` exits with code 75 naming the holder, or waits.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from catalog.runs.lock import BUSY_EXIT, project_lock
from tests.servers import kill_plugin
from tests.servers.fault_server import FaultServer
from tests.servers.launcher_plugin import install_entry_point
from tests.support.project import REPO, make_project, role_env, run_cli, start_cli

OK_ENDPOINTS = [{"id": f"ok-{i}", "method": "GET", "path": f"/ok-{i}", "collection": "/values"} for i in range(1, 5)]
STALL = {"id": "stall", "method": "GET", "path": "/stall"}
OK_IDS = {"ok-1", "ok-2", "ok-3", "ok-4"}


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


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def progress_has(partial: Path, ids: set[str]):
    def check():
        if not partial.exists():
            return False
        return ids <= set(json.loads(partial.read_text())["endpoints"])
    return check


def remote(name: str, env_prefix: str, **extra) -> dict:
    creds = {"valid": {"secret": {"env": f"{env_prefix}_VALID_SECRET"}, "identity": {"env": f"{env_prefix}_VALID_ID"}}}
    return {"name": name, "base_url_env": f"{env_prefix}_URL", "credentials": creds, **extra}


def test_sigkill_mid_probe_leaves_previous_observations_untouched(tmp_path):
    env = role_env("KILL", "kill+Test/Secret=", "Me~kill@example.test", roles=("valid",))
    with FaultServer() as server:
        env["KILL_URL"] = server.url
        root = make_project(tmp_path / "proj", "killed", OK_ENDPOINTS + [STALL], remote("remote", "KILL", timeout=0.5, retries=0))
        first = run_cli(root, "probe", env=env)
        assert first.returncode == 0, first.stderr
        folder = root / "site" / "data" / "observations" / "killed"
        before = snapshot(folder)
        assert "remote.json" in before

        target_file = root / "endpoints" / "killed" / "targets" / "remote.yaml"
        target_file.write_text(yaml.safe_dump(remote("remote", "KILL", timeout=120, retries=0)))
        proc = start_cli(root, "probe", "--refresh", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # A progress write has happened (the fast endpoints are in it); /stall never answers.
            wait_for(progress_has(folder / "remote.partial.json", OK_IDS), 60, "a progress write")
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert snapshot(folder) == before, "the killed run changed the observations"
        for path in folder.glob("*.json"):  # whatever exists is whole JSON, never half a file
            json.loads(path.read_text())


@pytest.mark.parametrize(("sig", "code", "message"), [
    (signal.SIGINT, 130, "interrupted; local servers were stopped"),
    (signal.SIGTERM, 143, "terminated (SIGTERM); local servers were stopped"),
], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_servers_and_the_next_run_resumes(tmp_path, sig, code, message):
    pidfile = tmp_path / "server.pid"
    # /stall never answers and the timeout is the longest a profile may set: the run cannot finish
    # before the signal.
    target = {"name": "local", "launcher": "fault-server", "options": {"pidfile": str(pidfile)}, "timeout": 120, "retries": 0}
    root = make_project(tmp_path / "proj", "resumed", OK_ENDPOINTS + [STALL], target)
    plugin_path = install_entry_point(tmp_path / "plugins")
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), str(plugin_path)]), "AUTHCAT_LOAD_PLUGINS": "faultlauncher",
           "AUTHCAT_CACHE_DIR": str(tmp_path / "cache")}
    folder = root / "site" / "data" / "observations" / "resumed"
    partial = folder / "local.partial.json"

    proc = start_cli(root, "probe", env=env, stderr=subprocess.PIPE)
    try:
        wait_for(progress_has(partial, OK_IDS), 60, "the four fast endpoints to be saved as progress")
        server_pid = int(pidfile.read_text())
        assert Path(f"/proc/{server_pid}").exists()
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err and message in err, err
    wait_for(lambda: not Path(f"/proc/{server_pid}").exists(), 10, "the launched server to be gone")
    assert not (folder / "local.json").exists(), "an interrupted run writes no observation file"
    assert set(json.loads(partial.read_text())["endpoints"]) >= OK_IDS

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


ALLOW_KILL = ("--allow-mkdocs", "authcat-test-kill")  # an operator's plugin, outside the built-in allow-list


@pytest.fixture(scope="module")
def built_with_kill_plugin(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A project whose mkdocs.yml names the kill plugin, built once (the site a killed build must
    leave whole): each test kills a build of its own copy."""
    folder = tmp_path_factory.mktemp("sitekill")
    root = make_project(folder / "proj", "sitekill", OK_ENDPOINTS, remote("remote", "SITEKILL"))
    config = root / "site" / "mkdocs.yml"
    text = config.read_text()
    assert "\nplugins:\n" in text
    config.write_text(text.replace("\nplugins:\n", "\nplugins:\n  - authcat-test-kill\n"))
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), str(kill_plugin.install(folder / "plugins"))])}
    first = run_cli(root, "build", *ALLOW_KILL, env=env)
    assert first.returncode == 0, first.stderr
    return root, env


@pytest.mark.parametrize("point", ["page", "post-build"], ids=["mid-render", "staging-complete"])
def test_sigkill_during_a_build_keeps_the_whole_previous_site(built_with_kill_plugin, tmp_path, point):
    built, env = built_with_kill_plugin
    root = Path(shutil.copytree(built, tmp_path / "proj", symlinks=True))
    build = root / "site" / "build"
    before = tree(build)
    assert "catalog.json" in before and "index.html" in before

    api_file = root / "endpoints" / "sitekill" / "api.yaml"
    api_file.write_text(api_file.read_text().replace("Test API sitekill", "Renamed API sitekill"))
    killed = run_cli(root, "build", *ALLOW_KILL, env={**env, "SITEKILL_AT": point})
    # The build runs in a child process (it holds no secret): the child is the one killed.
    assert killed.returncode == 128 + signal.SIGKILL and "killed (signal 9)" in killed.stderr, killed.stderr
    assert tree(build) == before, "the killed build changed the published site"

    third = run_cli(root, "build", *ALLOW_KILL, env=env)
    assert third.returncode == 0, third.stderr
    export = json.loads((build / "catalog.json").read_text())
    assert [a["title"] for a in export["apis"]] == ["Renamed API sitekill"]
    assert not [p for p in (root / "site").iterdir() if p.name.startswith(".build")], "staging left behind"


def _flock_waiters(pid: int) -> bool:
    """Whether ``pid`` is blocked waiting for a flock (``/proc/locks`` lists waiters with ``->``)."""
    return any("->" in line and "FLOCK" in line and line.split()[5] == str(pid)
               for line in Path("/proc/locks").read_text().splitlines())


def test_one_writer_per_project(tmp_path):
    root = make_project(tmp_path / "proj", "locked", OK_ENDPOINTS, remote("remote", "LOCKED"))
    with project_lock(root, "run"):
        busy = run_cli(root, "build")
        assert busy.returncode == BUSY_EXIT, busy.stderr
        assert "is busy: `authcat run` (pid " in busy.stderr and "pass --wait" in busy.stderr
        assert "Traceback" not in busy.stderr
        assert not (root / "site" / "build").exists(), "the refused build wrote nothing"
        waiting = start_cli(root, "build", "--wait", stderr=subprocess.PIPE)
        try:
            wait_for(lambda: _flock_waiters(waiting.pid), 30, "the second build to queue on the lock")
            assert not (root / "site" / "build").exists()
        except BaseException:
            waiting.kill()
            raise
    _out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert (root / "site" / "build" / "catalog.json").is_file()

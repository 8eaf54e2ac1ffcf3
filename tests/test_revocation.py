"""``authcat watch-revocation`` against a server that honours a revocation after a known delay.

The server (``tests/servers/revocation.py``) keeps serving a revoked token for ``delay`` seconds,
then serves it as anonymous (Jira's behaviour, evidence R1/R5) or refuses it. The watch must
measure that delay to within one poll interval, store it atomically with the API's data, show it
on the site, and never let the token reach the file, the output or an error.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from catalog.commands.watch_revocation import build_plan
from catalog.engine import revocation_latency as revocation
from catalog.hooks.manager import Hooks, get_plugin_manager
from catalog.pipeline import Project, build
from tests.servers.fault_server import FaultServer
from tests.servers.revocation import RevocationServer
from tests.support.project import REPO, make_project, run_cli, start_cli

TOKEN = "rvk_CANARY_7f3a9c1e5b2d4f60"  # a canary: must never appear in anything authcat writes
DELAY = 3.0
INTERVAL = 0.5
# The watch's clock starts when it announces the baseline; the test revokes on reading that line.
# The lag between the two (pipe + one local HTTP call, more on a loaded machine) is measured and
# taken off; SLACK covers only the pipe latency before the line is read, which is not measurable.
SLACK = 0.05

ENDPOINT = {"id": "me", "method": "GET", "path": "/api/me", "summary": "The caller and their items", "collection": "/items"}


def _project(tmp_path: Path, server: RevocationServer) -> Path:
    return make_project(tmp_path / "proj", "rev", [ENDPOINT], {"name": "remote", "base_url_env": "REV_URL"},
                        api_extra={"scheme": "bearer"})


def _plan(root: Path, server: RevocationServer, monkeypatch, interval: float, max_wait: float, confirm: int = 2):
    monkeypatch.setenv("REV_TOKEN", TOKEN)
    monkeypatch.setenv("REV_URL", server.url)
    hooks = Hooks(get_plugin_manager(load_external=False))
    return build_plan(root, hooks, "rev", "remote", "me", "REV_TOKEN", None, interval, max_wait, confirm)


def test_cli_measures_the_delay_and_stores_it_without_the_token(tmp_path):
    with RevocationServer(TOKEN, delay=DELAY, mode="anonymous") as server:
        root = _project(tmp_path, server)
        proc = start_cli(root, "watch-revocation", "--api", "rev", "--target", "remote", "--endpoint", "me",
                         "--token-env", "REV_TOKEN", "--interval", str(INTERVAL), "--max-wait", "15", "--confirm", "2",
                         env={"REV_TOKEN": TOKEN, "REV_URL": server.url}, stderr=subprocess.PIPE)
        stderr_lines = []
        deadline = time.monotonic() + 30
        admin = httpx.Client(timeout=5)  # made beforehand: building a client takes a while
        try:
            while time.monotonic() < deadline:
                line = proc.stderr.readline()
                if not line:
                    break
                stderr_lines.append(line)
                if line.startswith("Revoke the token now"):
                    seen = time.monotonic()
                    admin.post(server.url + "/admin/revoke")
                    break
            else:
                pytest.fail("the watch never announced its baseline")
            stdout, rest = proc.communicate(timeout=30)
        finally:
            admin.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = "".join(stderr_lines) + rest
        assert proc.returncode == 0, stderr
        assert server.revoked_at is not None
        lag = server.revoked_at - seen  # the revocation happened this long after the clock started
    stored = (root / "site" / "data" / "revocation" / "rev.json").read_text()
    m = json.loads(stored)["measurements"][-1]
    measured = m["first_changed_after_s"] - lag  # from the revocation to the first changed answer
    print(f"measured: first changed after {m['first_changed_after_s']} s (revoked {lag:.3f} s after the clock "
          f"started: {measured:.3f} s after the revocation), last unchanged at {m['last_unchanged_after_s']} s, "
          f"{m['polls']} polls")
    assert (m["from_outcome"], m["to_outcome"], m["settled"]) == ("as-valid", "as-anonymous", True)
    assert DELAY - SLACK <= measured <= DELAY + INTERVAL + SLACK  # within one interval, never early
    assert m["first_changed_after_s"] - m["last_unchanged_after_s"] == pytest.approx(INTERVAL, abs=0.1)
    assert (m["api"], m["target"], m["endpoint"], m["interval_s"]) == ("rev", "remote", "me", INTERVAL)
    assert m["date"].endswith("Z") and m["baseline"]["token"]["status"] == 200
    assert "as-valid → as-anonymous after 3." in stdout
    for text in (stored, stdout, stderr):
        assert TOKEN not in text


def test_a_refusal_is_measured_and_published_on_the_site(tmp_path, monkeypatch):
    with RevocationServer(TOKEN, delay=1.0, mode="reject") as server:
        root = _project(tmp_path, server)
        plan = _plan(root, server, monkeypatch, interval=0.25, max_wait=10)
        with httpx.Client(timeout=5) as admin:
            # on_baseline runs right before the clock starts: no lag to take off here.
            m = asyncio.run(revocation.watch(plan, on_baseline=lambda m, w: admin.post(server.url + "/admin/revoke")))
    assert (m.from_outcome, m.to_outcome, m.settled) == ("as-valid", "rejected", True)
    assert m.first_changed_after_s is not None
    assert 1.0 - SLACK <= m.first_changed_after_s <= 1.0 + 0.25 + SLACK
    assert len(m.transitions) == 1  # no flapping on this server
    assert "as-valid → rejected after 1." in m.describe()
    path = revocation.record(root / "site" / "data", m)
    assert json.loads(path.read_text())["measurements"][0]["to_outcome"] == "rejected"
    assert not list(path.parent.glob(".*.tmp"))  # the atomic write left no temp file behind

    build(Project(root), Hooks(get_plugin_manager(load_external=False)))
    page = (root / "site" / "build" / "apis" / "rev" / "revocation.html").read_text()
    assert m.date in page and "rejected" in page and "GET /api/me" in page
    home = (root / "site" / "build" / "index.html").read_text()
    assert "Revocation latency" in home  # in the nav
    assert TOKEN not in page


def test_gives_up_after_max_wait_with_a_bounded_number_of_polls(tmp_path, monkeypatch):
    with RevocationServer(TOKEN, delay=0.0) as server:  # never revoked: the answer never changes
        root = _project(tmp_path, server)
        plan = _plan(root, server, monkeypatch, interval=0.25, max_wait=1.0)
        started = time.monotonic()
        m = asyncio.run(revocation.watch(plan))
        took = time.monotonic() - started
        requests = server.requests
    assert m.first_changed_after_s is None and m.to_outcome is None and not m.settled
    # At most one poll per interval within max_wait (fewer when a loaded machine answers slowly),
    # each one request after the two baselines; and the watch ends soon after max_wait.
    assert 1 <= m.polls <= 4 and requests == 2 + m.polls
    assert took < 1.0 + 4.0
    assert "gave up" in m.describe()


def test_a_token_that_does_not_work_is_refused_without_echoing_it(tmp_path):
    with RevocationServer("another-token") as server:
        root = _project(tmp_path, server)
        result = run_cli(root, "watch-revocation", "--api", "rev", "--target", "remote", "--endpoint", "me",
                         "--token-env", "REV_TOKEN", "--interval", "0.5", "--max-wait", "2", timeout=60,
                         env={"REV_TOKEN": TOKEN, "REV_URL": server.url})
    assert result.returncode == 1
    assert "baseline answer is HTTP 401" in result.stderr
    assert TOKEN not in result.stderr + result.stdout
    assert not (root / "site" / "data" / "revocation").exists()


def test_refuses_a_launched_target_and_a_missing_token(tmp_path):
    result = run_cli(REPO, "watch-revocation", "--api", "datasette", "--target", "local", "--endpoint", "actor",
                     "--token-env", "REV_TOKEN_UNSET", env={"REV_TOKEN_UNSET": ""})
    assert result.returncode == 1 and "started locally" in result.output
    with RevocationServer(TOKEN) as server:
        root = _project(tmp_path, server)
        result = run_cli(root, "watch-revocation", "--api", "rev", "--target", "remote", "--endpoint", "me",
                         "--token-env", "REV_TOKEN_UNSET", env={"REV_TOKEN_UNSET": "", "REV_URL": server.url})
    assert result.returncode == 1 and "REV_TOKEN_UNSET is not set" in result.output


@pytest.mark.parametrize("source, reason", [
    ("huge", "cannot discover item: src's value at /id is 2,000,000 characters long (at most 1,024)"),
    ("object", "cannot discover item: src has a dict at /id, not a string or number"),
    ("dotdot", None),
], ids=["2MB-value", "object", "dotdot"])
def test_watch_checks_discovered_values_like_a_run(tmp_path, source, reason):
    """The watch discovers path parameters through the runner's one implementation: a value of
    2 MB or an object is refused with the run's reason (never sent), ``..`` goes out as one
    encoded segment (a server resolving it would answer a different path)."""
    endpoints = [{"id": "src", "method": "GET", "path": f"/discover-{source}"},
                 {"id": "item", "method": "GET", "path": "/things/{item}/leaf"}]
    target = {"name": "remote", "base_url_env": "REV_URL",
              "parameters": {"item": {"from": {"endpoint": "src", "pointer": "/id"}}}}
    root = make_project(tmp_path / "proj", "rev", endpoints, target, api_extra={"scheme": "bearer"})
    with FaultServer() as server:
        result = run_cli(root, "watch-revocation", "--api", "rev", "--target", "remote", "--endpoint", "item",
                         "--token-env", "REV_TOKEN", "--interval", "0.2", "--max-wait", "0.5", "--confirm", "1",
                         "--no-record", env={"REV_TOKEN": TOKEN, "REV_URL": server.url}, timeout=60)
        arrived = [a.path for a in server.arrivals]
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr + result.stdout
    assert arrived[0] == f"/discover-{source}"
    if reason is not None:
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1] == f"error: item: {reason}"
        assert arrived == [f"/discover-{source}"]  # nothing was sent with the refused value
    else:
        assert "/things/%2E%2E/leaf" in arrived, arrived
        assert not any(p in ("/leaf", "/things/leaf") for p in arrived), "the .. segment was resolved away"


@pytest.mark.parametrize("discovered", [False, True], ids=["baseline", "discovery"])
def test_watch_fails_at_once_on_an_invalid_host(tmp_path, discovered):
    """The watch's requests (discovery, baselines, polls) go through the probe engine's transport,
    whose resolver refuses ``.invalid`` names without a DNS query (RFC 6761): one line naming
    the host, whether the first request is a discovery or the baseline."""
    endpoints = [{"id": "src", "method": "GET", "path": "/src"},
                 {"id": "me", "method": "GET", "path": "/api/{who}" if discovered else "/api/me"}]
    target = {"name": "remote", "base_url_env": "REV_URL",
              **({"parameters": {"who": {"from": {"endpoint": "src", "pointer": "/id"}}}} if discovered else {})}
    root = make_project(tmp_path / "proj", "rev", endpoints, target, api_extra={"scheme": "bearer"})
    result = run_cli(root, "watch-revocation", "--api", "rev", "--target", "remote", "--endpoint", "me",
                     "--token-env", "REV_TOKEN", "--interval", "0.5", "--max-wait", "60",
                     env={"REV_TOKEN": TOKEN, "REV_URL": "http://api.invalid"}, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "dns: cannot resolve the host name 'api.invalid' (.invalid names never resolve, RFC 6761)" in line
    assert line.startswith("error: me: cannot discover who: src: dns:" if discovered else "error: the token's baseline")
    assert TOKEN not in result.stderr + result.stdout

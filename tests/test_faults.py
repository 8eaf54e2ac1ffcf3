"""The probe engine survives a misbehaving server: resets, stalls, drips, 5xx, 429, huge and
broken bodies, cross-origin redirects — through ``Prober`` and through a whole ``probe_all``."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time

import pytest

from catalog.definitions.loader import load_all
from catalog.engine.probe import Prober, ProbeRequest, ProbeSettings
from catalog.engine.runner import RunOptions, probe_all
from catalog.hooks.manager import Hooks
from tests.servers.fault_server import DISCOVERED, ODD_LOCATIONS, ROUTES, FaultServer, gzip_bomb
from tests.support.project import make_project, remote_target, role_env

CAP = 64 * 1024
TIMEOUT = 1.0


@pytest.fixture()
def servers():
    gzip_bomb()  # built before the clock starts: its CPU second must not eat the 1 s timeouts
    with FaultServer() as other, FaultServer() as fault:
        fault.redirect_to = other.url
        yield fault, other


def gaps(arrivals) -> list[float]:
    times = [a.at for a in arrivals]
    return [round(b - a, 3) for a, b in itertools.pairwise(times)]


@pytest.fixture(scope="module")
def probed():
    """Every fault route probed once, together (concurrency 16), as the engine meets them in a run."""
    gzip_bomb()  # built before the clock starts: its CPU second must not eat the 1 s timeouts
    with FaultServer() as other, FaultServer() as fault:
        fault.redirect_to = other.url
        settings = ProbeSettings(concurrency=16, timeout=TIMEOUT, retries=2, max_body=CAP, max_retry_after=2.0)
        requests = [ProbeRequest(key=(path,), method="GET", url=fault.url + path,
                                 headers={"Authorization": "Basic Zm9vOmJhcg=="}, collection="/values") for path in ROUTES]

        async def go():
            async with Prober(settings) as prober:
                return await asyncio.wait_for(prober.run(requests), 30)

        got = {key[0]: obs for key, obs in asyncio.run(go()).items()}
        yield got, fault, other


def _ok(got, fault, other):
    assert got["/ok"].status == 200 and got["/ok"].count == 3


def _reset(got, fault, other):  # a transport fault: an error with a clear note, no status; retried
    assert got["/reset"].status is None and got["/reset"].error.startswith(("protocol:", "connection:"))
    assert got["/reset"].attempts == 3 and len(fault.hits("/reset")) == 3


def _timeout(path):  # stalls and drips time out and are not retried
    def check(got, fault, other):
        assert got[path].status is None and got[path].error.startswith("timeout:"), got[path]
        assert len(fault.hits(path)) == 1
    return check


def _500(got, fault, other):  # recorded at once
    assert (got["/500"].status, got["/500"].attempts) == (500, 1)


def _503(got, fault, other):  # retried up to the bound
    assert (got["/503"].status, got["/503"].attempts) == (503, 3)


def _429(got, fault, other):  # no Retry-After: exponential backoff 0.5 s, 1 s (on the server's clock)
    assert (got["/429"].status, got["/429"].attempts) == (429, 3)
    g = gaps(fault.hits("/429"))
    assert 0.45 <= g[0] < 0.9 and 0.95 <= g[1] < 1.5, g


def _429_after(got, fault, other):  # Retry-After: 1 is honoured between every attempt
    assert (got["/429-after"].status, got["/429-after"].attempts) == (429, 3)
    g = gaps(fault.hits("/429-after"))
    assert all(0.95 <= x < 1.5 for x in g), g


def _429_long(got, fault, other):  # Retry-After beyond the bound: recorded, not waited for
    assert got["/429-long"].attempts == 1 and got["/429-long"].headers["retry-after"] == "3600"
    assert len(fault.hits("/429-long")) == 1


def _429_29(got, fault, other):  # Retry-After over the cell's 3 s budget: recorded, not waited for
    assert got["/429-29"].attempts == 1 and got["/429-29"].headers["retry-after"] == "29"
    assert len(fault.hits("/429-29")) == 1


def _huge(got, fault, other):  # cut at the cap and flagged; nothing parses it
    huge = got["/huge"]
    assert huge.truncated and huge.body_bytes == CAP and huge.shape == "truncated"


def _bad_json(got, fault, other):  # a hash of the raw text, not a crash
    bad = got["/bad-json"]
    assert bad.status == 200 and bad.shape == "text"
    assert bad.body_sha256 == hashlib.sha256(b'{"values": [1, 2, "unterminated').hexdigest()


def _redirect(got, fault, other):  # recorded with the other origin only, never followed
    red = got["/redirect"]
    assert red.status == 302 and red.location_origin == other.url
    assert "landing" not in json.dumps(red.to_dict())
    assert other.arrivals == []


def _echoed(path):  # neither the header value nor its base64 payload is kept
    def check(got, fault, other):
        text = json.dumps(got[path].to_dict())
        assert "Zm9vOmJhcg" not in text and "foo:bar" not in text, text
    return check


def _one_error_cell(path):  # hostile answers (tests/test_hostile_answers.py has each exact message)
    def check(got, fault, other):
        obs = got[path]
        assert obs.status is None and obs.error.startswith(("redirect:", "answer:", "protocol:")), obs
    return check


def _answered(path):  # well-formed answers the hostile tests use as sources or controls
    def check(got, fault, other):
        assert got[path].status == 200 and got[path].error is None, got[path]
    return check


FAULTS = {
    "/ok": _ok, "/reset": _reset, "/stall": _timeout("/stall"), "/drip": _timeout("/drip"), "/500": _500,
    "/503": _503, "/429": _429, "/429-after": _429_after, "/429-long": _429_long, "/429-29": _429_29,
    "/huge": _huge,
    "/bad-json": _bad_json, "/redirect": _redirect, "/echo": _echoed("/echo"), "/echo-401": _echoed("/echo-401"),
    **{p: _one_error_cell(p) for p in (*ODD_LOCATIONS, "/deep-json", "/gzip-bomb", "/long-header", "/many-headers")},
    **{p: _answered(p) for p in ("/gzip-ok", *DISCOVERED)},
}


def test_every_fault_route_has_a_case_and_came_back(probed):
    got, _, _ = probed
    assert set(FAULTS) == set(ROUTES), "a new fault route needs its case in FAULTS"
    assert set(got) == set(ROUTES), "every probe came back with an observation"


@pytest.mark.parametrize(("route", "check"), [pytest.param(r, c, id=r.strip("/")) for r, c in FAULTS.items()])
def test_the_prober_survives(probed, route, check):
    got, fault, other = probed
    check(got, fault, other)


FAULT_ENDPOINTS = [
    {"id": path.strip("/").replace("-", "_") or "root", "method": "GET", "path": path, "summary": f"fault {path}",
     "collection": "/values"}
    for path in ROUTES
]


def test_probe_all_survives_a_faulty_target(tmp_path, servers, monkeypatch):
    fault, other = servers
    root = make_project(tmp_path / "proj", "faulty", FAULT_ENDPOINTS,
                        remote_target("flaky", "FAULTY_URL", "FAULTY", timeout=TIMEOUT, retries=2, concurrency=16))
    monkeypatch.setenv("FAULTY_URL", fault.url)
    for name, value in role_env("FAULTY", "s3cret-value-for-faults", "someone@example.test").items():
        monkeypatch.setenv(name, value)
    apis = load_all(root / "endpoints")
    logs: list[str] = []
    runs = probe_all(apis, root / "endpoints", root / "site" / "data", Hooks(), RunOptions(log=logs.append))
    assert len(runs) == 1
    run = runs[0]
    endpoints = run.endpoints
    assert set(endpoints) == {e["id"] for e in FAULT_ENDPOINTS}, "the run finished every endpoint"
    states = [s for s, info in run.states.items() if info["available"]]
    assert len(states) >= 10

    def outcomes(eid):
        return {endpoints[eid].cells[s].outcome for s in states}

    assert outcomes("ok") == {"as-valid", "ignored"} and endpoints["ok"].verdict == "public"
    for eid, note in (("reset", ("protocol:", "connection:")), ("stall", ("timeout:",)), ("drip", ("timeout:",))):
        assert outcomes(eid) == {"error"}, (eid, outcomes(eid))
        assert all(endpoints[eid].cells[s].note.startswith(note) for s in states)
    assert outcomes("500") == outcomes("503") == {"server-error"}
    for eid in ("429", "429_after", "429_long", "429_29"):
        assert outcomes(eid) == {"rate-limited"}
    assert all(endpoints["429_after"].cells[s].observation.attempts == 3 for s in states)
    assert {endpoints["429_29"].cells[s].note for s in states} == {"29"}  # the delay asked, on the cell
    assert all(endpoints["huge"].cells[s].observation.truncated for s in states)
    assert {endpoints["bad_json"].cells[s].observation.shape for s in states} == {"text"}
    assert outcomes("redirect") == {"redirect"}
    assert {endpoints["redirect"].cells[s].note for s in states} == {other.url}
    assert other.arrivals == [], "the redirect's other origin got no request"
    text = json.dumps(run.to_dict())
    assert "s3cret-value-for-faults" not in text and "someone@example.test" not in text


def test_a_retry_after_longer_than_the_cell_budget_ends_the_cell_at_once():
    """429 with Retry-After: 29 under a 5 s timeout: 29 s is within the 30 s bound but more than the
    cell's 15 s budget (three 5 s attempts), so the cell ends now as rate-limited, noting the 29 s."""
    settings = ProbeSettings(timeout=5, retries=2)
    with FaultServer() as fault:
        request = ProbeRequest(key=("x",), method="GET", url=fault.url + "/429-29")

        async def go():
            async with Prober(settings) as prober:
                return await prober.probe(request)

        started = time.monotonic()
        obs = asyncio.run(go())
        took = time.monotonic() - started
    assert took < 20, f"the cell took {took:.1f} s"
    assert (obs.status, obs.attempts, obs.headers["retry-after"]) == (429, 1, "29")

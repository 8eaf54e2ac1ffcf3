"""One hostile answer costs one cell (issue 11 item 6): each answer below ends as its probe's
``error`` with a precise one-line message, while the probes around it are recorded as usual."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

import pytest

from catalog.definitions.loader import load_all
from catalog.definitions.yamlfile import DefinitionError
from catalog.engine.probe import Prober, ProbeRequest, ProbeSettings
from catalog.engine.runner import RunOptions, probe_all
from catalog.hooks.manager import Hooks
from tests.servers.fault_server import BOMB_SIZE, FaultServer, gzip_bomb
from tests.support.project import REPO, make_project, role_env

TIMEOUT = 5.0
CAP = 2 * 1024 * 1024

# path -> the cell's error message (exactly)
HOSTILE = {
    "/redirect-data": "redirect: 302 with a Location with the scheme 'data': only http and https are recorded; not recorded",
    "/redirect-javascript": "redirect: 302 with a Location with the scheme 'javascript': only http and https are recorded; not recorded",
    "/redirect-file": "redirect: 302 with a Location with the scheme 'file': only http and https are recorded; not recorded",
    "/redirect-mailto": "redirect: 302 with a Location with the scheme 'mailto': only http and https are recorded; not recorded",
    "/redirect-bad-port": "redirect: 302 with a Location that is not a valid URL; not recorded",
    "/redirect-bad-host": "redirect: 302 with a Location whose host is not a valid host name; not recorded",
    "/redirect-bad-ipv6": "redirect: 302 with a Location that is not a valid URL; not recorded",
    "/deep-json": "answer: 200 with JSON nested deeper than 100 levels; not recorded",
    "/gzip-bomb": (f"answer: 200 with a body that inflates past the 2 MiB cap (Content-Encoding gzip, gzip, "
                   f"{len(gzip_bomb()):,} bytes received): a decompression bomb; not recorded"),
    "/long-header": "protocol: a response header line is too long (more than 8,190 bytes)",
    "/many-headers": "protocol: too many response headers",
}


@pytest.fixture(scope="module")
def server():
    with FaultServer() as fault:
        yield fault


@pytest.fixture(scope="module")
def observed(server):
    """One Prober run over every hostile path, with well-behaved paths around them."""
    paths = [*HOSTILE, "/ok", "/gzip-ok", "/redirect"]
    requests = [ProbeRequest(key=(p,), method="GET", url=server.url + p, collection="/values") for p in paths]
    settings = ProbeSettings(concurrency=4, timeout=TIMEOUT, retries=0, max_body=CAP)

    async def go():
        async with Prober(settings) as prober:
            return await asyncio.wait_for(prober.run(requests), 60)

    return {key[0]: obs for key, obs in asyncio.run(go()).items()}


@pytest.mark.parametrize("path", list(HOSTILE), ids=[p.strip("/") for p in HOSTILE])
def test_hostile_answer_is_one_error_cell(observed, path):
    obs = observed[path]
    assert obs.status is None and obs.error == HOSTILE[path]
    assert obs.location_origin is None and obs.shape is None


def test_the_cells_around_them_are_fine(observed, server):
    assert observed["/ok"].status == 200 and observed["/ok"].count == 3
    gz = observed["/gzip-ok"]  # decoding still works for an honest compressed answer
    assert gz.status == 200 and gz.count == 3 and gz.error is None
    assert observed["/redirect"].status == 302 and observed["/redirect"].location_origin == "http://127.0.0.1:9"


BOMB_SCRIPT = textwrap.dedent("""
    import asyncio, json, resource, sys, time
    from catalog.engine.probe import ProbeRequest, Prober, ProbeSettings
    async def go():
        async with Prober(ProbeSettings(timeout={timeout}, retries=0, max_body={cap})) as prober:
            return await prober.probe(ProbeRequest(key=("b",), method="GET", url=sys.argv[1]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    obs = asyncio.run(go())
    print(json.dumps({{"seconds": time.perf_counter() - t, "before_kb": before,
                      "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "error": obs.error}}))
""")


def test_gzip_bomb_is_bounded_in_memory_and_time(server):
    """2 KB that inflate to 1 GiB: the cap holds *during* decompression. Measured in a fresh
    interpreter so its peak RSS is the probe's own (the figures are printed with -s)."""
    script = BOMB_SCRIPT.format(timeout=TIMEOUT, cap=CAP)
    done = subprocess.run([sys.executable, "-c", script, server.url + "/gzip-bomb"], capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    print(f"\ngzip bomb: {len(gzip_bomb()):,} bytes on the wire, {BOMB_SIZE:,} inflated; probe took "
          f"{got['seconds']:.3f} s, peak RSS {got['peak_kb'] / 1024:.1f} MiB "
          f"(interpreter before the probe: {got['before_kb'] / 1024:.1f} MiB)")
    assert got["error"].startswith("answer: 200 with a body that inflates past the 2 MiB cap")
    # Generous bounds: 1 GiB inflated would need ~1,000 MiB and seconds of CPU.
    assert got["peak_kb"] - got["before_kb"] < 64 * 1024, got
    assert got["seconds"] < TIMEOUT, got


def test_a_run_with_hostile_discovery_goes_on(tmp_path, server, monkeypatch):
    """Discovered path values: ``.`` and ``..`` are sent as one encoded segment; a 2 MB value
    and an object are refused with a reason; hostile answers in the same run cost their cell."""
    endpoints = [
        {"id": "ok", "method": "GET", "path": "/ok", "collection": "/values"},
        {"id": "deep", "method": "GET", "path": "/deep-json"},
        {"id": "bomb", "method": "GET", "path": "/gzip-bomb"},
        {"id": "to-data", "method": "GET", "path": "/redirect-data"},
        *({"id": f"src-{k}", "method": "GET", "path": f"/discover-{k}"} for k in ("dot", "dotdot", "huge", "object")),
        {"id": "by-dot", "method": "GET", "path": "/things/{dot}/leaf"},
        {"id": "by-dotdot", "method": "GET", "path": "/things/{dotdot}/leaf"},
        {"id": "by-huge", "method": "GET", "path": "/things/{huge}"},
        {"id": "by-object", "method": "GET", "path": "/things/{obj}"},
    ]
    params = {name: {"from": {"endpoint": f"src-{src}", "pointer": "/id"}}
              for name, src in (("dot", "dot"), ("dotdot", "dotdot"), ("huge", "huge"), ("obj", "object"))}
    creds = {"valid": {"secret": {"env": "HOSTILE_VALID_SECRET"}, "identity": {"env": "HOSTILE_VALID_ID"}}}
    target = {"name": "remote", "base_url_env": "HOSTILE_URL", "credentials": creds, "parameters": params,
              "timeout": TIMEOUT, "retries": 0}
    root = make_project(tmp_path / "proj", "hostile", endpoints, target)
    for name, value in {**role_env("HOSTILE", "s3cr~t+/=Value", "Me@Example.test", roles=("valid",)),
                        "HOSTILE_URL": server.url}.items():
        monkeypatch.setenv(name, value)
    server.arrivals.clear()
    (run,) = probe_all(load_all(root / "endpoints"), root / "endpoints", root / "site" / "data", Hooks(),
                       RunOptions(log=lambda m: None))
    results = run.endpoints
    probed = [s for s, info in run.states.items() if info["available"]]

    def notes(eid):
        return {results[eid].cells[s].note for s in probed}

    assert {results["ok"].cells[s].outcome for s in probed} != {"error"}
    assert notes("deep") == {HOSTILE["/deep-json"]} and notes("to-data") == {HOSTILE["/redirect-data"]}
    assert notes("bomb") == {HOSTILE["/gzip-bomb"]}
    arrived = {a.path for a in server.arrivals}
    assert {"/things/%2E/leaf", "/things/%2E%2E/leaf"} <= arrived, sorted(arrived)
    assert not any(p in arrived for p in ("/leaf", "/things/leaf")), "a dot segment was resolved away"
    assert results["by-huge"].verdict == "not-probed"
    assert results["by-huge"].reason == ("cannot discover huge: src-huge's value at /id is 2,000,000 characters "
                                          "long (at most 1,024)")
    assert results["by-object"].reason == "cannot discover obj: src-object has a dict at /id, not a string or number"
    assert not any(p.startswith("/things/x") for p in arrived)


@pytest.mark.parametrize("prefix", ["/api/..", "/api/%2e%2e", "/api/%2E%2E/x", "/api/%252e%252e", "/api/.",
                                    "/api\\..", "/api/%2e"],
                         ids=["dotdot", "encoded", "encoded-upper", "double-encoded", "dot", "backslash", "encoded-dot"])
def test_a_prefix_cannot_climb_out_of_the_base_path(tmp_path, prefix):
    target = {"name": "remote", "base_url_env": "CLIMB_URL", "prefix": prefix}
    root = make_project(tmp_path / "proj", "climb", [{"id": "ok", "method": "GET", "path": "/ok"}], target)
    with pytest.raises(DefinitionError) as caught:
        load_all(root / "endpoints")
    (problem,) = caught.value.problems
    assert problem.file.endswith("climb/targets/remote.yaml") and problem.line == 3 and problem.field == "prefix"
    assert "climb out of the base path" in problem.message

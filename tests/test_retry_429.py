"""A 429 is the prober's own pace as often as the server's rule: retried after backing off,
serially for the endpoint, within the cell's budget; a cell still 429 is not judged, never drift."""

from __future__ import annotations

import asyncio

from catalog.engine.probe import Prober, ProbeRequest, ProbeSettings
from catalog.model.judgement import verdict
from catalog.model.observation import Observation
from catalog.runs.diff import NOT_JUDGED, diff_runs
from catalog.runs.results import Cell, EndpointResult, TargetRun
from tests.servers.limiter import LimiterServer


def _probe(requests, settings):
    async def go():
        async with Prober(settings) as prober:
            return await asyncio.wait_for(prober.run(requests), 60)

    return asyncio.run(go())


def test_a_concurrency_limited_endpoint_is_retried_serially_until_every_cell_is_judged():
    # Twelve states of one endpoint sent at once: the server answers all but one with 429.
    with LimiterServer() as server:
        requests = [ProbeRequest(key=("available", i), method="GET", url=f"{server.url}/available", group="available")
                    for i in range(12)]
        results = _probe(requests, ProbeSettings(concurrency=8, timeout=5, retries=2))
    assert {o.status for o in results.values()} == {200}
    assert 429 in server.statuses  # the burst did meet the limiter
    assert max(o.attempts for o in results.values()) > 1


def test_a_cell_still_limited_after_its_retries_stays_429():
    with LimiterServer() as server:
        settings = ProbeSettings(concurrency=2, timeout=5, retries=2)
        results = _probe([ProbeRequest(key=("always",), method="GET", url=f"{server.url}/always", group="always")],
                         settings)
    obs = results[("always",)]
    assert obs.status == 429
    # Retry-After 1, well within the cell's budget: the first answer and two retries, no more.
    assert obs.attempts == 3 and server.statuses == [429, 429, 429]


def _run(outcome: str, status: int) -> TargetRun:
    valid = Observation(status=200, body_sha256="v")
    cells = {"valid": Cell("valid", "as-valid", observation=valid),
             "anonymous": Cell("anonymous", "rejected", observation=Observation(status=401)),
             "revoked": Cell("revoked", outcome, observation=Observation(status=status)),
             "unknown-token": Cell("unknown-token", "rejected", observation=Observation(status=401))}
    result = EndpointResult("e", "GET", "/e", "fails-closed", definition_key="d", judged="j", cells=cells)
    return TargetRun("api", "t", {}, {s: {"available": True} for s in cells}, {"e": result})


def test_a_rate_limited_cell_is_not_judged_and_never_drift():
    changes = diff_runs(_run("rejected", 401), _run("rate-limited", 429))
    assert [(c.state, c.cause, c.drift) for c in changes] == [("revoked", NOT_JUDGED, False)]
    # The verdict is made from the judged bad credentials and names the one left out.
    judged, why = verdict({"valid": "as-valid", "anonymous": "rejected", "revoked": "rate-limited",
                           "unknown-token": "rejected"}, Observation(status=200))
    assert judged == "fails-closed" and "revoked not judged: 429 after backing off" in why

"""A per-host rate of N requests/s: the server never sees more than N arrivals in any one-second
window, measured on the server's own monotonic clock."""

from __future__ import annotations

import asyncio

import pytest

from catalog.engine.pacing import busiest_window
from catalog.engine.probe import Prober, ProbeRequest, ProbeSettings
from tests.servers.fault_server import FaultServer


@pytest.mark.parametrize("rate,count,concurrency", [(10, 32, 16), (3, 6, 4)])
def test_rate_limit_sliding_window(rate, count, concurrency):
    with FaultServer() as server:
        settings = ProbeSettings(concurrency=concurrency, rate_limit=rate, timeout=5, retries=1)
        # One retried path in the mix: retries count against the limit too.
        requests = [ProbeRequest(key=(i,), method="GET", url=f"{server.url}/{'503' if i % 7 == 0 else 'ok'}")
                    for i in range(count)]

        async def go():
            async with Prober(settings) as prober:
                return await asyncio.wait_for(prober.run(requests), 60)

        results = asyncio.run(go())
        assert len(results) == count
        times = [a.at for a in server.arrivals]
        retried = sum(1 for i in range(count) if i % 7 == 0)
        assert len(times) == count + retried
        assert busiest_window(times) <= rate, " ".join(f"{t - min(times):.3f}" for t in sorted(times))
        # And the limiter is not needlessly slow: N per second, give or take latency.
        assert max(times) - min(times) < (len(times) / rate) + 1.5

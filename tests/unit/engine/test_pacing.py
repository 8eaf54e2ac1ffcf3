"""Pacing through a Prober whose answers come from httpx.MockTransport: never more probes in
flight than the concurrency, and one rate limiter per host."""

from __future__ import annotations

import asyncio

import httpx

from catalog.engine.client import make_client
from catalog.engine.pacing import Pacing
from catalog.engine.probe import Prober, ProbeRequest, ProbeSettings


def test_never_more_probes_in_flight_than_the_concurrency():
    settings = ProbeSettings(concurrency=3)
    in_flight, most = 0, 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(204, stream=httpx.ByteStream(b""))

    async def go() -> dict:
        async with make_client(settings, httpx.MockTransport(answer)) as client, \
                Prober(settings, client=client) as prober:
            requests = [ProbeRequest(key=(i,), method="GET", url=f"http://api.test/{i}") for i in range(20)]
            return await prober.run(requests)

    results = asyncio.run(go())
    assert len(results) == 20 and all(o.status == 204 for o in results.values())
    assert most == 3


def test_each_host_has_its_own_rate_limiter_and_none_without_a_rate():
    paced = Pacing(concurrency=4, rate=5)
    a = paced.limiter("http://a.test:8000/x")
    assert a is paced.limiter("http://a.test:8000/y")
    assert a is not paced.limiter("http://b.test:8000/x")
    assert Pacing(concurrency=4, rate=None).limiter("http://a.test/") is None


def test_one_per_group_sends_each_groups_requests_one_after_another_in_order():
    """The writes' batch: endpoints side by side, one endpoint's states one at a time, in order."""
    settings = ProbeSettings(concurrency=8)
    in_flight: dict[str, int] = {}
    most: dict[str, int] = {}
    order: list[str] = []
    overlap = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal overlap
        group = request.url.path.split("/")[1]
        in_flight[group] = in_flight.get(group, 0) + 1
        most[group] = max(most.get(group, 0), in_flight[group])
        overlap = max(overlap, sum(in_flight.values()))
        order.append(request.url.path)
        await asyncio.sleep(0.01)
        in_flight[group] -= 1
        return httpx.Response(204, stream=httpx.ByteStream(b""))

    async def go() -> dict:
        async with make_client(settings, httpx.MockTransport(answer)) as client, \
                Prober(settings, client=client) as prober:
            requests = [ProbeRequest(key=(g, i), method="PUT", url=f"http://api.test/{g}/{i}", group=g)
                        for g in "abc" for i in range(4)]
            return await prober.run(requests, one_per_group=True)

    results = asyncio.run(go())
    assert len(results) == 12 and all(o.status == 204 for o in results.values())
    assert most == {"a": 1, "b": 1, "c": 1} and overlap == 3  # the groups still run side by side
    for g in "abc":
        assert [p for p in order if p.startswith(f"/{g}/")] == [f"/{g}/{i}" for i in range(4)]

"""B1 engine overhead: authcat's probe engine against bare client loops, all on one nginx.

nginx answers every request with a fixed small JSON body, so the client is the bottleneck and
what is measured is per-request client overhead. Four (or five) sides send the same N requests
(same URLs, same headers) at the same concurrency, each in a fresh event loop and a fresh
client: authcat's ``Prober.run`` with ``ProbeRequest``s (its observation summary, scrubbing and
bookkeeping included), stock ``httpx.AsyncClient``, httpx over the aiohttp transport, and raw
aiohttp (the client limit). With ``--stock-engine`` authcat is also run on stock httpx, which is
how the engine's transport was chosen.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from statistics import median

import httpx

from catalog.engine.probe import Prober, ProbeRequest, ProbeSettings, make_client

from .common import Row, measured, med, nginx, rounds_alternating

HEADERS = {"Authorization": "Basic YmVuY2g6bm90LWEtc2VjcmV0", "Accept": "application/json",
           "User-Agent": "authcat-bench"}


def urls(base: str, n: int) -> list[str]:
    return [f"{base}/rest/api/3/item/{i}" for i in range(n)]


async def _bare(n_workers: int, todo: list[str], send) -> None:
    it = iter(todo)

    async def worker():
        for url in it:  # a shared iterator: each URL is taken by exactly one worker
            await send(url)

    await asyncio.gather(*(worker() for _ in range(n_workers)))


async def run_httpx(todo: list[str], concurrency: int, transport=None) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, transport=transport, trust_env=False, follow_redirects=False) as client:
        async def send(url):
            resp = await client.get(url, headers=HEADERS)
            assert resp.status_code == 200 and resp.content
        await _bare(concurrency, todo, send)


async def run_httpx_aiohttp(todo: list[str], concurrency: int) -> None:
    from httpx_aiohttp import AiohttpTransport

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    await run_httpx(todo, concurrency, transport=AiohttpTransport(limits=limits, trust_env=False))


async def run_aiohttp(todo: list[str], concurrency: int) -> None:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def send(url):
            async with session.get(url, headers=HEADERS, allow_redirects=False) as resp:
                body = await resp.read()
                assert resp.status == 200 and body
        await _bare(concurrency, todo, send)


async def run_authcat(todo: list[str], concurrency: int, stock: bool = False) -> None:
    settings = ProbeSettings(concurrency=concurrency)
    client = None
    if stock:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        client = make_client(settings, transport=httpx.AsyncHTTPTransport(limits=limits))
    requests = [ProbeRequest(key=(i,), method="GET", url=url, headers=HEADERS, collection="/values")
                for i, url in enumerate(todo)]
    try:
        async with Prober(settings, client=client) as prober:
            got = await prober.run(requests)
    finally:
        if client is not None:
            await client.aclose()
    bad = [o for o in got.values() if o.status != 200]
    assert len(got) == len(todo) and not bad, f"{len(bad)} probes failed, e.g. {bad[:1]}"


def timed(coro_factory, n: int):
    def side() -> dict:
        c0, t0 = time.process_time(), time.perf_counter()
        asyncio.run(coro_factory())
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return {"req_s": n / wall, "cpu_per_1000": cpu / n * 1000, "wall_s": wall}
    return side


def main(n: int = 5000, concurrency: int = 16, rounds: int = 5, stock_engine: bool = False, log=print) -> list[Row]:
    with nginx() as base:
        todo = urls(base, n)
        sides = {
            "authcat": timed(lambda: run_authcat(todo, concurrency), n),
            "httpx": timed(lambda: run_httpx(todo, concurrency), n),
            "httpx+aiohttp": timed(lambda: run_httpx_aiohttp(todo, concurrency), n),
            "aiohttp": timed(lambda: run_aiohttp(todo, concurrency), n),
        }
        if stock_engine:
            sides["authcat on stock httpx"] = timed(lambda: run_authcat(todo, concurrency, stock=True), n)
        warm = urls(base, 200)  # imports, first connections: not part of any measurement
        for fn in (lambda: run_authcat(warm, concurrency), lambda: run_httpx(warm, concurrency),
                   lambda: run_httpx_aiohttp(warm, concurrency), lambda: run_aiohttp(warm, concurrency)):
            asyncio.run(fn())
        log(f"B1: {n} requests at concurrency {concurrency} to nginx, {rounds} rounds")
        got = rounds_alternating(sides, rounds, log=log)
    # The ratio is taken within each round (same conditions), then the median across rounds.
    per_round = [
        got["authcat"][r]["req_s"] / max(got["httpx"][r]["req_s"], got["httpx+aiohttp"][r]["req_s"])
        for r in range(rounds)
    ]
    ratio = median(per_round)
    rates = {name: round(med(res, "req_s")) for name, res in got.items()}
    cpu = {name: round(med(res, "cpu_per_1000"), 3) for name, res in got.items()}
    fastest = "httpx+aiohttp" if rates["httpx+aiohttp"] >= rates["httpx"] else "httpx"
    detail = {"n": n, "concurrency": concurrency, "rounds": rounds, "req_s": rates,
              "cpu_s_per_1000": cpu, "ratio_per_round": [round(x, 3) for x in per_round]}
    note = (f"authcat {rates['authcat']} req/s; {fastest} {rates[fastest]}; httpx {rates['httpx']}; "
            f"aiohttp {rates['aiohttp']}")
    if ratio < 0.9:
        note += (f"; not met: the engine's own work per probe (observation summary: body hash, shape, count; "
                 f"header summary; scrubbing) adds {cpu['authcat'] - cpu['httpx+aiohttp']:.2f} CPU ms to the "
                 f"transport's {cpu['httpx+aiohttp']:.2f}; a cheaper summary or sending through aiohttp directly "
                 f"(raw aiohttp: {cpu['aiohttp']:.2f} ms) would meet it")
    raw = [got["authcat"][r]["req_s"] / got["aiohttp"][r]["req_s"] for r in range(rounds)]
    # The same comparison from the process's own CPU time (time.process_time, not wall time):
    # other load on the machine stretches the wall-clock sides unevenly, CPU seconds much less.
    cpu_round = [
        min(got["httpx"][r]["cpu_per_1000"], got["httpx+aiohttp"][r]["cpu_per_1000"]) / got["authcat"][r]["cpu_per_1000"]
        for r in range(rounds)
    ]
    return [
        measured("B1 engine ÷ fastest httpx", per_round, "×", "≥ 0.9", lambda v: v >= 0.9, note, detail),
        measured("B1 engine ÷ raw aiohttp", raw, "×", "— (client limit)", lambda v: None,
                 f"aiohttp {rates['aiohttp']} req/s"),
        measured("B1 engine ÷ fastest httpx, from CPU seconds per request", cpu_round, "×", "— (report)",
                 lambda v: None, "the fastest loop's CPU seconds ÷ authcat's, per round (process CPU time, "
                 "so it holds up under other load better than the wall-clock figure)"),
        measured("B1 engine CPU per 1,000 probes", [r["cpu_per_1000"] for r in got["authcat"]], "CPU s",
                 "— (report)", lambda v: None,
                 "httpx " + str(cpu["httpx"]) + ", httpx+aiohttp " + str(cpu["httpx+aiohttp"])
                 + ", aiohttp " + str(cpu["aiohttp"]), kind="absolute"),
    ]

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--stock-engine", action="store_true", help="also run authcat on stock httpx")
    args = ap.parse_args()
    for row in main(args.n, args.concurrency, args.rounds, args.stock_engine):
        print(row.to_dict())

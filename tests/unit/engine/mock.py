"""A :class:`~catalog.engine.probe.Prober` whose client answers from a function
(``httpx.MockTransport``) and whose waits between attempts are recorded, not slept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from catalog.engine.client import make_client
from catalog.engine.probe import Prober, ProbeRequest, ProbeSettings
from catalog.model.observation import Observation
from catalog.secrets.scrub import Scrubber

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
URL = "http://api.test/rest/things"


@dataclass
class Probed:
    obs: Observation
    waits: list[float] = field(default_factory=list)  # seconds waited before each retry
    sent: list[httpx.Request] = field(default_factory=list)


def probe_once(handler: Handler, settings: ProbeSettings | None = None, scrub: Scrubber | None = None,
               **request: object) -> Probed:
    """Probe ``URL`` once (retries included) with answers from ``handler``."""
    settings = settings or ProbeSettings()
    sent: list[httpx.Request] = []
    waits: list[float] = []

    async def answer(req: httpx.Request) -> httpx.Response:
        sent.append(req)
        resp = handler(req)
        return await resp if isinstance(resp, Awaitable) else resp

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async def go() -> Observation:
        async with make_client(settings, httpx.MockTransport(answer)) as client, \
                Prober(settings, scrub, client=client) as prober:
            prober.sleep = record
            fields: dict = {"key": ("e", "s"), "method": "GET", "url": URL, **request}
            return await prober.probe(ProbeRequest(**fields))

    return Probed(asyncio.run(go()), waits, sent)


def answers(*specs: tuple[int, dict[str, str], bytes]) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering ``(status, headers, body)`` of each spec in turn, then the last again."""
    queue = list(specs)

    def handler(request: httpx.Request) -> httpx.Response:
        status, headers, body = queue.pop(0) if len(queue) > 1 else queue[0]
        # A stream, not content=: httpx reads content= at once and the probe reads the raw stream.
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))

    return handler

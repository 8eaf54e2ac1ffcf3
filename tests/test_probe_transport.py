"""The engine's transport (httpx over aiohttp): no cookie carried from one probe to the next, no
proxy from the environment, decoded bodies still capped, one attempt = one request."""

from __future__ import annotations

import asyncio
import gzip
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from catalog.engine.probe import Prober, ProbeRequest, ProbeSettings, make_client
from catalog.engine.transport import ProbeTransport
from catalog.model.observation import Observation
from tests.servers.base import serve_in_thread


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self):
        Handler.seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path == "/gzip":
            body = gzip.compress(b"x" * 200_000)
            extra = [("Content-Encoding", "gzip")]
        else:
            body = b'{"values": [1]}'
            extra = [("Set-Cookie", "session=from-the-valid-probe; Path=/")]
        self.send_response(200)
        for name, value in [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serve_in_thread(httpd)
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_no_cookie_rides_along_and_no_env_proxy(server, monkeypatch):
    # A proxy in the environment must be ignored: probes go where the profile says.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    settings = ProbeSettings(concurrency=1, retries=0, max_body=10_000)
    requests = [ProbeRequest(key=(i,), method="GET", url=f"{server}/ok", collection="/values",
                             headers={"Authorization": "Basic dmFsaWQ="} if i == 0 else {}) for i in range(3)]

    async def go():
        async with Prober(settings) as prober:
            assert isinstance(prober._client._transport, ProbeTransport)
            got: dict[object, Observation] = {}
            for req in requests:  # in order: the valid probe's Set-Cookie comes first
                got[req.key] = await asyncio.wait_for(prober.probe(req), 10)
            got["gzip"] = await asyncio.wait_for(prober.probe(ProbeRequest(key=("gz",), method="GET", url=f"{server}/gzip")), 10)
            return got

    got = asyncio.run(go())
    assert all(got[(i,)].status == 200 and got[(i,)].count == 1 for i in range(3))
    assert len(Handler.seen) == 4, "one attempt is one request"
    assert all("cookie" not in h for h in Handler.seen), Handler.seen
    assert "authorization" not in Handler.seen[1]
    # The cap bounds the *decoded* body: a small gzip that inflates past it is a decompression
    # bomb, its cell an error (a plain body over the cap is cut and flagged instead: test_faults).
    gz = got["gzip"]
    assert gz.status is None and gz.error.startswith("answer: 200 with a body that inflates past the 10,000 bytes cap")


def test_make_client_keeps_a_given_transport():
    import httpx

    async def go():
        transport = httpx.MockTransport(lambda request: httpx.Response(204))
        async with make_client(ProbeSettings(), transport=transport) as client:
            return (await client.get("http://127.0.0.1:9/")).status_code

    assert asyncio.run(go()) == 204

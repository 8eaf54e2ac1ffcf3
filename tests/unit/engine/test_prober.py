"""What one probe keeps of an answer, through a Prober whose answers come from
httpx.MockTransport: the deadline, the request's own credential scrubbed from every echo, the
declared error envelope, hostile redirects, and the discovery reads' one-line reasons."""

from __future__ import annotations

import asyncio
import json

import httpx

from catalog.engine.client import make_client
from catalog.engine.probe import Prober, ProbeSettings
from catalog.model.definition import Envelope, EnvelopeRule, FieldCondition
from tests.canary import Canary
from tests.unit.engine.mock import URL, answers, probe_once

JSON = {"content-type": "application/json"}


def test_an_answer_slower_than_the_deadline_is_a_timeout():
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    obs = probe_once(slow, ProbeSettings(timeout=0.05, retries=0)).obs
    assert obs.status is None
    assert obs.error == "timeout: no complete answer within 0.05 s"


def test_the_requests_own_credential_is_scrubbed_from_echoed_headers_and_kept_bodies():
    canary = Canary.new()

    def echo(request: httpx.Request) -> httpx.Response:
        sent = request.headers["authorization"]
        return httpx.Response(401, headers={"WWW-Authenticate": f'Basic realm="{sent}"', **JSON},
                              stream=httpx.ByteStream(json.dumps({"you-sent": sent}).encode()))

    done = probe_once(echo, ProbeSettings(keep_bodies=True), headers={"Authorization": canary.header})
    assert done.sent[0].headers["authorization"] == canary.header  # it was sent, as the probe asked
    kept = json.dumps(done.obs.to_dict())
    assert done.obs.status == 401 and "www-authenticate" in done.obs.headers and done.obs.body
    assert canary.find(kept) == []


def test_a_2xx_matching_the_declared_auth_failure_envelope_names_its_rule():
    envelope = Envelope(auth_failure=(EnvelopeRule("ok-false", (FieldCondition("/ok", equals=False, has_equals=True),)),),
                        errors=(EnvelopeRule("not-found", (FieldCondition("/error", present=True),)),))
    refused = probe_once(answers((200, JSON, b'{"ok": false}')), envelope=envelope).obs
    other_error = probe_once(answers((200, JSON, b'{"ok": true, "error": "no such page"}')), envelope=envelope).obs
    fine = probe_once(answers((200, JSON, b'{"ok": true}')), envelope=envelope).obs
    assert refused.fields == {"auth-failure": "ok-false"}
    assert other_error.fields == {"auth-failure": "no", "error-envelope": "not-found"}
    assert fine.fields == {"auth-failure": "no"}


def test_a_redirect_to_a_data_url_is_the_cells_error_and_is_not_followed():
    done = probe_once(answers((302, {"Location": "data:text/html,<script>alert(1)</script>"}, b"")))
    assert len(done.sent) == 1
    assert done.obs.status is None
    assert done.obs.error == "redirect: 302 with a Location with the scheme 'data': only http and https are recorded; not recorded"


def test_a_redirect_elsewhere_records_only_its_origin():
    obs = probe_once(answers((302, {"Location": "https://login.example.test/sso?token=abc"}, b""))).obs
    assert (obs.status, obs.location_origin) == (302, "https://login.example.test")


def _fetch_json_why(*specs: tuple[int, dict[str, str], bytes], max_body: int = 1024) -> tuple[object, str | None]:
    settings = ProbeSettings(max_body=max_body)

    async def go() -> tuple[object, str | None]:
        async with make_client(settings, httpx.MockTransport(answers(*specs))) as client, \
                Prober(settings, client=client) as prober:
            return await prober.fetch_json_why(URL, {})

    return asyncio.run(go())


def test_discovery_reads_say_in_one_line_why_they_found_nothing():
    assert _fetch_json_why((200, JSON, b'{"values": [1]}')) == ({"values": [1]}, None)
    assert _fetch_json_why((404, JSON, b"{}")) == (None, "the answer was 404, not 2xx")
    assert _fetch_json_why((200, {}, b"<html>")) == (None, "the answer is not JSON")
    assert _fetch_json_why((200, JSON, b"[" + b"1," * 600 + b"1]")) == (None, "the answer is larger than the 1,024 bytes body cap")
    assert _fetch_json_why((200, JSON, b"[" * 200 + b"]" * 200)) == (None, "the answer has JSON nested deeper than 100 levels")

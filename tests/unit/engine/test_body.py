"""Body caps and Content-Encoding decoding through a Prober whose answers come from
httpx.MockTransport: a plain body is cut at the cap and flagged, a compressed one inflating past
it is a bomb (the cell's error), a well-formed one is decoded before it is summarised."""

from __future__ import annotations

import gzip
import json
import zlib

from catalog.engine.decode import MAX_CODINGS
from catalog.engine.probe import ProbeSettings
from tests.unit.engine.mock import answers, probe_once

JSON = {"content-type": "application/json"}
DOC = json.dumps({"values": [{"id": i} for i in range(50)]}).encode()


def test_a_gzip_answer_is_decoded_before_it_is_summarised():
    plain = probe_once(answers((200, JSON, DOC)), collection="/values").obs
    zipped = probe_once(answers((200, {**JSON, "Content-Encoding": "gzip"}, gzip.compress(DOC))),
                        collection="/values").obs
    assert zipped.error is None
    assert zipped.count == plain.count == 50
    assert (zipped.body_sha256, zipped.shape, zipped.body_bytes) == (plain.body_sha256, plain.shape, plain.body_bytes)


def test_deflate_is_accepted_zlib_wrapped_or_raw():
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = raw.compress(DOC) + raw.flush()
    for body in (zlib.compress(DOC), raw_deflate):
        obs = probe_once(answers((200, {**JSON, "Content-Encoding": "deflate"}, body)), collection="/values").obs
        assert (obs.error, obs.count) == (None, 50)


def test_a_plain_body_over_the_cap_is_cut_and_flagged():
    body = b'{"pad": "' + b"x" * 5000 + b'"}'
    obs = probe_once(answers((200, JSON, body)), ProbeSettings(max_body=1000)).obs
    assert (obs.status, obs.truncated, obs.body_bytes, obs.error) == (200, True, 1000, None)


def test_a_body_inflating_past_the_cap_is_a_bomb_and_the_cells_error():
    bomb = gzip.compress(b"0" * 200_000)  # ~200 bytes on the wire
    obs = probe_once(answers((200, {**JSON, "Content-Encoding": "gzip"}, bomb)), ProbeSettings(max_body=10_000)).obs
    assert obs.status is None
    assert obs.error.startswith("answer: 200 with a body that inflates past the 10,000 bytes cap (Content-Encoding gzip,")
    assert obs.error.endswith("a decompression bomb; not recorded")


def test_stacked_codings_past_the_limit_are_refused():
    body = DOC
    for _ in range(MAX_CODINGS + 1):
        body = gzip.compress(body)
    header = ", ".join(["gzip"] * (MAX_CODINGS + 1))
    obs = probe_once(answers((200, {**JSON, "Content-Encoding": header}, body))).obs
    stacked = f"Content-Encoding stacks {MAX_CODINGS + 1} codings (at most {MAX_CODINGS} are decoded)"
    assert obs.error == f"answer: 200 with {stacked}; not recorded"


def test_a_body_that_does_not_decode_is_the_cells_error_without_its_bytes():
    obs = probe_once(answers((401, {**JSON, "Content-Encoding": "gzip"}, b"SECRET-not-gzip"))).obs
    assert obs.status is None
    assert obs.error.startswith("answer: 401 with Content-Encoding gzip does not decode")
    assert "SECRET" not in str(obs.error)


def test_an_unknown_coding_is_kept_as_opaque_bytes():
    obs = probe_once(answers((200, {"Content-Encoding": "br"}, b"\x1b\x00opaque"))).obs
    assert (obs.status, obs.error, obs.body_bytes) == (200, None, 8)


def test_json_nested_past_the_limit_is_the_cells_error():
    obs = probe_once(answers((200, JSON, b"[" * 600 + b"]" * 600))).obs
    assert obs.error == "answer: 200 with JSON nested deeper than 100 levels; not recorded"

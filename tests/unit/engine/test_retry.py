"""Retries through a Prober whose answers come from httpx.MockTransport: which answers are asked
again, how long the engine waits first (Retry-After, back-off), and when it gives up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx

from catalog.engine.probe import ProbeSettings
from catalog.engine.retry import RetryPolicy, retry_after_seconds
from catalog.model.observation import Observation
from tests.unit.engine.mock import answers, probe_once

OK = (200, {"content-type": "application/json"}, b'{"id": 1}')


def test_a_503_is_retried_with_exponential_back_off_until_an_answer():
    done = probe_once(answers((503, {}, b""), (503, {}, b""), OK))
    assert (done.obs.status, done.obs.attempts) == (200, 3)
    assert done.waits == [0.5, 1.0]
    assert len(done.sent) == 3


def test_retries_are_bounded_and_the_last_answer_is_kept():
    done = probe_once(answers((502, {}, b"")), ProbeSettings(retries=2))
    assert (done.obs.status, done.obs.attempts, len(done.sent)) == (502, 3, 3)


def test_retry_after_in_seconds_is_honoured():
    done = probe_once(answers((429, {"Retry-After": "7"}, b""), OK))
    assert done.waits == [7.0]
    assert (done.obs.status, done.obs.attempts) == (200, 2)


def test_retry_after_as_an_http_date_is_seconds_from_now():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    done = probe_once(answers((503, {"Retry-After": when}, b""), OK))
    assert len(done.waits) == 1 and 17 < done.waits[0] <= 20


def test_a_retry_after_longer_than_the_bound_is_recorded_not_waited_for():
    done = probe_once(answers((429, {"Retry-After": "3600"}, b""), OK), ProbeSettings(max_retry_after=30))
    assert done.waits == []
    assert (done.obs.status, done.obs.attempts) == (429, 1)
    assert done.obs.headers["retry-after"] == "3600"  # what the server said stays on the cell


def test_an_unreadable_retry_after_falls_back_to_back_off():
    done = probe_once(answers((503, {"Retry-After": "soon"}, b""), OK))
    assert done.waits == [0.5]


def test_a_refusal_is_an_answer_not_a_reason_to_retry():
    for status in (400, 401, 403, 404, 500):
        done = probe_once(answers((status, {}, b"")))
        assert (done.obs.status, done.obs.attempts, done.waits) == (status, 1, [])


def test_a_broken_connection_is_retried_after_a_growing_pause():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection: refused by api.test:80 (nothing listens there)")

    done = probe_once(refuse, ProbeSettings(retries=2))
    assert done.obs.status is None
    assert done.obs.error == "connection: refused by api.test:80 (nothing listens there)"
    assert (done.obs.attempts, done.waits) == (3, [0.2, 0.4])


def test_a_dns_failure_is_not_retried():
    def unknown(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("dns: cannot resolve the host name 'api.test' (Name or service not known)")

    done = probe_once(unknown)
    assert (done.obs.attempts, done.waits) == (1, [])
    assert done.obs.error.startswith("dns: ")


def test_no_retries_means_one_attempt():
    done = probe_once(answers((503, {}, b""), OK), ProbeSettings(retries=0))
    assert (done.obs.status, done.obs.attempts, done.waits) == (503, 1, [])


def test_the_policy_alone():
    policy = RetryPolicy(retries=1, max_retry_after=10)
    assert policy.wait_before_retry(Observation(status=429), 1, 4.0) == 4.0
    assert policy.wait_before_retry(Observation(status=429), 1, 11.0) is None
    assert policy.wait_before_retry(Observation(status=429), 2, 4.0) is None  # out of retries
    assert policy.wait_before_retry(Observation(status=None, error="protocol: cut off"), 1, None) == 0.2
    assert policy.wait_before_retry(Observation(status=None, error="tls: not trusted"), 1, None) is None
    assert retry_after_seconds(" 12 ") == 12.0
    assert retry_after_seconds("") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: now


def test_a_retry_after_longer_than_what_the_cell_has_left_ends_it_rate_limited():
    # timeout 5 s, 2 retries: the cell's budget is 15 s; 29 s is more than is left, though under the bound.
    settings = ProbeSettings(timeout=5, retries=2, max_retry_after=30)
    assert settings.budget == 15
    done = probe_once(answers((429, {"Retry-After": "29"}, b""), OK), settings)
    assert done.waits == [] and (done.obs.status, done.obs.attempts) == (429, 1)
    assert done.obs.headers["retry-after"] == "29"  # the delay the server asked for stays on the cell


def test_waits_that_fit_the_budget_are_taken_until_the_rest_would_not():
    # budget 3 × 4 = 12 s: waits of 5 s fit twice (5, then 10 used), the third would end past 12 s.
    done = probe_once(answers((503, {"Retry-After": "5"}, b"")), ProbeSettings(timeout=3, retries=3))
    assert done.waits == [5.0, 5.0]
    assert (done.obs.status, done.obs.attempts) == (503, 3)

"""Contributed regular expressions run in linear time (site/docs/security.md): a pattern with
catastrophic backtracking in ``version_from.pattern`` and in an envelope rule's ``pattern``, against
a real server answering 41 bytes that would take a backtracking engine 2^40 steps, finishes at
once; a pattern RE2 cannot run (a backreference, lookaround) is refused by lint as file:line: field."""

from __future__ import annotations

import time

import pytest

from catalog.definitions.patterns import PatternError, compile_linear
from tests.servers.fault_server import FaultServer
from tests.support.project import make_project, run_cli

EVIL = "^(a+)+$"
ENDPOINTS = [{"id": "redos", "method": "GET", "path": "/discover-redos", "summary": "41 bytes"}]


def _project(tmp_path, pattern: str, server_url_env: str = "REDOS_URL"):
    envelope = {"auth_failure": [{"name": "evil", "when": {"/id": {"pattern": pattern}}}]}
    profile = {"name": "redos", "base_url_env": server_url_env, "timeout": 5, "retries": 0,
               "credentials": {"valid": {"secret": {"env": "REDOS_SECRET"}, "identity": {"env": "REDOS_ID"}}},
               "version_from": {"endpoint": "redos", "pattern": f'"id": "{pattern[1:]}'}}
    return make_project(tmp_path / "p", "redos", ENDPOINTS, profile, api_extra=envelope)


def test_catastrophic_patterns_finish_at_once_on_a_hostile_answer(tmp_path):
    with FaultServer() as server:
        root = _project(tmp_path, EVIL)
        env = {"REDOS_URL": server.url, "REDOS_SECRET": "s3cret-value-123", "REDOS_ID": "someone"}
        assert run_cli(root, "lint", env=env).returncode == 0  # RE2 runs these: no reason to refuse
        started = time.monotonic()
        probe = run_cli(root, "probe", env=env, timeout=60)
        assert probe.returncode == 0, probe.stderr
        assert time.monotonic() - started < 45
        assert server.hits("/discover-redos"), "the hostile answer was fetched and matched"


@pytest.mark.parametrize("pattern, why", [(r"^(a)\1$", "invalid escape sequence"), ("^(?=a)a", "invalid perl operator")])
def test_lint_refuses_a_pattern_re2_cannot_run_with_file_line_field(tmp_path, pattern, why):
    root = _project(tmp_path, pattern)
    lint = run_cli(root, "lint")
    assert lint.returncode == 2
    refused = f"not a regular expression RE2 can run in linear time ({why}"
    assert f"endpoints/redos/api.yaml:8: auth_failure[0].when./id.pattern: {refused}" in lint.stderr, lint.stderr
    assert "endpoints/redos/targets/redos.yaml:13: version_from.pattern: not a regular expression RE2" in lint.stderr
    assert "re2.cc" not in lint.stderr  # RE2's own log line stays quiet: one message, ours


def test_compile_linear_is_re2():
    with pytest.raises(PatternError):
        compile_linear(r"(x)\1")
    assert compile_linear(EVIL).search("a" * 40 + "!") is None
    assert compile_linear(r"v(\d+)").search("ver v12").group(1) == "12"

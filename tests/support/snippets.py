"""Replay every read snippet of a bundled local target against the very server its cells were
observed on (tests/test_snippets_reproduce.py; Matrix's in tests/test_synapse.py, on the module's
Synapse before its run's writes): the curl command through bash, the httpx snippet in this process.

The snippets are generated from the cells' request records alone (catalog.answers.reproduce);
the replay only fills the placeholders the way a reader would: the target's base URL, its
credentials by role, a fresh never-issued token, the launcher's fixture values URL-encoded."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from authcat_plugins.states import lookalike
from catalog.answers.reproduce import cell_snippet
from catalog.definitions.loader import load_all
from catalog.engine.cache import classifier_fingerprint
from catalog.engine.runner import RunOptions, _probe_target
from catalog.hooks.manager import Hooks
from catalog.model.definition import RunningTarget
from catalog.model.vocabulary import Outcome, is_safe_method
from catalog.runs.store import Store
from catalog.secrets.record import credential_names
from catalog.targets.profiles import TargetPool

HAS_CURL = shutil.which("curl") is not None and shutil.which("bash") is not None


def _env(target: RunningTarget) -> dict[str, str]:
    env = {name: literal for literal, name in credential_names(target.credentials)}
    valid = target.credentials.get("valid")
    env.update({
        "API_BASE_URL": target.base_url.rstrip("/"),
        "UNKNOWN_TOKEN": lookalike(valid.secret) if valid else "never-issued",
        "OTHER_USER": "nobody-reproduce@example.invalid",
        "WRONG_SCHEME_USER": "authcat-no-identity",
    })
    # A launcher's values go in the URL as they were sent: percent-encoded.
    env.update({k: quote(str(v), safe="") for k, v in target.parameters.items()})
    return env


# Snippets replayed at once: one endpoint's cells stay one after another (as the prober sends them:
# Synapse answers concurrent /register/available requests with 429), endpoints run side by side.
REPLAYS = 4


@contextlib.contextmanager
def one_ssl_context() -> Iterator[None]:
    """Each ``httpx.request`` builds a client and each client an SSL context: 30 ms of CPU apiece
    (OpenSSL 3), half a minute over Synapse's ~900 snippets, for targets that all speak plain
    http://. The replay builds that context once; the snippets run as written."""
    import httpx._transports.default as transports

    made: dict[tuple, object] = {}
    build = transports.create_ssl_context

    def create_ssl_context(verify=True, cert=None, trust_env=True):
        key = (verify, cert, trust_env)
        if key not in made:
            made[key] = build(verify=verify, cert=cert, trust_env=trust_env)
        return made[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transports, "create_ssl_context", create_ssl_context)
        yield


def _curl_statuses(commands: list[str]) -> list[int]:
    """The last status each curl command printed. One bash runs them one after another, each as
    written in a subshell of its own (as if typed alone), with the target's values in the
    environment: a bash started per snippet cost more than its curl (~900 snippets on Synapse).
    A marker with the exit code follows each one's output, on stdout and on stderr."""
    mark = f"authcat-snippet-end-{secrets.token_hex(8)}"
    script = "".join(f"( {command}\n)\nprintf '\\n{mark} %d\\n' $?\nprintf '\\n{mark}\\n' >&2\n"
                     for command in commands)
    done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=30 * len(commands))
    assert done.returncode == 0, (commands, done.stderr.decode("utf-8", "replace"))
    # A thumbnail's body is binary: split the bytes, decode each snippet's output on its own.
    parts = re.split(rb"\n" + mark.encode() + rb" (\d+)\n", done.stdout)
    outs, codes = parts[0:-1:2], [int(c) for c in parts[1::2]]
    errors = done.stderr.split(b"\n" + mark.encode() + b"\n")
    assert len(codes) == len(commands) and parts[-1] == b"", (commands, done.stdout[-300:])
    statuses = []
    for command, out, code, error in zip(commands, outs, codes, errors, strict=False):
        assert code == 0, (command, error.decode("utf-8", "replace"))
        found = re.findall(r"^HTTP/[\d.]+ (\d{3})", out.decode("utf-8", "replace"), re.M)
        assert found, (command, out[:300])
        statuses.append(int(found[-1]))
    return statuses


def _httpx_status(code: str) -> int:
    """The status the httpx snippet prints, run in this process (its print collected, so several
    snippets can run in threads at once)."""
    printed: list[str] = []

    def collect(*args, **_kwargs) -> None:
        printed.append(" ".join(str(a) for a in args))

    exec(compile(code, "<snippet>", "exec"), {"__name__": "snippet", "print": collect})
    return int(printed[-1].split(" ", 1)[0])


@contextlib.contextmanager
def _environment(env: dict[str, str]):
    """The placeholders' values in os.environ, where a reader's shell would have them, for the replay."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Replayed:
    checked: int  # snippets run (each through curl and httpx)
    problems: list[str]  # one line per snippet whose status differs from its cell's, or that failed


def replay_reads(api: str, target_name: str, root: Path, pool: TargetPool) -> Replayed:
    """Probe the reads of ``api`` on ``target_name`` (started by ``pool`` if it is not running yet),
    then run every judged cell's snippets against that server."""
    definition = load_all(root / "endpoints", only=[api])[api]
    # Only reads are replayed. A write's cell was made in a world its setup prepared for that state
    # (a fresh room, alias or key backup), which the snippet alone does not repeat; replayed after
    # the run, a write meets another world (a push rule already deleted), and writes in the run
    # change what reads meet afterwards (a deleted alias), while POST /logout/all ends the very
    # tokens the snippets run with. Write snippets are built by the same code from the same record.
    definition.endpoints = [e for e in definition.endpoints if is_safe_method(e.method)]
    profile = definition.targets[target_name]
    hooks = Hooks()
    options = RunOptions(apis=[api], refresh=True, log=lambda m: None)
    run = _probe_target(definition, profile, pool, root / "endpoints", Store(root / "site" / "data"), hooks,
                        options, classifier_fingerprint(hooks))
    env = _env(pool.running(profile, root / "endpoints"))
    assert env["API_BASE_URL"].startswith("http://127.0.0.1:")  # no TLS: the shared SSL context is never used
    replays: dict[str, list] = {}
    for endpoint_id, result in sorted(run.endpoints.items()):
        for state, cell in result.cells.items():
            sn = cell_snippet(cell, target_name)
            if cell.outcome == Outcome.NOT_AVAILABLE or cell.observation is None:
                assert not sn.curl and not sn.python and sn.note  # no request: its reason instead
                continue
            assert sn.curl and cell.observation.request, (endpoint_id, state)
            if cell.outcome == Outcome.RATE_LIMITED or cell.status is None:
                continue  # not judged: nothing to reproduce
            replays.setdefault(endpoint_id, []).append((state, cell, sn))

    def replay(endpoint_id: str) -> list[str]:
        cells = replays[endpoint_id]
        try:
            by_curl = _curl_statuses([sn.curl for _, _, sn in cells])
            return [f"{endpoint_id} {state}: cell {cell.status}, curl {got[0]}, httpx {got[1]}"
                    for (state, cell, sn), curl in zip(cells, by_curl, strict=True)
                    if (got := (curl, _httpx_status(sn.python))) != (cell.status, cell.status)]
        except AssertionError as exc:  # a snippet that failed is a problem like a wrong status
            return [f"{endpoint_id}: {exc}"]

    with one_ssl_context(), _environment(env), ThreadPoolExecutor(REPLAYS) as replayers:
        problems = [p for found in replayers.map(replay, replays) for p in found]
    return Replayed(sum(len(cells) for cells in replays.values()), problems)

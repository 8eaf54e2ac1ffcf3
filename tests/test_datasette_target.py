"""The ``datasette`` target plugin against a real Datasette: tokens, permissions, teardown, secrets.

The default tests run the pinned Datasette (1.0a41) and take a few seconds per launch. The test
marked ``slow`` builds (once, cached in ``.cache/authcat/``) a venv with Datasette 1.0a35 and
checks the behaviour that changed in 1.0a36: a token failing verification is served as anonymous.
"""

from __future__ import annotations

import os
import re
import sys
from importlib import metadata
from pathlib import Path

import httpx
import pytest

import authcat_plugins.datasette_target as plugin
from catalog.hooks.manager import Hooks
from catalog.model.errors import TargetError
from catalog.targets.launchers import LaunchContext
from tests.support.datasette_env import OLD_VERSION, EnvError, datasette_python

TIMEOUT = httpx.Timeout(10.0)


class Recorder:
    """Records every secret the plugin generates (a canary) and every log line it writes."""

    def __init__(self):
        self.generated: list[str] = []
        self.lines: list[str] = []
        self._token_hex = plugin.secrets.token_hex

    def token_hex(self, n=None):
        value = self._token_hex(n)
        self.generated.append(value)
        return value

    def log(self, message: str) -> None:
        self.lines.append(message)

    @property
    def pid(self) -> int:
        for line in self.lines:
            if m := re.search(r"\(pid (\d+)\)", line):
                return int(m.group(1))
        raise AssertionError(f"no pid in the launcher's log: {self.lines}")


def _launch(tmp: Path, recorder: Recorder, monkeypatch, **options):
    monkeypatch.setattr(plugin.secrets, "token_hex", recorder.token_hex)
    ctx = LaunchContext("datasette", tmp / "cache", tmp / "scratch", options, recorder.log)
    return plugin.launch_datasette(ctx)


def _get(base: str, path: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(base + path, headers=headers, timeout=TIMEOUT, follow_redirects=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes only once reaped.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    recorder = Recorder()
    tmp = tmp_path_factory.mktemp("datasette")
    (tmp / "cache").mkdir()  # where the launcher keeps the inspected counts (a second launch reuses them)
    with pytest.MonkeyPatch.context() as mp, _launch(tmp, recorder, mp) as launched:
        cmdline = Path(f"/proc/{recorder.pid}/cmdline").read_bytes().decode(errors="replace")
        yield launched, recorder, tmp, cmdline
    assert not _alive(recorder.pid)


def _token(launched, role: str) -> str:
    cred = launched.credentials.get(role)
    assert cred is not None, role
    return cred.secret


def test_registered_as_datasette():
    assert Hooks().launchers["datasette"].start is plugin.launch_datasette


def test_version_is_known_without_starting(running, tmp_path):
    """The launcher states the version the started server reports, without starting one."""
    launched, *_ = running
    ctx = LaunchContext(name="datasette", cache_dir=tmp_path, scratch_dir=tmp_path)
    version = Hooks().launchers["datasette"].version
    assert version is not None and version(ctx) == launched.version
    assert list(tmp_path.iterdir()) == []  # nothing prepared, nothing started


def test_version_comes_from_the_server(running):
    launched, *_ = running
    assert launched.version == metadata.version("datasette") == "1.0a41"
    assert launched.base_url.startswith("http://127.0.0.1:")


def test_roles_and_unavailable_states(running):
    launched, *_ = running
    assert sorted(launched.credentials.roles) == ["expired", "forged", "unprivileged", "valid"]
    assert all(_token(launched, r).startswith("dstok_") for r in launched.credentials.roles)
    assert set(launched.unavailable) == {"revoked", "deactivated"}
    assert all(reason for reason in launched.unavailable.values())


def test_actor_of_each_token(running):
    launched, *_ = running
    assert _get(launched.base_url, "/-/actor.json").json()["actor"] is None
    assert _get(launched.base_url, "/-/actor.json", _token(launched, "valid")).json()["actor"]["id"] == "root"
    unprivileged = _get(launched.base_url, "/-/actor.json", _token(launched, "unprivileged")).json()["actor"]
    assert unprivileged["id"] not in (None, "root")


@pytest.mark.parametrize(
    "role, public, private, root_only",
    [
        (None, 200, 403, 403),
        ("valid", 200, 200, 200),
        ("unprivileged", 200, 403, 403),
    ],
)
def test_permissions(running, role, public, private, root_only):
    launched, *_ = running
    token = _token(launched, role) if role else None
    assert _get(launched.base_url, "/public/films.json", token).status_code == public
    assert _get(launched.base_url, "/private.json", token).status_code == private
    assert _get(launched.base_url, "/private/payroll.json", token).status_code == private
    assert _get(launched.base_url, "/public/staff_notes.json", token).status_code == root_only
    names = [db["name"] for db in _get(launched.base_url, "/.json", token).json()["databases"]]
    assert ("private" in names) == (private == 200)


@pytest.mark.parametrize("role, error", [("expired", "expired"), ("forged", "signature")])
def test_bad_tokens_rejected_on_1_0a41(running, role, error):
    launched, *_ = running
    for path in ("/-/actor.json", "/public/films.json", "/private.json"):
        response = _get(launched.base_url, path, _token(launched, role))
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].lower().startswith("bearer")
        assert error in response.json()["error"].lower()


def test_every_catalogued_endpoint_answers_200_for_valid(running):
    from catalog.definitions.loader import load_api
    from catalog.engine.runner import endpoint_url

    launched, *_ = running
    definition = load_api(Path(__file__).resolve().parent.parent / "endpoints" / "datasette")
    params = dict(definition.targets["local"].parameters)
    assert len(definition.endpoints) >= 10
    for endpoint in definition.endpoints:
        url = endpoint_url(launched.base_url, endpoint, params)
        assert url is not None
        response = httpx.get(url, headers={"Authorization": f"Bearer {_token(launched, 'valid')}"},
                             timeout=TIMEOUT, follow_redirects=False)
        assert response.status_code == 200, (endpoint.id, url, response.status_code)


def test_no_secret_in_logs_files_or_command_line(running):
    launched, recorder, tmp, cmdline = running
    needles = [*recorder.generated, *launched.credentials.secrets()]
    assert len(recorder.generated) >= 2  # the server's secret and the forging secret
    texts = {"cmdline": cmdline, "ctx.log": "\n".join(recorder.lines)}
    for path in tmp.rglob("*"):
        if path.is_file() and path.suffix != ".db":
            texts[str(path)] = path.read_text(errors="replace")
    assert any("datasette.log" in name for name in texts)
    for name, text in texts.items():
        for needle in needles:
            assert needle not in text, f"a secret leaked into {name}"
    assert not any(needle in repr(launched.credentials) for needle in needles)


@pytest.mark.parametrize("raised", [None, KeyboardInterrupt, RuntimeError])
def test_server_stops_at_exit(tmp_path, monkeypatch, raised):
    recorder = Recorder()
    try:
        with _launch(tmp_path, recorder, monkeypatch) as launched:
            pid = recorder.pid
            assert _alive(pid)
            assert _get(launched.base_url, "/-/versions.json").status_code == 200
            if raised:
                raise raised("boom")
    except BaseException as exc:
        assert raised is not None and isinstance(exc, raised)
    assert not _alive(pid)


def test_missing_interpreter_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(TargetError, match=r"options\.python"), \
            _launch(tmp_path, Recorder(), monkeypatch, python=str(tmp_path / "no-such-python")):
        pass


def test_interpreter_without_datasette_fails_without_leaking(tmp_path, monkeypatch):
    base = getattr(sys, "_base_executable", None)
    if not base or not os.path.exists(base):
        pytest.skip("no base interpreter outside the venv")
    import subprocess

    if subprocess.run([base, "-c", "import datasette"], capture_output=True).returncode == 0:
        pytest.skip("the base interpreter has Datasette installed")
    recorder = Recorder()
    with pytest.raises(TargetError) as info, _launch(tmp_path, recorder, monkeypatch, python=base):
        pass
    # The first datasette command to run names itself and why it failed.
    assert re.search(r"datasette (inspect|create-token)[^:]* failed", str(info.value))
    assert "No module named datasette" in str(info.value)
    assert not any(s in str(info.value) for s in recorder.generated)


@pytest.fixture(scope="module")
def old_python():
    try:
        return datasette_python(OLD_VERSION)
    except EnvError as err:
        pytest.skip(f"cannot build a Datasette {OLD_VERSION} environment: {err}")


@pytest.mark.slow
def test_bad_tokens_served_as_anonymous_on_1_0a35(old_python, tmp_path, monkeypatch):
    recorder = Recorder()
    with _launch(tmp_path, recorder, monkeypatch, python=str(old_python)) as launched:
        assert launched.version == OLD_VERSION
        base = launched.base_url
        assert _get(base, "/-/actor.json", _token(launched, "valid")).json()["actor"]["id"] == "root"
        assert _get(base, "/private.json", _token(launched, "valid")).status_code == 200
        anonymous_tables = _get(base, "/public.json").json()["tables"]
        for role in ("expired", "forged"):
            token = _token(launched, role)
            actor = _get(base, "/-/actor.json", token)
            assert actor.status_code == 200 and actor.json()["actor"] is None, role
            public = _get(base, "/public.json", token)
            assert public.status_code == 200 and public.json()["tables"] == anonymous_tables, role
            assert _get(base, "/private.json", token).status_code == 403, role
        pid = recorder.pid
    assert not _alive(pid)


def test_one_helper_process_inspects_and_mints_real_tokens(tmp_path):
    """The launcher's fast path: `datasette inspect` and every `create-token` in one process give
    the counts file and tokens that Datasette itself verifies (signed with the right secret)."""
    import subprocess

    from catalog.secrets.scrub import Scrubber

    public, private = plugin._create_databases(tmp_path)
    counts = tmp_path / "counts.json"
    secret, other = "s" * 64, "o" * 64
    plan = {"valid": (plugin.ROOT, secret), "forged": (plugin.ROOT, other)}
    got = plugin._prepare(sys.executable, ["inspect", str(public), str(private), "--inspect-file", str(counts)],
                          plan, secret, other, (), Scrubber([secret, other]))
    assert got is not None, "the helper did not run"
    tokens = {name: plugin._token(name, outcome, Scrubber()) for name, outcome in got.items()}
    assert set(tokens) == {"valid", "forged"} and tokens["valid"] != tokens["forged"]
    assert '"count": 5' in counts.read_text()
    # One process verifies both (Datasette's import is most of its time): a line per token, the
    # actor it names or the exception unsigning raised.
    verify = ("import os, sys\nfrom datasette.app import Datasette\n"
              "ds = Datasette(secret=os.environ['S'])\n"
              "for token in sys.argv[1:]:\n"
              "    try:\n"
              "        print('actor', ds.unsign(token[len('dstok_'):], namespace='token')['a'])\n"
              "    except Exception as exc:\n"
              "        print('refused', type(exc).__name__)\n")
    done = subprocess.run([sys.executable, "-c", verify, tokens["valid"], tokens["forged"]],
                          env={**os.environ, "S": secret}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.splitlines() == [f"actor {plugin.ROOT}", "refused BadSignature"], done.stdout


def test_a_second_launch_reuses_the_inspected_counts_and_serves_the_same(running, tmp_path):
    """The counts `datasette inspect` gave for the same databases and release are kept in the
    cache; a later launch starts the server with them (while minting) and serves the same counts,
    its tokens still accepted. The first launch is the module's server (the first in its cache)."""
    first, _, first_tmp, _ = running
    cache = first_tmp / "cache"

    def seen_on(launched) -> tuple[list[str], dict[str, int]]:
        kept = sorted(p.name for p in cache.glob("inspect-*.json"))
        valid = launched.credentials.roles["valid"].secret
        public = _get(launched.base_url, "/public.json").json()
        private = _get(launched.base_url, "/private.json", valid)
        assert private.status_code == 200
        return kept, {t["name"]: t["count"] for t in public["tables"]}

    seen = [seen_on(first)]
    ctx = LaunchContext("datasette", cache, tmp_path / "scratch-1", {}, lambda _line: None)
    with plugin.launch_datasette(ctx) as launched:
        seen.append(seen_on(launched))
    assert len(seen[0][0]) == 1 and seen[0][0] == seen[1][0], seen  # written once, then reused
    assert seen[0][1] == seen[1][1] and seen[0][1][plugin.PUBLIC_TABLE] == 5, seen

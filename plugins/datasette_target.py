"""The ``datasette`` target: a local Datasette with a public and a private database.

In the run's scratch directory this plugin builds two small SQLite databases and a
``datasette.yaml`` whose ``allow`` blocks make ``private.db`` and one table of ``public.db``
visible to the ``root`` actor only; everything else is public. It starts ``datasette serve`` on a
free loopback port with a fresh random signing secret, mints API tokens with Datasette's own
``datasette create-token`` command, and stops the server by its PID when the run ends, also on
errors and Ctrl-C.

``datasette inspect`` and the four ``create-token`` commands run in one helper process (each
command through Datasette's own command line, :data:`PREPARE`): one Python start and one import
of Datasette instead of five, which was most of this target's start on a busy machine. An
interpreter that cannot run the helper gets one process per command, as before, so each failure
still names its command.

Tokens (all Bearer ``dstok_…``):

* ``valid``: actor ``root``;
* ``unprivileged``: another actor id, which the ``allow`` blocks do not name;
* ``expired``: actor ``root`` with ``--expires-after 1``, used only once it has expired;
* ``forged``: actor ``root``, signed with another random secret.

``revoked`` and ``deactivated`` have no Datasette equivalent (signed tokens cannot be revoked one
by one, and there are no accounts) and are reported as unavailable.

Options (``options:`` in the target profile): ``python``, the interpreter of another environment
whose Datasette to run (the version is then read from the server, not from this environment);
``plugins``, a list of Datasette plugin distributions to load (default none: Datasette plugins
installed in the environment, such as an auth plugin, would change what is observed);
``startup_timeout`` in seconds (default 30).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml

from catalog.api import (
    Credential,
    Credentials,
    LaunchContext,
    Launched,
    Launcher,
    LocalServer,
    Scrubber,
    State,
    TargetError,
    hookimpl,
    installed_version,
    option_python,
)

ROOT = "root"
UNPRIVILEGED_ACTOR = "reader"
EXPIRES_AFTER = 1  # seconds; Datasette treats 0 as "never expires"

PUBLIC_TABLE = "films"
ROOT_ONLY_TABLE = "staff_notes"
PRIVATE_TABLE = "payroll"

UNAVAILABLE: dict[str, str] = {
    State.REVOKED: "Datasette's signed tokens cannot be revoked one by one (only rotating the secret "
    "invalidates them, all at once)",
    State.DEACTIVATED: "Datasette has no user accounts to deactivate: an actor exists only in its token",
}

_FILMS = [
    (1, "The Third Man", 1949),
    (2, "Rashomon", 1950),
    (3, "Tokyo Story", 1953),
    (4, "Cleo from 5 to 7", 1962),
    (5, "Stalker", 1979),
]


def _create_databases(scratch: Path) -> tuple[Path, Path]:
    public, private = scratch / "public.db", scratch / "private.db"
    for path in (public, private):
        path.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(public)) as db, db:
        db.execute(f"create table {PUBLIC_TABLE} (id integer primary key, title text, year integer)")
        db.executemany(f"insert into {PUBLIC_TABLE} values (?, ?, ?)", _FILMS)
        db.execute(f"create table {ROOT_ONLY_TABLE} (id integer primary key, note text)")
        db.executemany(
            f"insert into {ROOT_ONLY_TABLE} values (?, ?)",
            [(1, "restock the projector bulbs"), (2, "renew the screening licence")],
        )
    with contextlib.closing(sqlite3.connect(private)) as db, db:
        db.execute(f"create table {PRIVATE_TABLE} (id integer primary key, name text, salary integer)")
        db.executemany(
            f"insert into {PRIVATE_TABLE} values (?, ?, ?)",
            [(1, "Ada", 5200), (2, "Grace", 6100), (3, "Linus", 4800)],
        )
    return public, private


def _write_config(scratch: Path) -> Path:
    """``allow`` blocks: private.db and the root-only table for the ``root`` actor only."""
    config = {
        "databases": {
            "public": {"tables": {ROOT_ONLY_TABLE: {"allow": {"id": ROOT}}}},
            "private": {"allow": {"id": ROOT}},
        }
    }
    path = scratch / "datasette.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _env(secret: str, plugins: Sequence[str]) -> dict[str, str]:
    """The child's environment: the secret (never on the command line) and only chosen plugins."""
    return {**os.environ, "DATASETTE_SECRET": secret, "DATASETTE_LOAD_PLUGINS": ",".join(plugins)}


# Run as ``python -c PREPARE PLAN`` with the secrets in the environment (never argv): PLAN is JSON,
# {"inspect": [args…] or null, "tokens": {name: [actor, secret variable, extra args…]}}. Each command runs
# through Datasette's own command line (click's runner, in this process); prints one JSON line.
PREPARE = """
import json, os, sys
from click.testing import CliRunner
from datasette.cli import cli
plan = json.loads(sys.argv[1])
runner = CliRunner()
def run(args, secret):
    got = runner.invoke(cli, args, env={"DATASETTE_SECRET": os.environ[secret]})
    why = "" if got.exception is None or isinstance(got.exception, SystemExit) else type(got.exception).__name__
    return {"exit": got.exit_code, "output": got.output, "error": why}
done = {"inspect": run(plan["inspect"], "DATASETTE_SECRET") if plan["inspect"] else {"exit": 0}}
if done["inspect"]["exit"] == 0:
    done["tokens"] = {name: run(["create-token", actor, *extra], secret)
                      for name, (actor, secret, *extra) in plan["tokens"].items()}
print(json.dumps(done))
"""
OTHER_SECRET = "AUTHCAT_DATASETTE_OTHER_SECRET"  # the forged token's key, in the helper's environment


def _start_prepare(python: str, inspect_args: list[str] | None, plan: dict[str, tuple[str, ...]], secret: str,
                   other_secret: str, plugins: tuple[str, ...]) -> subprocess.Popen | None:
    """Start ``datasette inspect`` (unless ``inspect_args`` is None), then every token of ``plan``
    minted, in one process; None when this interpreter cannot be started."""
    names = {secret: "DATASETTE_SECRET", other_secret: OTHER_SECRET}
    spec = {"inspect": inspect_args,
            "tokens": {name: [actor, names[key], *extra] for name, (actor, key, *extra) in plan.items()}}
    env = {**_env(secret, list(plugins)), OTHER_SECRET: other_secret}
    try:
        return LocalServer.spawn([python, "-c", PREPARE, json.dumps(spec)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env)
    except OSError:
        return None


def _communicate(proc: subprocess.Popen, timeout: float, what: str) -> tuple[str, str]:
    """The process's output; killed and named in the error when it outlives ``timeout``."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise TargetError(f"{what} timed out after {timeout:.0f} s") from None


def _finish_prepare(proc: subprocess.Popen, scrub: Scrubber, timeout: float = 60) -> dict[str, dict] | None:
    """Each token's outcome from :func:`_start_prepare`'s process, or None when this interpreter
    could not run the helper (the caller then runs each command on its own, so a failure names
    its command)."""
    out, _ = _communicate(proc, timeout, "datasette inspect and create-token")
    try:
        got = json.loads(out.strip().splitlines()[-1]) if proc.returncode == 0 else None
    except (ValueError, IndexError):
        got = None
    if not isinstance(got, dict) or not isinstance(got.get("inspect"), dict):
        return None
    if got["inspect"]["exit"] != 0:
        raise TargetError(f"datasette inspect failed (exit {got['inspect']['exit']}): "
                          f"{_tail(got['inspect'], scrub)}")
    return got.get("tokens") or {}


def _prepare(python: str, inspect_args: list[str], plan: dict[str, tuple[str, ...]], secret: str,
             other_secret: str, plugins: tuple[str, ...], scrub: Scrubber,
             timeout: float = 60) -> dict[str, dict] | None:
    """:func:`_start_prepare`, then :func:`_finish_prepare`."""
    proc = _start_prepare(python, inspect_args, plan, secret, other_secret, plugins)
    return None if proc is None else _finish_prepare(proc, scrub, timeout)


def _inspection_key(release: str, *databases: Path) -> str:
    """What ``datasette inspect`` reports depends on: the databases' bytes and Datasette's release."""
    digest = hashlib.sha256(release.encode())
    for path in databases:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def _reuse_inspection(cached: Path, counts: Path, databases: dict[str, Path]) -> bool:
    """Write ``counts`` from an earlier ``datasette inspect`` of the same databases (the same
    bytes, the same release), each entry's ``file`` naming this launch's copy; False without one."""
    try:
        data = json.loads(cached.read_text())
        for name, path in databases.items():
            data[name]["file"] = str(path)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    counts.write_text(json.dumps(data, indent=2))
    return True


def _tail(outcome: dict, scrub: Scrubber) -> str:
    lines = [line for line in str(outcome.get("output") or "").splitlines() if line.strip()]
    return scrub("\n".join(lines[-5:]) or str(outcome.get("error") or ""))


def _token(name: str, outcome: dict, scrub: Scrubber) -> str:
    """The token a helper's ``create-token`` printed; TargetError as :func:`_collect` words it."""
    token = next((line.strip() for line in str(outcome.get("output") or "").splitlines()
                  if line.strip().startswith("dstok_")), "")
    if outcome.get("exit") != 0 or not token:
        raise TargetError(f"datasette create-token for the {name} token failed (exit {outcome.get('exit')}): "
                          f"{_tail(outcome, scrub)}")
    return token


def _mint(python: str, actor: str, secret: str, *extra: str, plugins: tuple[str, ...] = ()) -> subprocess.Popen:
    """Start ``datasette create-token``; the secret goes through the environment, never argv."""
    env = _env(secret, list(plugins))
    return LocalServer.spawn(  # guarded: it dies with authcat, and an interrupted start kills it
        [python, "-m", "datasette", "create-token", actor, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _collect(name: str, proc: subprocess.Popen, scrub: Scrubber, timeout: float = 60) -> str:
    out, err = _communicate(proc, timeout, f"datasette create-token for the {name} token")
    token = out.strip().splitlines()[0] if out.strip() else ""
    if proc.returncode != 0 or not token.startswith("dstok_"):
        tail = scrub("\n".join((err or out).splitlines()[-5:]))
        raise TargetError(f"datasette create-token for the {name} token failed (exit {proc.returncode}): {tail}")
    return token


def _get_json(url: str, token: str | None = None, timeout: float = 10) -> tuple[int, object]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # loopback only
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        with err:
            try:
                return err.code, json.load(err)
            except ValueError:
                return err.code, None


def _server_version(base_url: str) -> str | None:
    status, body = _get_json(f"{base_url}/-/versions.json")
    if status == 200 and isinstance(body, dict):
        return (body.get("datasette") or {}).get("version")
    return None


def _actor_id(base_url: str, token: str) -> tuple[int, object]:
    status, body = _get_json(f"{base_url}/-/actor.json", token)
    actor = body.get("actor") if isinstance(body, dict) else None
    return status, actor.get("id") if isinstance(actor, dict) else None


def datasette_version(ctx: LaunchContext) -> str | None:
    """The Datasette version the server would run, without starting it: the installed
    distribution's, or with ``options.python`` that interpreter's."""
    return installed_version("datasette", option_python(ctx.options, "datasette"))


@contextlib.contextmanager
def launch_datasette(ctx: LaunchContext) -> Iterator[Launched]:
    python = option_python(ctx.options, "datasette")
    timeout = float(ctx.options.get("startup_timeout", 30))
    plugins = tuple(str(p) for p in ctx.options.get("plugins", ()))
    scratch = ctx.scratch_dir
    scratch.mkdir(exist_ok=True)
    public_db, private_db = _create_databases(scratch)
    config = _write_config(scratch)

    secret = secrets.token_hex(32)
    other_secret = secrets.token_hex(32)
    scrub = Scrubber([secret, other_secret])
    started = time.monotonic()

    # Mint while the server starts: create-token needs only the secret, not the server.
    # The expired token comes first so that its clock runs while the others are minted.
    plan: dict[str, tuple[str, ...]] = {
        State.EXPIRED: (ROOT, secret, "--expires-after", str(EXPIRES_AFTER)),
        State.VALID: (ROOT, secret),
        State.UNPRIVILEGED: (UNPRIVILEGED_ACTOR, secret),
        State.FORGED: (ROOT, other_secret),
    }
    minting: dict[str, subprocess.Popen] = {}
    helper: subprocess.Popen | None = None
    tokens: dict[str, str] = {}
    expired_at = 0.0
    release = installed_version("datasette", python) or ""
    no_tokens = {}
    if release.startswith("0."):
        # `datasette create-token` came with 1.0a1: before it, nothing can present a credential.
        why = (f"Datasette {release} has no API tokens (`datasette create-token` came with 1.0): "
               "it cannot make this credential")
        no_tokens = dict.fromkeys(plan, why)
        plan = {}
    try:
        env = _env(secret, plugins)
        # Immutable databases with precomputed counts: Datasette counts tables under a 10 ms
        # limit otherwise, and on a busy machine a count that times out changes /.json's body
        # from run to run, which the catalog would record as drift.
        # The same databases inspected by the same release give the same counts: an earlier
        # launch's are reused (ctx.cache_dir), and the server then starts while tokens are minted.
        counts = scratch / "counts.json"
        inspect_args = ["inspect", str(public_db), str(private_db), "--inspect-file", str(counts)]
        cached = ctx.cache_dir / f"inspect-{_inspection_key(release, public_db, private_db)}.json"
        inspected_before = _reuse_inspection(cached, counts, {"public": public_db, "private": private_db})
        helper = _start_prepare(python, None if inspected_before else inspect_args, plan, secret, other_secret,
                                plugins)
        prepared: dict[str, dict] | None = None
        if helper is not None and not inspected_before:
            prepared = _finish_prepare(helper, scrub)
            helper = None
        if prepared is None and helper is None:  # one process per command
            for name, (actor, key, *extra) in plan.items():
                minting[name] = _mint(python, actor, key, *extra, plugins=plugins)
            if not inspected_before:
                inspected = LocalServer.run_command([python, "-m", "datasette", *inspect_args], env=env, timeout=60)
                if inspected.returncode != 0:
                    tail = scrub(inspected.stderr.strip().splitlines()[-1] if inspected.stderr.strip() else "")
                    raise TargetError(f"datasette inspect failed (exit {inspected.returncode}): {tail}")
        if not inspected_before and counts.exists():
            with contextlib.suppress(OSError):  # for the next launch; written whole or not at all
                partial = cached.with_name(f".{cached.name}.{os.getpid()}")
                partial.write_bytes(counts.read_bytes())
                os.replace(partial, cached)
        minted_at = time.time()

        # Before 1.0 the allow blocks live in metadata (`--config` then took settings).
        config_flag = "--metadata" if release.startswith("0.") else "--config"

        def command(port: int) -> list[str]:
            return [
                python, "-m", "datasette", "serve", "-i", str(public_db), "-i", str(private_db),
                "--inspect-file", str(counts),
                config_flag, str(config), "--host", "127.0.0.1", "--port", str(port),
            ]

        with LocalServer("datasette", command, scratch / "datasette.log", started=started, env=env,
                         secrets=[secret, other_secret]) as server:
            base_url = server.base_url
            # Collect the tokens first; the expired one starts its clock as soon as it is signed.
            unavailable = {**UNAVAILABLE, **no_tokens}
            if helper is not None:  # minting beside the server's start
                prepared = _finish_prepare(helper, scrub)
                minted_at = time.time()
                if prepared is None:  # one process per command
                    for name, (actor, key, *extra) in plan.items():
                        minting[name] = _mint(python, actor, key, *extra, plugins=plugins)
            for name in plan:
                try:
                    if prepared is not None:
                        tokens[name] = _token(name, prepared.get(name) or {}, scrub)
                    else:
                        tokens[name] = _collect(name, minting[name], scrub)
                except TargetError as exc:
                    # This Datasette cannot make that token (an old one has no --expires-after,
                    # one before 1.0 no API tokens at all): the state is n/a with the reason —
                    # valid included — and the other states are still probed.
                    unavailable[name] = f"this Datasette cannot provide it: {exc}"
                    continue
                if name == State.EXPIRED:
                    # The token holds int(time.time()) at signing, which is <= now (the helper
                    # signed it before it ended, so before minted_at).
                    expired_at = (minted_at if prepared is not None else time.time()) + EXPIRES_AFTER + 0.1
            server.scrub = Scrubber([secret, other_secret, *tokens.values()])
            server.ready("/-/versions.json", timeout)
            version = _server_version(base_url)
            if State.VALID in tokens and (status := _actor_id(base_url, tokens[State.VALID])) != (200, ROOT):
                raise TargetError(f"datasette: the minted root token is not accepted (/-/actor.json gave {status[0]})")
            if State.EXPIRED in tokens:
                # Probe it only once it has expired; a server that still accepts it then is a finding.
                time.sleep(max(0.0, expired_at - time.time()))
            ctx.log(
                f"datasette {version} on {base_url} (pid {server.pid}), "
                f"ready in {time.monotonic() - started:.1f} s"
            )
            yield Launched(
                base_url=base_url,
                version=version,
                credentials=Credentials(roles={name: Credential(secret=tok) for name, tok in tokens.items()}),
                serves=None,
                unavailable=unavailable,
            )
    finally:
        # On an early failure, stop any create-token (or the helper) still running.
        for proc in [*minting.values(), *([helper] if helper is not None else [])]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@hookimpl(trylast=True)
def authcat_register_targets(register):
    register("datasette", Launcher(start=launch_datasette, version=datasette_version))

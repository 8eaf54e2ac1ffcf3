"""The ``backlot`` target: a local Backlot emulator serving Atlassian's APIs under ``/atlassian``.

Backlot (``backlot`` on PyPI) emulates Jira and Confluence over a small bundled corpus, with
per-document ACLs, so different users see different projects and spaces. This plugin prepares the
bundled corpus once in the cache, starts ``backlot serve`` on a free loopback port, reads the
users' tokens from Backlot's own data directory at run time (they are never copied anywhere) and
stops the server by its PID when the run ends, also on errors and Ctrl-C.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sys
import urllib.request
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import yaml

from catalog.api import (
    Credential,
    Credentials,
    LaunchContext,
    Launched,
    Launcher,
    LocalServer,
    State,
    TargetError,
    hookimpl,
    path_shape,
)

# Who plays which role, by email (identities, not secrets). Priya sees the most; Sam, a guest
# from another organisation, sees no project: the unprivileged caller.
DEFAULT_ROLES = {
    State.VALID: "priya.shah@acme.com",
    "other": "bob.iyer@acme.com",
    State.UNPRIVILEGED: "sam.ortiz@northwind.example",
}


def _version(ctx: LaunchContext | None = None) -> str:
    """The installed Backlot's version: what the started server runs, known without starting it."""
    return metadata.version("backlot")


def _prepare(ctx: LaunchContext, version: str) -> Path:
    """Import the bundled corpus once per Backlot version; later runs reuse it. Runs of other
    projects (or parallel tests) share the cache: one imports while the others wait for it."""
    data_dir = ctx.cache_dir / f"data-{version}"
    ctx.cache_dir.mkdir(parents=True, exist_ok=True)
    with open(ctx.cache_dir / f".data-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when the process dies
        return _import(ctx, data_dir)


def _import(ctx: LaunchContext, data_dir: Path) -> Path:
    if (data_dir / "db.sqlite").exists() and (data_dir / "tokens.yaml").exists():
        return data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    ctx.log(f"backlot: importing the bundled corpus into {data_dir}")
    done = LocalServer.run_command(  # guarded: it dies with authcat, and an interrupted start kills it
        [sys.executable, "-m", "backlot", "import", "--bundled", "--data-dir", str(data_dir)],
        timeout=300,
    )
    if done.returncode != 0:
        raise TargetError(f"backlot import failed (exit {done.returncode}); see {data_dir}")
    return data_dir


def _credentials(data_dir: Path, roles: dict[str, str]) -> Credentials:
    users = yaml.safe_load((data_dir / "tokens.yaml").read_text())["users"]
    by_email = {u["email"]: u["token"] for u in users}
    creds = Credentials()
    for role, email in roles.items():
        if email not in by_email:
            raise TargetError(f"backlot: no user {email!r} in the corpus for role {role!r}")
        creds.roles[role] = Credential(secret=by_email[email], identity=email)
    return creds


def _served_routes(base_url: str) -> set[tuple[str, str]]:
    """The (method, path shape) pairs Backlot implements, from its own OpenAPI document."""
    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=10) as resp:  # loopback only
        doc = json.load(resp)
    return {(m.upper(), path_shape(p)) for p, ops in doc.get("paths", {}).items() for m in ops}


@contextlib.contextmanager
def launch_backlot(ctx: LaunchContext) -> Iterator[Launched]:
    version = _version()
    data_dir = _prepare(ctx, version)
    roles = {**DEFAULT_ROLES, **ctx.options.get("roles", {})}
    credentials = _credentials(data_dir, roles)

    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "backlot", "serve",
            "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(data_dir), "--disable-telemetry", "--log-level", "warning",
        ]

    with LocalServer("backlot", command, ctx.scratch_dir / "backlot.log", secrets=credentials.secrets()) as server:
        server.ready("/health", timeout=60)
        base_url = server.base_url
        routes = _served_routes(base_url)
        ctx.log(f"backlot {version} on {base_url} (pid {server.pid})")
        yield Launched(
            base_url=base_url,
            version=version,
            credentials=credentials,
            serves=lambda method, path: (method, path_shape(path)) in routes,
            unavailable={
                State.EXPIRED: "Backlot issues no expiring tokens",
                State.REVOKED: "Backlot cannot revoke a token",
                State.FORGED: "Backlot's tokens are opaque, not signed",
                State.DEACTIVATED: "Backlot has no deactivated accounts",
            },
        )


@hookimpl(trylast=True)
def authcat_register_targets(register):
    register("backlot", Launcher(start=launch_backlot, version=_version))

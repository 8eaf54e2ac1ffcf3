"""The ``synapse`` target: a local Synapse (the reference Matrix homeserver) with real fixtures.

In the run's scratch folder this plugin writes a ``homeserver.yaml`` (SQLite in memory, one client listener
on a free 127.0.0.1 port, no federation listener and no federation peers, registration only with
a token nobody has (users come through the shared secret), rate limits lifted for the probes), starts
``python -m synapse.app.homeserver`` (see ``MAIN``) and stops it by its PID when the run ends, also on errors,
Ctrl-C and SIGTERM (:class:`catalog.targets.process.ServerProcess`).

Then it makes every fixture through the server itself (see :mod:`.synapse_fixtures`):

* ``valid``: ``@alice``, a member of a public room (published to the room directory, with
  messages) and of a private room;
* ``unprivileged``: ``@bob``, a user in neither room;
* ``revoked``: an access token of alice's that ``POST /logout`` revoked;
* ``expired``: an access token of alice's issued with refresh tokens, whose lifetime
  (``refreshable_access_token_lifetime``, a few seconds here) has passed — the plugin waits it out;
* ``deactivated``: a token of ``@dave``, whose account the admin API deactivated.

``forged`` is not available: Synapse's access tokens are random strings with a checksum, not
signed, so there is no signature to get wrong. Path parameters (room ids, the alias, event ids,
the media id, …) come from the fixtures as the launcher's ``parameters``.

Options (``options:`` in the target profile): ``startup_timeout`` in seconds (default 60);
``token_lifetime`` in seconds, the expired token's lifetime (default 2).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
)

from .matrix_client import MatrixClient
from .synapse_fixtures import SERVER_NAME, fresh_logins, make_fixtures, revocations
from .without_iri_grammar import run_module

UNAVAILABLE: dict[str, str] = {
    State.FORGED: "Synapse access tokens are random strings with a checksum (`syt_…`), not signed: there "
    "is no signature to forge (a never-issued token is the `unknown-token` state)",
}

# Generous limits: the catalog sends a few thousand requests in seconds, all from 127.0.0.1.
_LOOSE = {"per_second": 10000, "burst_count": 100000}
RATE_LIMITS: dict[str, dict[str, Any]] = {
    key: dict(_LOOSE) for key in (
        "rc_message", "rc_registration", "rc_joins", "rc_invites", "rc_3pid_validation",
        "rc_admin_redaction", "rc_key_requests", "rc_media_create", "rc_presence", "rc_delayed_event_mgmt",
        "rc_room_creation", "rc_reports", "rc_registration_token_validity",
    )
}
RATE_LIMITS["rc_login"] = {"address": dict(_LOOSE), "account": dict(_LOOSE), "failed_attempts": dict(_LOOSE)}
RATE_LIMITS["rc_joins"] = {"local": dict(_LOOSE), "remote": dict(_LOOSE)}
RATE_LIMITS["rc_invites"] = {"per_room": dict(_LOOSE), "per_user": dict(_LOOSE), "per_issuer": dict(_LOOSE)}
RATE_LIMITS["rc_presence"] = {"per_user": dict(_LOOSE)}


# The non-default settings of write_config that change what the catalog observes (shown with every
# observed cell of this target and exported).
SETTINGS = {
    "allow_public_rooms_without_auth": (
        "true: Synapse refuses anonymous GET /publicRooms by default; on, the endpoint serves everybody "
        "as the spec documents, so a bad credential there is served like everyone"),
    "rc_* rate limits": (
        "loosened: the probe's pace would otherwise meet Synapse's login, registration and message "
        "limits (429); the hard-coded limiter on /register/available stays"),
}


MAIN = run_module("synapse.app.homeserver")  # python -m synapse.app.homeserver, a start without an unused grammar


def write_config(scratch: Path, port: int, shared_secret: str, token_lifetime: float) -> Path:
    """A homeserver.yaml for one throw-away run; every secret is fresh and stays in ``scratch``."""
    config = {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(scratch / "homeserver.pid"),
        "listeners": [{
            "port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
            "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}],
        }],
        # SQLite in memory: on a file, every commit waited for the disk (WAL, synchronous=FULL),
        # which made the writes' world-building requests (a room per state) most of a run's
        # time; the server and its data are thrown away after the run anyway, and its tokens
        # never reach the disk.
        "database": {"name": "sqlite3", "args": {"database": ":memory:"}},
        "log_config": str(_write_log_config(scratch)),
        "media_store_path": str(scratch / "media"),
        "signing_key_path": str(_write_signing_key(scratch)),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(32),
        "form_secret": secrets.token_hex(32),
        # Open registration, but only with a registration token (none is ever issued): the
        # registration endpoints answer as on a real server, and nobody can sign up.
        "enable_registration": True,
        "registration_requires_token": True,
        "report_stats": False,
        # No federation: no peers, no key servers, nothing leaves 127.0.0.1.
        "federation_domain_whitelist": [],
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "url_preview_enabled": False,
        "serve_client_wellknown": True,
        # The spec documents GET /publicRooms as needing no credential; Synapse requires one unless
        # this is set. Set, the server behaves as documented, and what it does with a bad
        # credential there is what the catalog observes.
        "allow_public_rooms_without_auth": True,
        # Synapse's default publishes nothing; the fixture's public room must be listed.
        "room_list_publication_rules": [{"action": "allow"}],
        # The `expired` fixture: tokens issued to refresh-token logins live this long. Tokens of
        # ordinary logins (valid, unprivileged) never expire.
        "refreshable_access_token_lifetime": int(token_lifetime * 1000),  # milliseconds
        "presence": {"enabled": True},
        # Passwords are hashed with the fewest bcrypt rounds: the destructive probes log in afresh
        # for each state, and the hashes are thrown away with the server.
        "bcrypt_rounds": 4,
        **RATE_LIMITS,
    }
    path = scratch / "homeserver.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    os.chmod(path, 0o600)  # it holds the shared secret
    return path


def _write_log_config(scratch: Path) -> Path:
    # Warnings and errors only: request logs would grow with every probe.
    log = {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"level": "WARNING", "handlers": ["console"]},
        "disable_existing_loggers": False,
    }
    path = scratch / "log.yaml"
    path.write_text(yaml.safe_dump(log, sort_keys=False))
    return path


def _write_signing_key(scratch: Path) -> Path:
    """A fresh ed25519 server key (Synapse refuses to start without one)."""
    from signedjson.key import generate_signing_key, write_signing_keys  # a Synapse dependency

    path = scratch / "signing.key"
    with path.open("w") as f:
        write_signing_keys(f, [generate_signing_key("a_" + secrets.token_hex(2))])
    os.chmod(path, 0o600)
    return path


def synapse_version(client: MatrixClient) -> str | None:
    with contextlib.suppress(TargetError):
        _, body = client.call("GET", "/_synapse/admin/v1/server_version")
        if isinstance(body, dict) and isinstance(body.get("server_version"), str):
            return body["server_version"].split(" ")[0]
    return None


@contextlib.contextmanager
def launch_synapse(ctx: LaunchContext) -> Iterator[Launched]:
    # Looked up, not imported: importing Synapse takes seconds of CPU in authcat's own process,
    # which a Ctrl-C or SIGTERM could not cut short, and the server runs in its own process anyway.
    if importlib.util.find_spec("synapse") is None:
        raise TargetError("synapse: the matrix-synapse package is not installed "
                          "(pip install -e '.[targets]')")
    timeout = float(ctx.options.get("startup_timeout", 60))
    lifetime = float(ctx.options.get("token_lifetime", 2))
    scratch = ctx.scratch_dir
    scratch.mkdir(exist_ok=True)
    started = time.monotonic()
    shared_secret = secrets.token_urlsafe(32)

    def command(port: int) -> list[str]:
        config = write_config(scratch, port, shared_secret, lifetime)
        return [sys.executable, "-c", MAIN, "--config-path", str(config)]

    scrub = Scrubber([shared_secret])
    with LocalServer("synapse", command, scratch / "synapse.log", started=started, secrets=[shared_secret],
                     cwd=scratch) as server:
        ready = server.ready("/_matrix/client/versions", timeout)
        base_url = server.base_url
        client = MatrixClient(base_url, scrub)
        try:
            fixtures = make_fixtures(client, shared_secret, lifetime)
            server.scrub = Scrubber([shared_secret, *fixtures.secrets()])
            client.scrub = server.scrub
            version = synapse_version(client)
        finally:
            client.close()
        ctx.log(f"synapse {version} on {base_url} (pid {server.pid}), ready in {ready:.1f} s, "
                f"fixtures in {time.monotonic() - started - ready:.1f} s")
        yield Launched(
            settings=dict(SETTINGS),
            base_url=base_url,
            version=version,
            credentials=Credentials(roles={role: Credential(secret=s.token) for role, s in fixtures.tokens.items()}),
            serves=None,
            unavailable=dict(UNAVAILABLE),
            parameters=dict(fixtures.parameters),
            revocations=revocations(base_url, server.scrub, fixtures, shared_secret),
            fresh=fresh_logins(base_url, server.scrub, fixtures),
        )


@hookimpl(trylast=True)
def authcat_register_targets(register):
    # The version the admin API will state, known without starting Synapse: a run whose Matrix
    # cells are all current for it starts no Synapse (catalog.targets.launchers.Launcher).
    register("synapse", Launcher(start=launch_synapse, version=lambda ctx: installed_version("matrix-synapse")))

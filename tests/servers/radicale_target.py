"""A ``radicale`` launcher, registered by the WebDAV test like any third-party plugin: a real
CalDAV/CardDAV server (Radicale, from PyPI) on 127.0.0.1 with htpasswd users.

In the run's scratch folder it writes an htpasswd file (``alice``, ``bob``) with fresh random
passwords, a config (owner-only rights, no delay after a failed login: the probes fail logins by
design) and starts ``python -m radicale``. Through the server itself it makes alice a calendar
(``MKCALENDAR``) holding one event. ``valid`` is alice, ``unprivileged`` bob (who may not read
alice's collections); Radicale's passwords cannot expire nor be revoked one by one, and there is no
token to forge: those states are n/a with the reason.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
import time
from collections.abc import Iterator

import httpx

from catalog.api import (
    Credential,
    Credentials,
    LaunchContext,
    Launched,
    Launcher,
    LocalServer,
    TargetError,
    hookimpl,
    installed_version,
)

CALENDAR = "work"
EVENT = "kickoff.ics"
ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//authcat//probe//EN
BEGIN:VEVENT
UID:kickoff-authcat
DTSTAMP:20260101T090000Z
DTSTART:20260105T090000Z
DTEND:20260105T100000Z
SUMMARY:Project kickoff
END:VEVENT
END:VCALENDAR
"""
MKCALENDAR = """<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop><D:displayname>Work</D:displayname></D:prop></D:set>
</C:mkcalendar>"""
UNAVAILABLE = {
    "expired": "Radicale's htpasswd passwords do not expire",
    "revoked": "Radicale cannot revoke one password; it has no tokens",
    "forged": "Radicale has no signed tokens to forge (a never-issued password is unknown-token)",
    "deactivated": "Radicale has no deactivated accounts: a user is a line in the htpasswd file",
}


def _password() -> str:
    return "Pw~" + secrets.token_urlsafe(18)  # encoded forms differ from the raw one (canaries)


@contextlib.contextmanager
def launch_radicale(ctx: LaunchContext) -> Iterator[Launched]:
    scratch = ctx.scratch_dir
    scratch.mkdir(parents=True, exist_ok=True)
    users = {"alice": _password(), "bob": _password()}
    htpasswd = scratch / "users"
    htpasswd.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
    htpasswd.chmod(0o600)

    def command(port: int) -> list[str]:
        config = scratch / "config"
        config.write_text(
            f"[server]\nhosts = 127.0.0.1:{port}\n"
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {htpasswd}\nhtpasswd_encryption = plain\ndelay = 0\n"
            f"[rights]\ntype = owner_only\n"
            f"[storage]\nfilesystem_folder = {scratch / 'collections'}\n"
            "[logging]\nlevel = warning\n"
        )
        return [sys.executable, "-m", "radicale", "--config", str(config)]

    started = time.monotonic()
    with LocalServer("radicale", command, scratch / "radicale.log", started=started,
                     secrets=list(users.values()), cwd=scratch) as server:
        server.ready("/.web/", float(ctx.options.get("startup_timeout", 30)))
        base = server.base_url
        with httpx.Client(base_url=base, auth=("alice", users["alice"]), timeout=10) as client:
            made = client.request("MKCALENDAR", f"/alice/{CALENDAR}/", content=MKCALENDAR,
                                  headers={"Content-Type": "application/xml"})
            put = client.put(f"/alice/{CALENDAR}/{EVENT}", content=ICS, headers={"Content-Type": "text/calendar"})
        if made.status_code != 201 or put.status_code not in (201, 204):
            raise TargetError(f"radicale: fixtures failed (MKCALENDAR {made.status_code}, PUT {put.status_code})")
        yield Launched(
            base_url=base,
            version=installed_version("radicale"),
            credentials=Credentials({"valid": Credential(users["alice"], "alice"),
                                     "unprivileged": Credential(users["bob"], "bob")}),
            unavailable=dict(UNAVAILABLE),
            parameters={"user": "alice", "calendar": CALENDAR, "event": EVENT},
        )


class RadicaleTarget:
    @hookimpl
    def authcat_register_targets(self, register):
        register("radicale", Launcher(start=launch_radicale, version=lambda ctx: installed_version("radicale")))

"""A small Matrix client for the ``synapse`` target's fixtures: users, rooms, messages, tokens.

It talks to a Synapse that the target plugin started on 127.0.0.1, through the documented
Client-Server API and Synapse's admin API (shared-secret registration, deactivation). Every
fixture is made by the server itself: a revoked token is one that ``POST /logout`` revoked, an
expired one was issued with a short lifetime and has outlived it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from catalog.api import (
    TargetError,
)

if TYPE_CHECKING:
    import ssl

    import httpx

CLIENT = "/_matrix/client/v3"


@dataclass(frozen=True)
class Session:
    """One login: the user, the device and its access token (kept out of every repr)."""

    user_id: str
    device_id: str
    token: str
    expires_in_ms: int | None = None

    def __repr__(self) -> str:
        return f"Session(user_id={self.user_id!r}, device_id={self.device_id!r}, token=<redacted>)"


def q(value: str) -> str:
    """A path segment: Matrix ids hold ``@ ! # :`` that must be percent-encoded."""
    return quote(value, safe="")


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default SSL context, built once per process: each build loads the CA bundle (~30 ms
    of CPU), and the destructive probes make a client per fresh login (the launched Synapse
    speaks plain http:// anyway)."""
    import httpx

    return httpx.create_ssl_context()


class MatrixClient:
    """Synchronous calls with one clear error per failure; never echoes a token."""

    def __init__(self, base_url: str, scrub, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.scrub = scrub
        import httpx  # here: every `authcat` start loads this plugin, few talk to a Synapse

        self._http: httpx.Client = httpx.Client(base_url=self.base_url, timeout=timeout, follow_redirects=False,
                                                 verify=_tls())
        self._txn = 0

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, path: str, token: str | None = None, json: Any = None,
             content: bytes | None = None, headers: dict[str, str] | None = None,
             params: dict[str, str] | None = None, expect: tuple[int, ...] = (200,)) -> tuple[int, Any]:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        import httpx

        try:
            resp = self._http.request(method, path, json=json, content=content, headers=sent, params=params)
        except httpx.HTTPError as exc:
            raise TargetError(f"synapse: {method} {path.split('?')[0]} failed: {self.scrub(str(exc))}") from None
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code not in expect:
            detail = body.get("errcode", "") + " " + str(body.get("error", "")) if isinstance(body, dict) else ""
            raise TargetError(f"synapse: {method} {path.split('?')[0]} answered {resp.status_code}"
                              f" {self.scrub(detail.strip())[:200]}")
        return resp.status_code, body

    # ---- accounts ---------------------------------------------------------------------------

    def register(self, shared_secret: str, user: str, password: str, admin: bool = False) -> Session:
        """Shared-secret registration (Synapse's admin API): no open registration is needed."""
        _, nonce = self.call("GET", "/_synapse/admin/v1/register")
        digest = _mac(shared_secret, nonce["nonce"], user, password, admin)
        _, body = self.call("POST", "/_synapse/admin/v1/register", json={
            "nonce": nonce["nonce"], "username": user, "password": password, "admin": admin, "mac": digest,
        })
        return Session(body["user_id"], body["device_id"], body["access_token"])

    def login(self, user: str, password: str, refresh_token: bool = False) -> Session:
        _, body = self.call("POST", f"{CLIENT}/login", json={
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password, "refresh_token": refresh_token,
        })
        return Session(body["user_id"], body["device_id"], body["access_token"], body.get("expires_in_ms"))

    def logout(self, session: Session) -> None:
        self.call("POST", f"{CLIENT}/logout", session.token, json={})

    def deactivate(self, admin: Session, user_id: str) -> None:
        self.call("POST", f"/_synapse/admin/v1/deactivate/{q(user_id)}", admin.token, json={"erase": False})

    def whoami(self, token: str) -> tuple[int, Any]:
        return self.call("GET", f"{CLIENT}/account/whoami", token, expect=(200, 401, 403))

    # ---- rooms and content ------------------------------------------------------------------

    def create_room(self, session: Session, **body: Any) -> str:
        _, answer = self.call("POST", f"{CLIENT}/createRoom", session.token, json=body)
        return answer["room_id"]

    def join(self, session: Session, room: str) -> None:
        self.call("POST", f"{CLIENT}/join/{q(room)}", session.token, json={})

    def invite(self, session: Session, room: str, user_id: str) -> None:
        self.call("POST", f"{CLIENT}/rooms/{q(room)}/invite", session.token, json={"user_id": user_id})

    def send(self, session: Session, room: str, event_type: str, content: dict) -> str:
        self._txn += 1
        path = f"{CLIENT}/rooms/{q(room)}/send/{q(event_type)}/authcat-{time.time_ns()}-{self._txn}"
        _, answer = self.call("PUT", path, session.token, json=content)
        return answer["event_id"]

    def upload(self, session: Session, name: str, data: bytes, content_type: str) -> tuple[str, str]:
        """Upload a file; returns (server name, media id) from its ``mxc://`` URI."""
        _, answer = self.call("POST", "/_matrix/media/v3/upload", session.token, content=data,
                              headers={"Content-Type": content_type}, params={"filename": name})
        server, _, media = str(answer["content_uri"]).removeprefix("mxc://").partition("/")
        return server, media

    def put(self, session: Session, path: str, body: Any, params: dict[str, str] | None = None) -> Any:
        return self.call("PUT", path, session.token, json=body, params=params)[1]

    def post(self, session: Session, path: str, body: Any) -> Any:
        return self.call("POST", path, session.token, json=body)[1]

    def get(self, session: Session, path: str, params: dict[str, str] | None = None) -> Any:
        return self.call("GET", path, session.token, params=params)[1]


def _mac(shared_secret: str, nonce: str, user: str, password: str, admin: bool) -> str:
    """The HMAC-SHA1 Synapse checks on shared-secret registration (its documented recipe)."""
    mac = hmac.new(shared_secret.encode(), digestmod=hashlib.sha1)
    mac.update(nonce.encode())
    mac.update(b"\x00")
    mac.update(user.encode())
    mac.update(b"\x00")
    mac.update(password.encode())
    mac.update(b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    return mac.hexdigest()

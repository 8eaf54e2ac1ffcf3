"""The ``synapse`` target's fixtures, made by the running server: users, rooms, and token states.

Everything here goes through the server's own API, in an order that keeps the run short: the
token that must expire is issued first, so its lifetime runs out while the rest is built, and
the function returns only once the server itself refuses it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from catalog.api import (
    Credential,
    Revocable,
    State,
    TargetError,
)

from .matrix_client import CLIENT, MatrixClient, Session, q

SERVER_NAME = "authcat.test"
PUBLIC_ALIAS = "lobby"
ACCOUNT_DATA_TYPE = "org.authcat.settings"
NOTE_TYPE = "org.authcat.note"  # a custom event type used both as state and as a relation
MEDIA_NAME = "pixel.png"


def _png(width: int = 8, height: int = 8) -> bytes:
    """A small grey PNG, so the thumbnail endpoints have an image to scale (text cannot be)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
BACKUP_ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"
# A syntactically valid (unpadded base64, 32 bytes) Curve25519 public key for the key backup.
BACKUP_PUBLIC_KEY = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo"


@dataclass
class Fixtures:
    tokens: dict[str, Session] = field(default_factory=dict)  # role -> session
    parameters: dict[str, str] = field(default_factory=dict)  # path parameter -> value
    passwords: list[str] = field(default_factory=list)
    alice_password: str = ""
    bob_password: str = ""
    admin: Session | None = None

    def secrets(self) -> list[str]:
        tokens = [s.token for s in self.tokens.values()]
        return tokens + self.passwords + ([self.admin.token] if self.admin else [])


def _password() -> str:
    # Characters whose encoded forms differ from the raw ones, so a leak is caught in any form.
    return "Pw~@+/=" + secrets.token_urlsafe(18)


def make_fixtures(client: MatrixClient, shared_secret: str, token_lifetime: float) -> Fixtures:
    fx = Fixtures()
    pw = {name: _password() for name in ("operator", "alice", "bob", "dave")}
    fx.passwords, fx.alice_password, fx.bob_password = list(pw.values()), pw["alice"], pw["bob"]
    fx.admin = client.register(shared_secret, "operator", pw["operator"], admin=True)
    alice = client.register(shared_secret, "alice", pw["alice"])
    # The expiring token first: its clock runs while everything else is built.
    expiring = client.login("alice", pw["alice"], refresh_token=True)
    if not expiring.expires_in_ms:
        raise TargetError("synapse: a refresh-token login returned no expires_in_ms; "
                          "refreshable_access_token_lifetime is not in effect")
    expires_at = time.monotonic() + expiring.expires_in_ms / 1000
    bob = client.register(shared_secret, "bob", pw["bob"])
    dave = client.register(shared_secret, "dave", pw["dave"])
    revoked = client.login("alice", pw["alice"])
    client.logout(revoked)
    fx.tokens = {State.VALID: alice, State.UNPRIVILEGED: bob, State.REVOKED: revoked, State.EXPIRED: expiring, State.DEACTIVATED: dave}

    sync_from = client.get(alice, f"{CLIENT}/sync", {"timeout": "0"})["next_batch"]
    rooms = _rooms(client, alice, dave)
    fx.parameters.update(rooms)
    fx.parameters.update(_content(client, alice, rooms["roomId"]))
    client.deactivate(fx.admin, dave.user_id)
    sync_to = client.get(alice, f"{CLIENT}/sync", {"timeout": "0", "since": sync_from})["next_batch"]
    fx.parameters.update({
        "userId": alice.user_id, "deviceId": alice.device_id, "keyName": "displayname",
        "kind": "override", "ruleId": ".m.rule.master", "protocol": "irc", "idpId": "oidc",
        "sync_from": sync_from, "sync_to": sync_to, "other_user": bob.user_id,
        # For the writes: a transaction id, a receipt type, the tag made above, and an
        # application service and network that do not exist (the server says so).
        "txnId": "authcat-txn", "receiptType": "m.read", "tag": "u.work", "networkId": "irc",
        "appserviceId": "authcat-as",
    })
    time.sleep(max(0.0, expires_at - time.monotonic()) + 0.2)
    _check(client, fx)
    return fx


def revocations(base_url: str, scrub, fx: Fixtures, shared_secret: str) -> dict:
    """Fresh tokens for ``authcat watch-revocation``, each with the server call that revokes it.

    ``logout``: a new login of alice's, revoked by ``POST /logout``; ``deactivate``: a new user's
    token, revoked by deactivating the account through the admin API. The caller scrubs the
    token it is handed (it is the watch's credential).
    """
    from catalog.api import Revocable

    count = 0

    def logout() -> Revocable:
        client = MatrixClient(base_url, scrub)
        session = client.login("alice", fx.alice_password)
        return Revocable(Credential(session.token), lambda: _once(client, client.logout, session), "POST /logout")

    def deactivate() -> Revocable:
        nonlocal count
        count += 1
        client = MatrixClient(base_url, scrub)
        session = client.register(shared_secret, f"leaver{count}", _password())
        assert fx.admin is not None
        admin = fx.admin
        return Revocable(Credential(session.token),
                         lambda: _once(client, client.deactivate, admin, session.user_id),
                         "POST /_synapse/admin/v1/deactivate (admin API)")

    return {"logout": logout, "deactivate": deactivate}


def fresh_logins(base_url: str, scrub, fx: Fixtures):
    """``fresh(role)`` for the runner's destructive probes: a new login of alice (``valid``) or bob
    (``unprivileged``), with its device as ``deviceId``; a logout or a device deletion then spends
    that login, never the tokens every other cell uses."""
    users: dict[str, tuple[str, str]] = {State.VALID: ("alice", fx.alice_password),
                                         State.UNPRIVILEGED: ("bob", fx.bob_password)}

    def fresh(role: str):
        if role not in users:
            return None
        client = MatrixClient(base_url, scrub)
        try:
            session = client.login(*users[role])
        finally:
            client.close()
        return Credential(session.token), {"deviceId": session.device_id}

    return fresh


def _once(client: MatrixClient, call, *args) -> None:
    try:
        call(*args)
    finally:
        client.close()


def _rooms(client: MatrixClient, alice: Session, dave: Session) -> dict[str, str]:
    public = client.create_room(
        alice, preset="public_chat", visibility="public", room_alias_name=PUBLIC_ALIAS,
        name="Lobby", topic="Where authcat probes a public room",
    )
    messages = [client.send(alice, public, "m.room.message", {"msgtype": "m.text", "body": text})
                for text in ("Welcome to the lobby.", "The projector is fixed.", "Screening at eight.")]
    # A state event and a relation of one custom type: {eventType} then fits both the state
    # endpoint and the relations endpoints.
    client.put(alice, f"{CLIENT}/rooms/{q(public)}/state/{NOTE_TYPE}/pinned", {"body": "pinned note"})
    client.send(alice, public, NOTE_TYPE, {
        "body": "see above", "m.relates_to": {"rel_type": "m.reference", "event_id": messages[0]},
    })
    client.send(alice, public, "m.room.message", {
        "msgtype": "m.text", "body": "a thread reply",
        "m.relates_to": {"rel_type": "m.thread", "event_id": messages[1]},
    })
    private = client.create_room(alice, preset="private_chat", name="Back office")
    for text in ("Payroll is due on Friday.", "Keep this room private."):
        client.send(alice, private, "m.room.message", {"msgtype": "m.text", "body": text})
    client.join(dave, public)
    client.invite(alice, private, dave.user_id)
    client.join(dave, private)
    return {
        "roomId": public, "roomIdOrAlias": public, "roomAlias": f"#{PUBLIC_ALIAS}:{SERVER_NAME}",
        "eventId": messages[0], "relType": "m.reference", "eventType": NOTE_TYPE, "stateKey": "pinned",
        "private_room": private,
    }


def _content(client: MatrixClient, alice: Session, room: str) -> dict[str, str]:
    server, media = client.upload(alice, MEDIA_NAME, _png(), "image/png")
    user = q(alice.user_id)
    filter_id = client.post(alice, f"{CLIENT}/user/{user}/filter", {"room": {"timeline": {"limit": 10}}})["filter_id"]
    client.put(alice, f"{CLIENT}/user/{user}/account_data/{ACCOUNT_DATA_TYPE}", {"theme": "dark"})
    client.put(alice, f"{CLIENT}/user/{user}/rooms/{q(room)}/account_data/{ACCOUNT_DATA_TYPE}", {"muted": False})
    client.put(alice, f"{CLIENT}/user/{user}/rooms/{q(room)}/tags/u.work", {"order": 0.5})
    client.put(alice, f"{CLIENT}/presence/{user}/status", {"presence": "online", "status_msg": "probing"})
    version = client.post(alice, f"{CLIENT}/room_keys/version", {
        "algorithm": BACKUP_ALGORITHM, "auth_data": {"public_key": BACKUP_PUBLIC_KEY},
    })["version"]
    session_id = "authcat-session"
    client.put(alice, f"{CLIENT}/room_keys/keys/{q(room)}/{session_id}", {
        "first_message_index": 0, "forwarded_count": 0, "is_verified": False,
        "session_data": {"ephemeral": BACKUP_PUBLIC_KEY, "ciphertext": "c2VjcmV0", "mac": "bWFj"},
    }, params={"version": version})
    return {"serverName": server, "mediaId": media, "fileName": MEDIA_NAME, "filterId": filter_id,
            "type": ACCOUNT_DATA_TYPE, "version": version, "sessionId": session_id}


def _check(client: MatrixClient, fx: Fixtures) -> None:
    """Each token must be in the state it is named after, as the server itself says."""
    _, listed = client.call("GET", f"{CLIENT}/publicRooms")
    if fx.parameters["roomId"] not in [room.get("room_id") for room in listed.get("chunk") or ()]:
        raise TargetError("synapse: the public room is not listed by GET /publicRooms")
    expect = {State.VALID: 200, State.UNPRIVILEGED: 200, State.REVOKED: 401, State.EXPIRED: 401, State.DEACTIVATED: 401}
    for role, status in expect.items():
        got, body = client.whoami(fx.tokens[role].token)
        if got != status:
            raise TargetError(f"synapse: the {role} token got {got} from /account/whoami, expected {status}")
        if status == 200 and (body or {}).get("user_id") != fx.tokens[role].user_id:
            raise TargetError(f"synapse: the {role} token does not belong to {fx.tokens[role].user_id}")

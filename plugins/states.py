"""The built-in token states of the design: how each presents (or fails to present) a credential.

A state either returns a :class:`Presentation` (the headers to send) or :class:`NotAvailable`
with the reason — a state the target cannot provide is never faked.
"""

from __future__ import annotations

import re
import secrets
import string

from catalog.hookspecs import hookimpl
from catalog.model import AuthScheme, Credential, Credentials, NotAvailable, Presentation, TokenState

AUTH = "Authorization"
_PREFIX = re.compile(r"^[A-Za-z]{1,8}[-_]")  # keep a vendor prefix such as usr- or dstok_


def _need(creds: Credentials, role: str) -> Credential | NotAvailable:
    cred = creds.get(role)
    return cred if cred is not None else NotAvailable(f"the target offers no {role} credential")


def lookalike(secret: str) -> str:
    """A random token of the same shape: same prefix, same length, same character classes."""
    prefix = m.group(0) if (m := _PREFIX.match(secret)) else ""
    out = []
    for ch in secret[len(prefix):]:
        if ch.isdigit():
            out.append(secrets.choice(string.digits))
        elif ch in string.ascii_lowercase:
            out.append(secrets.choice("abcdef" if ch in "abcdef" else string.ascii_lowercase))
        elif ch in string.ascii_uppercase:
            out.append(secrets.choice(string.ascii_uppercase))
        else:
            out.append(ch)
    fake = prefix + "".join(out)
    return fake if fake != secret else lookalike(secret)


def _role_state(role: str):
    """A state that presents the target's credential for ``role`` under the API's scheme."""

    def present(scheme: AuthScheme, creds: Credentials):
        cred = _need(creds, role)
        if isinstance(cred, NotAvailable):
            return cred
        return Presentation({AUTH: scheme.header(cred)})

    return present


def _anonymous(scheme: AuthScheme, creds: Credentials):
    return Presentation({})


def _malformed(scheme: AuthScheme, creds: Credentials):
    # Not base64, no colon: nothing a server can parse into a credential.
    return Presentation({AUTH: f"{scheme.keyword} !!!"})


def _unknown_token(scheme: AuthScheme, creds: Credentials):
    cred = _need(creds, "valid")
    if isinstance(cred, NotAvailable):
        return cred
    return Presentation({AUTH: scheme.header(Credential(lookalike(cred.secret), cred.identity))})


def _wrong_identity(scheme: AuthScheme, creds: Credentials):
    cred = _need(creds, "valid")
    if isinstance(cred, NotAvailable):
        return cred
    if cred.identity is None:
        return NotAvailable(f"the {scheme.name} scheme carries no identity to swap")
    other = creds.get("other")
    identity = other.identity if other and other.identity else _other_identity(cred.identity)
    return Presentation({AUTH: scheme.header(Credential(cred.secret, identity))})


def _other_identity(identity: str) -> str:
    _user, at, domain = identity.partition("@")
    return f"nobody-{secrets.token_hex(3)}{at}{domain}" if at else f"nobody-{secrets.token_hex(3)}"


def _wrong_scheme(scheme: AuthScheme, creds: Credentials):
    cred = _need(creds, "valid")
    if isinstance(cred, NotAvailable):
        return cred
    # The raw secret under the other common scheme: Bearer for a Basic API, Basic for the rest.
    if scheme.keyword.lower() == "basic":
        return Presentation({AUTH: f"Bearer {cred.secret}"})
    from .schemes import BASIC

    return Presentation({AUTH: BASIC.header(Credential(cred.secret, cred.identity or "user"))})


def _scheme_case(scheme: AuthScheme, creds: Credentials):
    cred = _need(creds, "valid")
    if isinstance(cred, NotAvailable):
        return cred
    return Presentation({AUTH: scheme.header(cred, keyword=scheme.keyword.lower())})


BUILTIN_STATES = (
    TokenState("valid", "The working credential, as the API expects it.", _role_state("valid"), "a secret", 0),
    TokenState("anonymous", "No credential at all: no Authorization header.", _anonymous, "—", 1),
    TokenState(
        "malformed",
        "An Authorization value that cannot be parsed: the scheme followed by `!!!` (not base64, no colon).",
        _malformed, "—", 10,
    ),
    TokenState(
        "unknown-token",
        "A random token of the valid token's shape (same prefix, length and characters) that was never issued.",
        _unknown_token, "derived from valid", 11,
    ),
    TokenState(
        "wrong-identity",
        "The valid token presented with another identity (another user's email).",
        _wrong_identity, "derived, or a second identity", 12,
    ),
    TokenState(
        "wrong-scheme",
        "The valid secret under another scheme (`Bearer` instead of `Basic`, or the reverse).",
        _wrong_scheme, "derived", 13,
    ),
    TokenState(
        "scheme-case",
        "The valid credential with the scheme word lower-cased (`basic`, `bearer`).",
        _scheme_case, "derived", 14,
    ),
    TokenState("expired", "A token past its expiry.", _role_state("expired"), "a secret, or minted by the target", 20),
    TokenState("revoked", "A token that was revoked.", _role_state("revoked"), "a secret, or minted and revoked by the target", 21),
    TokenState("forged", "A signed token with a wrong signature.", _role_state("forged"), "minted by the target", 22),
    TokenState(
        "deactivated", "A token of a deactivated account.", _role_state("deactivated"), "a secret", 23,
    ),
    TokenState(
        "unprivileged",
        "A valid credential of a user who may not see the data.",
        _role_state("unprivileged"), "a secret, or minted", 30,
    ),
)


@hookimpl(trylast=True)
def authcat_register_states(register):
    for state in BUILTIN_STATES:
        register(state)

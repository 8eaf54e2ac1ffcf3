"""The built-in token states of the design: how each presents (or fails to present) a credential.

A state either returns a :class:`Presentation` (the headers and query values to send) or
:class:`NotAvailable` with the reason — a state the target cannot provide is never faked. Every
state goes through the API's scheme (an ``Authorization`` keyword, or a key in a named header,
query parameter or cookie), so the same states work for every declared scheme.
"""

from __future__ import annotations

import re
import secrets
import string

from catalog.api import (
    AuthScheme,
    Credential,
    Credentials,
    Location,
    NotAvailable,
    Presentation,
    State,
    StateFamily,
    TokenState,
    hookimpl,
)

_PREFIX = re.compile(r"^[A-Za-z]{1,8}[-_]")  # keep a vendor prefix such as usr- or dstok_
LEGITIMATE, PRESENTATION, BAD = StateFamily.LEGITIMATE, StateFamily.PRESENTATION, StateFamily.BAD


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
        return cred if isinstance(cred, NotAvailable) else scheme.present(cred)

    return present


def _anonymous(scheme: AuthScheme, creds: Credentials):
    return Presentation()


def _malformed(scheme: AuthScheme, creds: Credentials):
    # Not base64, no colon, not a token: nothing a server can parse into a credential.
    return scheme.present_value("!!!")


def _unknown_token(scheme: AuthScheme, creds: Credentials):
    cred = _need(creds, State.VALID)
    if isinstance(cred, NotAvailable):
        return cred
    return scheme.present(Credential(lookalike(cred.secret), cred.identity))


def _wrong_identity(scheme: AuthScheme, creds: Credentials):
    cred = _need(creds, State.VALID)
    if isinstance(cred, NotAvailable):
        return cred
    if not scheme.carries_identity:
        # Sending the same value under "another identity" would be the valid request again.
        # Not scheme.describe(): "Authorization: Bearer …" in a note reads as a leaked header to
        # the scrubber, which then redacts the whole note.
        return NotAvailable(f"the {scheme.name} scheme carries no identity apart from the "
                            "secret: the token is its own identity")
    if cred.identity is None:
        return NotAvailable("the target's valid credential has no identity to swap")
    other = creds.get("other")
    identity = other.identity if other and other.identity else _other_identity(cred.identity)
    return scheme.present(Credential(cred.secret, identity))


def _other_identity(identity: str) -> str:
    _user, at, domain = identity.partition("@")
    return f"nobody-{secrets.token_hex(3)}{at}{domain}" if at else f"nobody-{secrets.token_hex(3)}"


def _wrong_scheme(scheme: AuthScheme, creds: Credentials):
    cred = _need(creds, State.VALID)
    if isinstance(cred, NotAvailable):
        return cred
    # The raw secret under the other common scheme: Bearer for everything but a Bearer API,
    # which gets Basic with the token as it is (`Basic <token>`: some servers take a token there).
    if not (scheme.uses_keyword and (scheme.keyword or "").lower() == "bearer"):
        return Presentation({"Authorization": f"Bearer {cred.secret}"})
    return Presentation({"Authorization": f"Basic {cred.secret}"})


def _scheme_case(scheme: AuthScheme, creds: Credentials):
    cred = _need(creds, State.VALID)
    if isinstance(cred, NotAvailable):
        return cred
    if not scheme.uses_keyword or not scheme.keyword:
        return NotAvailable(f"the {scheme.name} scheme ({scheme.describe()}) has no scheme word to change the case of")
    word = scheme.keyword
    return scheme.present(cred, keyword=word.lower() if word != word.lower() else word.upper())


def _query_parameter(scheme: AuthScheme, creds: Credentials):
    cred = _need(creds, State.VALID)
    if isinstance(cred, NotAvailable):
        return cred
    if scheme.location is Location.QUERY:
        return NotAvailable(f"the {scheme.name} scheme is itself a query parameter (?{scheme.parameter}=)")
    if not scheme.query_parameter:
        return NotAvailable("the API declares no query parameter for the secret (scheme.query_parameter in api.yaml)")
    return Presentation(query={scheme.query_parameter: cred.secret})


BUILTIN_STATES = (
    TokenState(State.VALID, "The working credential, as the API expects it.", _role_state(State.VALID), "a secret", 0,
               LEGITIMATE),
    TokenState(State.ANONYMOUS, "No credential at all: nothing in the scheme's header, query parameter or cookie.",
               _anonymous, "—", 1, LEGITIMATE),
    TokenState(
        State.MALFORMED,
        "A credential that cannot be parsed: `!!!` where the scheme puts the credential (after the scheme word, "
        "in the key header, query parameter or cookie).",
        _malformed, "—", 10, BAD,
    ),
    TokenState(
        State.UNKNOWN_TOKEN,
        "A random token of the valid token's shape (same prefix, length and characters) that was never issued.",
        _unknown_token, "derived from valid", 11, BAD,
    ),
    TokenState(
        State.WRONG_IDENTITY,
        "The valid token presented with another identity (another user's email); n/a where the scheme carries "
        "no identity apart from the token.",
        _wrong_identity, "derived, or a second identity", 12, BAD,
    ),
    TokenState(
        State.WRONG_SCHEME,
        "The valid secret under another scheme (`Bearer` instead of `Basic`, `token` or an API-key header; "
        "`Basic` instead of `Bearer`).",
        _wrong_scheme, "derived", 13, PRESENTATION,
    ),
    TokenState(
        State.SCHEME_CASE,
        "The valid credential with the scheme word lower-cased (`basic`, `bearer`; upper-cased where the vendor "
        "writes it in lower case: `TOKEN`): RFC 7235 makes the scheme case-insensitive, so refusing it is the finding.",
        _scheme_case, "derived", 14, PRESENTATION,
    ),
    TokenState(
        State.QUERY_PARAMETER,
        "The valid secret in the query parameter the API declares (`?access_token=`), with no other credential.",
        _query_parameter, "derived; the API's scheme.query_parameter", 15, PRESENTATION,
    ),
    TokenState(State.EXPIRED, "A token past its expiry.", _role_state(State.EXPIRED), "a secret, or minted by the target", 20,
               BAD),
    TokenState(State.REVOKED, "A token that was revoked.", _role_state(State.REVOKED),
               "a secret, or minted and revoked by the target", 21, BAD),
    TokenState(State.FORGED, "A signed token with a wrong signature.", _role_state(State.FORGED), "minted by the target", 22,
               BAD),
    TokenState(
        State.DEACTIVATED, "A token of a deactivated account.", _role_state(State.DEACTIVATED), "a secret", 23, BAD,
    ),
    TokenState(
        State.UNPRIVILEGED,
        "A valid credential of a user who may not see the data.",
        _role_state(State.UNPRIVILEGED), "a secret, or minted", 30, LEGITIMATE,
    ),
)


@hookimpl(trylast=True)
def authcat_register_states(register):
    for state in BUILTIN_STATES:
        register(state)

"""The catalog's words: token states and their families, outcomes, verdicts, which methods are
safe, the one slug. Plain values with no I/O, shared by every layer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

# RFC 9110 §9.2.1's safe methods and WebDAV's reading ones (RFC 4918 §9.1 PROPFIND, RFC 3253 §3.6
# REPORT, RFC 5323 SEARCH) and QUERY (draft-ietf-httpbis-safe-method-w-body): always sent. TRACE is
# safe too, but never sent: it echoes the request, and RFC 9110 §9.3.8 says a client must not put
# a credential in it.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT", "SEARCH", "QUERY"})


NEVER_SENT = {"TRACE": "TRACE echoes the request, credential included (RFC 9110 §9.3.8: never send one in it)"}


# RFC 9110 §5.6.2: a method is a token, one or more tchar.
METHOD_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def is_safe_method(method: str) -> bool:
    """Whether ``method`` only reads (methods are case-sensitive, RFC 9110 §9.1)."""
    return method in SAFE_METHODS


def slug(value: str, empty: str = "x") -> str:
    """The one slug: lower-case ASCII letters and digits joined by ``-`` (page names, anchors, ids)."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or empty


class StateFamily(StrEnum):
    """What a token state is, for judging: every state belongs to exactly one family.

    Only ``bad`` credentials decide a verdict or a token check. ``legitimate`` callers are the
    baselines; a ``presentation`` sends the *valid* secret another way (scheme word in lower
    case, another scheme, a query parameter): accepting it is not a fallback, and refusing the
    lower-case scheme word is the finding (RFC 7235 §2.1: the scheme is case-insensitive).
    """

    LEGITIMATE = "legitimate"
    PRESENTATION = "presentation"
    BAD = "bad"


class Outcome(StrEnum):
    """How one answer compares with the baselines (design.md, "Outcomes"); the value is the JSON word."""

    REJECTED = "rejected"
    REJECTED_IN_BODY = "rejected-in-body"
    FORBIDDEN = "forbidden"
    HIDDEN = "hidden"
    EMPTY = "empty"
    AS_ANONYMOUS = "as-anonymous"
    IGNORED = "ignored"
    AS_VALID = "as-valid"
    PARTIAL = "partial"
    REDIRECT = "redirect"
    CLIENT_ERROR = "client-error"
    RATE_LIMITED = "rate-limited"
    SERVER_ERROR = "server-error"
    ERROR = "error"
    INCONCLUSIVE = "inconclusive"
    NOT_AVAILABLE = "n/a"


class Verdict(StrEnum):
    """One endpoint's summary across its bad-credential states; the value is the JSON word."""

    FAILS_CLOSED = "fails-closed"
    FALLS_OPEN = "falls-open"
    MIXED = "mixed"
    PUBLIC = "public"
    INCONCLUSIVE = "inconclusive"
    NOT_SERVED = "not-served"
    NOT_PROBED = "not-probed"


class State(StrEnum):
    """The built-in token states' names (design.md, "Token states"); the value is the JSON word.

    Plugins may add states of their own, so a state's name is any string: this enum names the
    ones the core itself reasons about (the baselines, the presentations, the bad credentials).
    """

    VALID = "valid"
    ANONYMOUS = "anonymous"
    UNPRIVILEGED = "unprivileged"
    SCHEME_CASE = "scheme-case"
    WRONG_SCHEME = "wrong-scheme"
    QUERY_PARAMETER = "query-parameter"
    MALFORMED = "malformed"
    UNKNOWN_TOKEN = "unknown-token"
    WRONG_IDENTITY = "wrong-identity"
    EXPIRED = "expired"
    REVOKED = "revoked"
    FORGED = "forged"
    DEACTIVATED = "deactivated"


# The built-in states' families, for observation files written before states carried one.
BUILTIN_FAMILIES: Mapping[str, StateFamily] = {
    State.VALID: StateFamily.LEGITIMATE, State.ANONYMOUS: StateFamily.LEGITIMATE,
    State.UNPRIVILEGED: StateFamily.LEGITIMATE,
    State.SCHEME_CASE: StateFamily.PRESENTATION, State.WRONG_SCHEME: StateFamily.PRESENTATION,
    State.QUERY_PARAMETER: StateFamily.PRESENTATION,
    State.MALFORMED: StateFamily.BAD, State.UNKNOWN_TOKEN: StateFamily.BAD, State.WRONG_IDENTITY: StateFamily.BAD,
    State.EXPIRED: StateFamily.BAD, State.REVOKED: StateFamily.BAD, State.FORGED: StateFamily.BAD,
    State.DEACTIVATED: StateFamily.BAD,
}


def family_of(state: str, recorded: str | None = None) -> StateFamily:
    """A recorded family, else the built-in one; an unknown state counts as a bad credential."""
    if recorded is not None and recorded in StateFamily._value2member_map_:
        return StateFamily(recorded)
    return BUILTIN_FAMILIES.get(state, StateFamily.BAD)


# Kept for plugins written against the first API: the legitimate family's built-in members.
LEGITIMATE_STATES = frozenset(s for s, f in BUILTIN_FAMILIES.items() if f is StateFamily.LEGITIMATE)

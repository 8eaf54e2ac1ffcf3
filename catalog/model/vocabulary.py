"""The catalog's vocabulary as plain data: APIs, endpoints, targets, token states, observations.

Everything here is a frozen dataclass or a small value type with no I/O, so the loader, the probe
runner, the classifier and the site build can pass these around without sharing hidden state.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

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


@dataclass(frozen=True)
class Body:
    """A request body as declared: ``kind`` json, form, xml or text, with its value and media type.

    ``value`` is JSON data (json), a mapping of strings (form) or a string (xml, text). String
    values written ``{name}`` take a path parameter's value, as query values do.
    """

    kind: str
    value: Any
    content_type: str

    def encoded(self, params: Mapping[str, str]) -> bytes | None:
        """The bytes to send, or None when a ``{name}`` value has no parameter."""
        import json
        from urllib.parse import urlencode

        missing: list[str] = []

        def fill(v: Any) -> Any:
            if isinstance(v, str):
                m = re.fullmatch(r"{([^{}/]+)}", v)
                if m:
                    if m.group(1) not in params:
                        missing.append(m.group(1))
                        return v
                    return params[m.group(1)]
                return v
            if isinstance(v, dict):
                return {k: fill(x) for k, x in v.items()}
            if isinstance(v, list):
                return [fill(x) for x in v]
            return v

        if self.kind == "json":
            out = json.dumps(fill(self.value), sort_keys=False, separators=(",", ":")).encode()
        elif self.kind == "form":
            out = urlencode({k: fill(str(x)) for k, x in self.value.items()}).encode()
        else:
            text = str(self.value)
            for name in re.findall(r"{([^{}/\s]+)}", text):
                if name in params:
                    text = text.replace("{" + name + "}", params[name])
            out = text.encode()
        return None if missing else out

    @property
    def params(self) -> tuple[str, ...]:
        """The parameters its ``{name}`` values need."""
        found: list[str] = []

        def walk(v: Any) -> None:
            if isinstance(v, str) and (m := re.fullmatch(r"{([^{}/]+)}", v)):
                found.append(m.group(1))
            elif isinstance(v, dict):
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)

        if self.kind in ("json", "form"):
            walk(self.value)
        return tuple(found)


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


@dataclass(frozen=True)
class Source:
    """Where a definition came from, for error messages: file and 1-based line."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Reported:
    """A claim about an endpoint (or a whole API) and optionally one state, with its source.

    ``kind`` is ``reported`` (a public report, see ``evidence/``) or ``documented`` (the vendor's
    spec or docs). ``status`` and ``outcome`` make the claim a cell: what that state got, in the
    catalog's outcome vocabulary, so the matrix, the answers and the export can use it as data.
    """

    claim: str
    source: str
    date: str | None = None
    ref: str | None = None  # e.g. "R5" in the evidence file
    state: str | None = None
    status: int | None = None
    outcome: str | None = None
    kind: str = "reported"
    signal: Mapping[str, str] | None = None  # {"header"|"field": name, "value"?: v, "meaning": accepted|rejected}
    where: Source | None = None  # the claim in its YAML file (for lint messages)
    path: str = ""  # its dotted field path there, e.g. endpoints.3.reported.1
    fields: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)  # field -> line

    @property
    def is_cell(self) -> bool:
        """A claim about one state's answer (not a general remark)."""
        return self.state is not None and (self.status is not None or self.outcome is not None)


@dataclass(frozen=True)
class Documented:
    """What the vendor's documentation says about anonymous access and auth failures.

    ``anonymous`` is True/False, or None when the documentation does not say (unknown, not no).
    """

    anonymous: bool | None = None
    anonymous_sentence: bool | None = None  # "This operation can be accessed anonymously."
    security_optional: bool | None = None  # an empty {} security requirement
    security: str | None = None  # the spec's requirements: none | optional | required
    documents_401: bool | None = None
    deprecated: bool = False
    scopes: tuple[str, ...] = ()
    source: str | None = None
    claims: tuple[Reported, ...] = ()  # documented answers per state (kind "documented")

    @property
    def markers_disagree(self) -> bool:
        return (
            self.anonymous_sentence is not None
            and self.security_optional is not None
            and self.anonymous_sentence != self.security_optional
        )


@dataclass(frozen=True)
class Endpoint:
    """One operation of an API, as its YAML file defines it: method, path template and what the
    documentation and public reports say about it (``id`` is unique within the API)."""

    api: str
    id: str
    method: str
    path: str
    group: str
    summary: str = ""
    docs: str | None = None
    collection: str | None = None  # JSON pointer to the endpoint's collection, e.g. /values
    collection_guessed: bool = False
    query: Mapping[str, str] = field(default_factory=dict)
    safe: bool = False  # a non-safe method that the API documents as having no side effect
    headers: Mapping[str, str] = field(default_factory=dict)  # request headers of this endpoint (Depth: 0)
    body: Body | None = None  # the request body: yours, else the spec's example
    example: Body | None = None  # the spec's request example, written by the importer
    destructive: bool = False  # may destroy a token state (logout, password change, token deletion)
    actor_fields: tuple[str, ...] = ()  # JSON pointers to body fields naming the caller
    documented: Documented = field(default_factory=Documented)
    reported: tuple[Reported, ...] = ()
    notes: str | None = None
    removed: bool = False
    source: Source = field(default_factory=lambda: Source("?"))

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def sent_body(self) -> Body | None:
        """What is sent: the declared body, else the spec's example."""
        return self.body or self.example

    @property
    def reads_only(self) -> bool:
        """A safe method, or a non-safe one the endpoint declares ``safe: true``."""
        return is_safe_method(self.method) or self.safe

    @property
    def path_params(self) -> tuple[str, ...]:
        import re

        return tuple(re.findall(r"{([^}/]+)}", self.path))


@dataclass(frozen=True)
class FieldCondition:
    """One condition on one body field of an envelope rule; every given test must hold.

    ``equals``/``one_of`` compare JSON values exactly, ``pattern`` searches a string value,
    ``present`` says whether the field must exist at all.
    """

    pointer: str  # JSON pointer to a field
    equals: Any = None
    has_equals: bool = False  # `equals: null` is a real test, so its presence is recorded
    one_of: tuple[Any, ...] | None = None
    pattern: str | None = None
    present: bool | None = None


@dataclass(frozen=True)
class EnvelopeRule:
    """A named 2xx body shape: every condition must hold for the rule to match."""

    name: str
    when: tuple[FieldCondition, ...]


@dataclass(frozen=True)
class Envelope:
    """How an API says "this 2xx is an error" in the body.

    ``auth_failure`` rules make a 2xx ``rejected-in-body``; ``errors`` rules mark other errors in
    the same envelope (not found, bad parameter), which are never ``rejected-in-body``. Rules are
    alternatives: the first that matches names the cell's rule.
    """

    auth_failure: tuple[EnvelopeRule, ...] = ()
    errors: tuple[EnvelopeRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.auth_failure or self.errors)


# Kept so old imports work; an envelope is now a set of named rules.
AuthFailureEnvelope = EnvelopeRule


@dataclass(frozen=True)
class Api:
    """An API as its ``api.yaml`` defines it: name, title, auth scheme, the states it is probed
    with, its auth-failure envelope, static headers and query values, volatile body fields."""

    name: str
    title: str
    docs: str | None = None
    scheme: str = "basic"  # name of an auth scheme plugin, or of the scheme declared below
    auth: AuthScheme | None = None  # a scheme declared in api.yaml (wins over a plugin's)
    states: tuple[str, ...] | None = None  # None: every registered state
    envelope: Envelope = field(default_factory=Envelope)
    headers: Mapping[str, str] = field(default_factory=dict)  # static headers on every request
    query: Mapping[str, str] = field(default_factory=dict)  # static query values on every request
    volatile_fields: tuple[str, ...] = ()  # body keys normalised away before hashing
    signal_fields: tuple[str, ...] = ()  # JSON pointers whose code-like values observations keep
    description: str = ""
    reported: tuple[Reported, ...] = ()  # API-wide public claims that name no single endpoint
    source: Source = field(default_factory=lambda: Source("?"))


@dataclass(frozen=True)
class Discovery:
    """A path parameter value discovered from another endpoint's valid answer."""

    endpoint: str  # endpoint id
    pointer: str  # JSON pointer into its body


@dataclass(frozen=True)
class VersionFrom:
    """Where a server states its version: in an endpoint's answer, as a JSON field (``pointer``),
    a response header (``header``) or a regex over the body (``pattern``; group 1 if it has one)."""

    endpoint: str  # endpoint id
    pointer: str | None = None
    header: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class SetupRequest:
    """A request sent with the valid credential before one state's probe; ``capture`` names the
    parameters taken from its JSON answer (name -> JSON pointer)."""

    method: str
    path: str
    body: Body | None = None
    capture: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Setup:
    """What each state's probe of one endpoint needs first, made afresh per state: parameters
    (``set``, where ``{probe}`` is unique to the state and run) and requests that make them."""

    set: Mapping[str, str] = field(default_factory=dict)
    requests: tuple[SetupRequest, ...] = ()


@dataclass(frozen=True)
class TargetProfile:
    """A target as configured in ``endpoints/<api>/targets/<name>.yaml``.

    Holds credential *references* (env var names, file paths), never secret values.
    """

    api: str
    name: str
    launcher: str | None = None  # name of a target plugin that starts the server
    base_url: str | None = None
    base_url_env: str | None = None
    prefix: str = ""  # path prefix the launched server serves this API under
    credentials: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)  # name -> value | Discovery
    queries: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # endpoint id -> query
    bodies: Mapping[str, Body] = field(default_factory=dict)  # endpoint id -> request body
    skip: Mapping[str, str] = field(default_factory=dict)  # endpoint id -> why this target is not sent it
    setup: Mapping[str, Setup] = field(default_factory=dict)  # endpoint id -> what each state's probe needs first
    headers: Mapping[str, str] = field(default_factory=dict)  # static headers, over the API's
    query: Mapping[str, Any] = field(default_factory=dict)  # static query: name -> value | Discovery
    version_from: VersionFrom | None = None  # where the server states its version
    version: str | None = None  # a literal version, when the server states none
    concurrency: int = 8
    rate_limit: float | None = None  # requests per second per host
    timeout: float = 10.0
    retries: int = 2
    options: Mapping[str, Any] = field(default_factory=dict)  # passed to the launcher
    description: str = ""
    kind: str | None = None  # emulator | local-server | vendor-site
    models: str = ""  # for an emulator: what it models
    # "personal" (redacted wherever a server echoes them) or "public" (fixture users of a launched
    # or local server, kept so paths and recipes stay readable); None: public for a launched
    # target, personal otherwise. See identities_public().
    identities: str | None = None
    source: Source = field(default_factory=lambda: Source("?"))
    lines: Mapping[str, int] = field(default_factory=dict)  # field path "a.b" -> line, for errors


@dataclass(frozen=True)
class Credential:
    """One identity's secret. ``identity`` is the user part (email) where the scheme has one."""

    secret: str
    identity: str | None = None

    def __repr__(self) -> str:  # never print a secret, even in a traceback
        return f"Credential(identity={self.identity!r}, secret=<redacted>)"


@dataclass
class Credentials:
    """The credentials a running target offers, by role.

    Roles: ``valid`` (the working credential), ``other`` (a second identity), ``unprivileged``,
    and tokens the target could mint: ``expired``, ``revoked``, ``forged``, ``deactivated``.
    """

    roles: dict[str, Credential] = field(default_factory=dict)

    def get(self, role: str) -> Credential | None:
        return self.roles.get(role)

    def secrets(self) -> list[str]:
        return [c.secret for c in self.roles.values() if c.secret]

    def __repr__(self) -> str:
        return f"Credentials(roles={sorted(self.roles)})"


@dataclass
class RunningTarget:
    """A target ready to be probed: where it is, what it runs, which credentials it has."""

    profile: TargetProfile
    base_url: str
    version: str | None
    credentials: Credentials
    version_source: str | None = None  # where the version came from (catalog.engine.versions)
    serves: Callable[[Endpoint], bool] | None = None  # None: unknown, probe everything
    unavailable_states: Mapping[str, str] = field(default_factory=dict)  # state -> why n/a
    parameters: Mapping[str, str] = field(default_factory=dict)  # path parameters the launcher made
    revocations: Mapping[str, Callable[[], Any]] = field(default_factory=dict)  # name -> Revocable
    settings: Mapping[str, str] = field(default_factory=dict)  # non-default settings that change what is observed
    fresh: FreshFn | None = None  # role -> a new credential (for destructive writes)


# A launcher's maker of fresh credentials: role -> (a new credential, the path parameters that go
# with it, such as the new session's device), or None when it cannot make one for that role.
FreshFn = Callable[[str], "tuple[Credential, Mapping[str, str]] | None"]


@dataclass(frozen=True)
class NotAvailable:
    """What a token state's ``present`` returns when the target cannot provide the state: shown
    as ``n/a`` with ``reason``, never faked and never silently dropped."""

    reason: str


@dataclass(frozen=True)
class Presentation:
    """How a token state presents itself on the wire: extra headers and query values (or none)."""

    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)

    def url(self, url: str) -> str:
        """``url`` with this presentation's query values appended."""
        if not self.query:
            return url
        return url + ("&" if "?" in url else "?") + urlencode(sorted(self.query.items()))

    def values(self) -> list[str]:
        """Every value sent: what a scrubber must know."""
        return [*self.headers.values(), *self.query.values()]


@dataclass(frozen=True)
class TokenState:
    """A named way of presenting (or not presenting) a credential.

    ``present(scheme, credentials)`` returns a :class:`Presentation` or :class:`NotAvailable`.
    ``family`` is required: a state without one is refused when it is registered.
    """

    name: str
    description: str
    present: Callable[[AuthScheme, Credentials], Presentation | NotAvailable]
    needs: str = "—"
    order: int = 100
    family: StateFamily | None = None

    def __post_init__(self) -> None:
        # A plain string, also when given a State: the name is written to files and YAML as it is.
        object.__setattr__(self, "name", str(self.name))


class Location(StrEnum):
    """Where a scheme puts the credential."""

    HEADER = "header"
    QUERY = "query"
    COOKIE = "cookie"


AUTHORIZATION = "Authorization"
_PLACEHOLDER = re.compile(r"{(identity|secret)}")


@dataclass(frozen=True)
class AuthScheme:
    """How a credential goes on the wire: an ``Authorization`` keyword, or a key in a named
    header, query parameter or cookie, with a value template.

    Declared in ``api.yaml`` (``scheme:`` as a mapping) or registered by a plugin. ``template``
    uses ``{identity}`` and ``{secret}``; ``encoding: base64`` encodes the filled template (HTTP
    Basic is keyword ``Basic``, template ``{identity}:{secret}``, base64). A plugin may instead
    give ``encode``, a function of the credential. ``query_parameter`` names a query parameter
    the API also accepts the secret under (``access_token``): the ``query-parameter`` state.
    """

    name: str
    keyword: str | None = None  # the Authorization scheme word as the vendor spells it
    encode: Callable[[Credential], str] | None = None
    location: Location = Location.HEADER
    parameter: str = AUTHORIZATION  # header, query parameter or cookie name
    template: str = "{secret}"
    encoding: str | None = None  # None or "base64"
    query_parameter: str | None = None

    @property
    def carries_identity(self) -> bool:
        """Whether the identity travels apart from the secret (Basic ``email:token``)."""
        # A plugin's own encoder may use the identity; the state still needs a credential with one.
        return self.encode is not None or "{identity}" in self.template

    @property
    def uses_keyword(self) -> bool:
        return self.location is Location.HEADER and self.parameter.lower() == "authorization" and bool(self.keyword)

    def value(self, cred: Credential) -> str:
        """The credential as the scheme encodes it (without the keyword)."""
        if self.encode is not None:
            return self.encode(cred)
        parts = {"identity": cred.identity or "", "secret": cred.secret}
        filled = _PLACEHOLDER.sub(lambda m: parts[m.group(1)], self.template)
        return base64.b64encode(filled.encode()).decode() if self.encoding == "base64" else filled

    def present_value(self, value: str, keyword: str | None = None) -> Presentation:
        """A presentation of an already encoded ``value`` where this scheme puts it."""
        if self.location is Location.QUERY:
            return Presentation(query={self.parameter: value})
        if self.location is Location.COOKIE:
            return Presentation({"Cookie": f"{self.parameter}={value}"})
        if self.uses_keyword:
            value = f"{keyword or self.keyword} {value}"
        return Presentation({self.parameter: value})

    def present(self, cred: Credential, keyword: str | None = None) -> Presentation:
        return self.present_value(self.value(cred), keyword)

    def header(self, cred: Credential, keyword: str | None = None) -> str:
        """The ``Authorization`` value (keyword schemes; kept for plugins of the first API)."""
        return f"{keyword or self.keyword} {self.value(cred)}" if self.keyword else self.value(cred)

    def describe(self) -> str:
        """One line for people: ``token keyword``, ``X-API-Key header``, ``?api_key=``.

        Never ``Authorization: …``: the scrubber rightly redacts anything that looks like an
        echoed Authorization header, and this line appears in state reasons.
        """
        if self.uses_keyword:
            return f"{self.keyword} keyword"
        if self.location is Location.QUERY:
            return f"?{self.parameter}=…"
        return f"{self.parameter} {self.location}"

"""What an API, its endpoints and its targets are, as the YAML defines them (bodies, envelopes,
claims, discovery, setup), and a target ready to be probed. Frozen dataclasses with no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from catalog.model.credentials import AuthScheme, Credential, Credentials
from catalog.model.vocabulary import is_safe_method


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

"""The catalog's vocabulary as plain data: APIs, endpoints, targets, token states, observations.

Everything here is a frozen dataclass or a small value type with no I/O, so the loader, the probe
runner, the classifier and the site build can pass these around without sharing hidden state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# States that are legitimate callers: verdicts judge every *other* state.
LEGITIMATE_STATES = frozenset({"valid", "anonymous", "unprivileged"})


@dataclass(frozen=True)
class Source:
    """Where a definition came from, for error messages: file and 1-based line."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Reported:
    """A public claim about an endpoint (and optionally one state), with its source."""

    claim: str
    source: str
    date: str | None = None
    ref: str | None = None  # e.g. "R5" in the evidence file
    state: str | None = None


@dataclass(frozen=True)
class Documented:
    """What the vendor's documentation says about anonymous access and auth failures.

    ``anonymous`` is True/False, or None when the documentation does not say (unknown, not no).
    """

    anonymous: bool | None = None
    anonymous_sentence: bool | None = None  # "This operation can be accessed anonymously."
    security_optional: bool | None = None  # an empty {} security requirement
    documents_401: bool | None = None
    deprecated: bool = False
    scopes: tuple[str, ...] = ()
    source: str | None = None

    @property
    def markers_disagree(self) -> bool:
        return (
            self.anonymous_sentence is not None
            and self.security_optional is not None
            and self.anonymous_sentence != self.security_optional
        )


@dataclass(frozen=True)
class Endpoint:
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
    read_only: bool = False  # a non-safe method that the API documents as having no side effect
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
    def path_params(self) -> tuple[str, ...]:
        import re

        return tuple(re.findall(r"{([^}/]+)}", self.path))


@dataclass(frozen=True)
class AuthFailureEnvelope:
    """A 2xx body shape that the API uses to say "auth failed" (``rejected-in-body``)."""

    pointer: str  # JSON pointer to a field
    equals: Any  # the value that means failure


@dataclass(frozen=True)
class Api:
    name: str
    title: str
    docs: str | None = None
    scheme: str = "basic"  # name of an auth scheme plugin
    states: tuple[str, ...] | None = None  # None: every registered state
    auth_failure: tuple[AuthFailureEnvelope, ...] = ()
    volatile_fields: tuple[str, ...] = ()  # body keys normalised away before hashing
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
    version_from: VersionFrom | None = None  # where the server states its version
    version: str | None = None  # a literal version, when the server states none
    concurrency: int = 8
    rate_limit: float | None = None  # requests per second per host
    timeout: float = 10.0
    retries: int = 2
    options: Mapping[str, Any] = field(default_factory=dict)  # passed to the launcher
    description: str = ""
    source: Source = field(default_factory=lambda: Source("?"))


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
    version_source: str | None = None  # where the version came from (catalog.versions)
    serves: Callable[[Endpoint], bool] | None = None  # None: unknown, probe everything
    extra_states: Mapping[str, str] = field(default_factory=dict)  # state -> why n/a


@dataclass(frozen=True)
class NotAvailable:
    reason: str


@dataclass(frozen=True)
class Presentation:
    """How a token state presents itself on the wire: extra request headers (or none)."""

    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenState:
    """A named way of presenting (or not presenting) a credential.

    ``present(scheme, credentials)`` returns a :class:`Presentation` or :class:`NotAvailable`.
    """

    name: str
    description: str
    present: Callable[[AuthScheme, Credentials], Presentation | NotAvailable]
    needs: str = "—"
    order: int = 100


@dataclass(frozen=True)
class AuthScheme:
    """Turns a credential into an ``Authorization`` value (``Basic …``, ``Bearer …``)."""

    name: str
    keyword: str  # the scheme word as the vendor spells it
    encode: Callable[[Credential], str]  # the part after the keyword

    def header(self, cred: Credential, keyword: str | None = None) -> str:
        return f"{keyword or self.keyword} {self.encode(cred)}"

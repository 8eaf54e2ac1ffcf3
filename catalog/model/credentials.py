"""Credentials and how they go on the wire: a credential and a target's set of them, token states,
what a state presents (headers, query values) or why it cannot (``NotAvailable``), and auth schemes.
Frozen values with no I/O; a secret is never printed, even in a repr."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlencode

from catalog.model.vocabulary import StateFamily


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

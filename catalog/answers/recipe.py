"""The client-side recipe: a Python (httpx) script and a curl equivalent, generated per target.

``recipe_script`` renders ``templates/recipe.py.j2``, which writes a function ``credential_state(response) -> "accepted" | "rejected" |
"unknown"`` that applies, in order: the rejection signals, the best acceptance header, the actor
body fields of the endpoints that return them, then the status codes that were right on every
observation, and wraps it (or, with no signal, only the token check) in a script
that runs as pasted: every placeholder is marked ``<-- PLACEHOLDER`` and read from the environment,
and the credential is presented exactly as the API's scheme says (Basic, Bearer, ``token``, an
API-key header, a query parameter or a cookie). Every literal comes from the observations or the
definitions through ``repr`` (or ``shlex.quote`` for curl), so a strange value can never become code.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.answers.signals import ACCEPTED, REJECTED, Signal

if TYPE_CHECKING:
    from jinja2 import Environment

_PARAM = re.compile(r"{[^}/]+}")
PLACEHOLDER = "<-- PLACEHOLDER"
BASE_URL_ENV, TOKEN_ENV, USER_ENV = "API_BASE_URL", "API_TOKEN", "API_USER"


def path_pattern(path: str) -> str:
    """A regex matching a path template at the end of a request path (a prefix may come first)."""
    parts = _PARAM.split(path)
    return "[^/]+".join(re.escape(p) for p in parts) + "$"


def _record(s: Signal) -> str:
    text = f"{s.meaning}: {s.label()} (right on {s.correct} of {s.checked} observations"
    if s.meaning == REJECTED and s.states:
        text += f"; seen for {', '.join(s.states)}"
    return _comment(text + ")")


def _comment(text: str) -> str:
    return re.sub(r"[^ -~]", "?", re.sub(r"[\r\n]+", " ", text))


@dataclass(frozen=True)
class ClientAuth:
    """How a client presents the credential, in the words of an HTTP client.

    ``kind``: ``basic`` (user and secret), ``header`` (``name: prefix value``), ``query``
    (``?name=value``) or ``cookie`` (``name=value``). ``template`` (``{secret}``, or with
    ``{identity}``) and ``base64`` say how the value is made from the token and the user.
    """

    kind: str
    name: str = "Authorization"
    prefix: str = ""  # the scheme keyword before the value in a header ("Bearer", "token"), if any
    template: str = "{secret}"
    base64: bool = False

    @property
    def needs_user(self) -> bool:
        return self.kind == "basic" or "{identity}" in self.template

    @property
    def plain(self) -> bool:
        """The value is the bare token."""
        return self.template == "{secret}" and not self.base64


def client_auth(scheme: Any) -> ClientAuth:
    """The :class:`ClientAuth` of an auth scheme (``catalog.model.credentials.AuthScheme``, declared or a plugin's)."""
    if scheme is None:
        return ClientAuth("header", "Authorization", "Bearer")
    location = str(getattr(scheme, "location", None) or "header")
    name = getattr(scheme, "parameter", None) or "Authorization"
    keyword = getattr(scheme, "keyword", "") or ""
    template = getattr(scheme, "template", "{secret}") or "{secret}"
    b64 = getattr(scheme, "encoding", None) == "base64"
    if location == "header" and name.lower() == "authorization" and keyword.lower() == "basic" and b64 \
            and template == "{identity}:{secret}":
        return ClientAuth("basic")
    if location in ("query", "cookie"):
        return ClientAuth(location, name, "", template, b64)
    return ClientAuth("header", name, keyword if name.lower() == "authorization" else "", template, b64)


def _envelope_rules(envelope: Any) -> tuple[list[tuple[str, list[tuple]]], list[tuple[str, list[tuple]]]]:
    """The API's declared envelope rules as plain data: [(name, [(pointer, test, value), …])]."""
    def plain(rules: Any) -> list[tuple[str, list[tuple]]]:
        out = []
        for rule in rules or ():
            conditions = []
            for c in rule.when:
                if c.has_equals:
                    conditions.append((c.pointer, "equals", c.equals))
                if c.one_of is not None:
                    conditions.append((c.pointer, "one_of", list(c.one_of)))
                if c.pattern is not None:
                    conditions.append((c.pointer, "pattern", c.pattern))
                if c.present is not None:
                    conditions.append((c.pointer, "present", c.present))
            out.append((rule.name, conditions))
        return out
    if envelope is None:
        return [], []
    return plain(getattr(envelope, "auth_failure", ())), plain(getattr(envelope, "errors", ()))


@dataclass(frozen=True)
class Rules:
    """The recommended signals and declared envelope rules a ``credential_state`` function applies,
    sorted into the order it applies them (``any``: there is at least one rule)."""

    auth_failure: list[tuple[str, list[tuple]]]
    other_errors: list[tuple[str, list[tuple]]]
    reject_headers: list[Signal]
    accept_headers: list[Signal]
    fields: list[Signal]
    status_ok: list[Signal]
    status_bad: list[Signal]

    @classmethod
    def of(cls, signals: Iterable[Signal], envelope: Any = None) -> Rules:
        auth_rules, error_rules = _envelope_rules(envelope)
        chosen = [s for s in signals if s.recommended]
        return cls(
            auth_failure=auth_rules, other_errors=error_rules,
            reject_headers=[s for s in chosen if s.meaning == REJECTED and s.kind.startswith("header")],
            accept_headers=[s for s in chosen if s.meaning == ACCEPTED and s.kind.startswith("header")][:1],
            fields=[s for s in chosen if s.meaning == ACCEPTED and s.kind == "body-field"],
            status_ok=[s for s in chosen if s.meaning == ACCEPTED and s.kind == "status"],
            status_bad=[s for s in chosen if s.meaning == REJECTED and s.kind == "status"],
        )

    @property
    def any(self) -> bool:
        # No rule: no function that would only ever say "unknown".
        return bool(self.reject_headers or self.accept_headers or self.fields or self.status_ok or self.status_bad
                    or self.auth_failure)

    @property
    def status_bad_codes(self) -> tuple[int, ...]:
        return tuple(sorted(int(s.name) for s in self.status_bad))


def _header_test(s: Signal) -> str:
    return f"{s.name!r} in headers" if s.kind == "header-present" else f"headers.get({s.name!r}) == {s.value!r}"


@functools.cache
def _templates() -> Environment:
    """The script's layout lives in a template; literals reach it only through these filters.
    Made on first use: the site-pages plugin that imports this module loads at every `authcat` start."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    templates = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=False,  # Python source, not HTML
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    templates.filters.update(py=repr, comment=_comment, record=_record, header_test=_header_test,
                             path_pattern=path_pattern, json=json.dumps)
    return templates


@dataclass(frozen=True)
class Recipe:
    """A runnable script (Python) and its curl equivalent; ``python`` is empty when nothing to say."""

    python: str
    curl: str
    path: str | None  # the request the script sends
    uses_signals: bool
    uses_check: bool


def _curl(auth: ClientAuth, path: str) -> str:
    url = '"$' + BASE_URL_ENV + '"' + shlex.quote(path)
    value = f'"${TOKEN_ENV}"'
    setup = []
    if auth.kind != "basic" and not auth.plain:  # fill the template the way the scheme does
        filled = shlex.quote(auth.template).replace("{identity}", f"'\"${USER_ENV}\"'").replace("{secret}", f"'\"${TOKEN_ENV}\"'")
        # Portable: BSD base64 has no -w0; GNU wraps long lines, tr joins them.
        setup.append(f"VALUE={filled}" if not auth.base64 else f"VALUE=$(printf %s {filled} | base64 | tr -d '\\n')")
        value = '"$VALUE"'
    if auth.kind == "basic":
        how = f'-u "${USER_ENV}:${TOKEN_ENV}"'
    elif auth.kind == "query":  # curl URL-encodes it (a token's + / = would change meaning)
        how = "--get --data-urlencode " + shlex.quote(f"{auth.name}=") + value
    elif auth.kind == "cookie":
        how = "-b " + shlex.quote(f"{auth.name}=") + value
    else:
        how = "-H " + shlex.quote(f"{auth.name}: {auth.prefix + ' ' if auth.prefix else ''}") + value
    lines = [
        f"# {PLACEHOLDER}s: export {BASE_URL_ENV}=https://your-server.example {TOKEN_ENV}=your-token"
        + (f" {USER_ENV}=you@example.com" if auth.needs_user else ""),
        *setup,
        "curl -sS -o /dev/null -D - " + " ".join(p for p in (how, url) if p),
    ]
    return "\n".join(lines)


def recipe_script(api_title: str, target: str, signals: Iterable[Signal], auth: ClientAuth,
                  check_path: str | None, check_refusals: Iterable[int] = (),
                  signal_path: str | None = None, envelope: Any = None) -> Recipe:
    """The whole script for one target: placeholders, the credential as the scheme says, the
    ``credential_state`` rules (if any were recommended) and the token check (if one was found)."""
    rules = Rules.of(signals, envelope)
    path = signal_path if rules.any and signal_path else check_path
    if (not rules.any and not check_path) or path is None:
        return Recipe("", "", None, False, False)
    python = _templates().get_template("recipe.py.j2").render(
        api_title=api_title, target=target, auth=auth, path=path, rules=rules, check_path=check_path,
        check_refusals=tuple(sorted(set(check_refusals))), P=PLACEHOLDER,
        BASE_URL_ENV=BASE_URL_ENV, TOKEN_ENV=TOKEN_ENV, USER_ENV=USER_ENV,
    )
    return Recipe(python, _curl(auth, path), path, rules.any, bool(check_path))

"""The client-side recipe: a Python (httpx) script and a curl equivalent, generated per target.

``recipe_script`` writes a function ``credential_state(response) -> "accepted" | "rejected" |
"unknown"`` that applies, in order: the rejection signals, the best acceptance header, the actor
body fields of the endpoints that return them, then the status codes that were right on every
observation, and wraps it (or, with no signal, only the token check) in a script
that runs as pasted: every placeholder is marked ``<-- PLACEHOLDER`` and read from the environment,
and the credential is presented exactly as the API's scheme says (Basic, Bearer, ``token``, an
API-key header, a query parameter or a cookie). Every literal comes from the observations or the
definitions through ``repr`` (or ``shlex.quote`` for curl), so a strange value can never become code.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from catalog.answers.signals import ACCEPTED, REJECTED, Signal

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
    """The :class:`ClientAuth` of an auth scheme (``catalog.model.vocabulary.AuthScheme``, declared or a plugin's)."""
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


_POINTER = [
    "",
    "def _pointer(doc, pointer):",
    "    for raw in pointer.lstrip('/').split('/'):",
    "        part = raw.replace('~1', '/').replace('~0', '~')",
    "        if isinstance(doc, list) and part.isdigit() and int(part) < len(doc):",
    "            doc = doc[int(part)]",
    "        elif isinstance(doc, dict) and part in doc:",
    "            doc = doc[part]",
    "        else:",
    "            return _MISSING",
    "    return doc",
    "",
]


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


_ENVELOPE = [
    "",
    "def _holds(doc, pointer, test, value):",
    "    found = _pointer(doc, pointer)",
    "    if test == 'present':",
    "        return (found is not _MISSING) == value",
    "    if found is _MISSING:",
    "        return False",
    "    if test == 'equals':",
    "        return found == value and type(found) is type(value)",
    "    if test == 'one_of':",
    "        return any(found == v and type(found) is type(v) for v in value)",
    "    return isinstance(found, str) and re.search(value, found) is not None",
    "",
    "",
    "def _envelope(response, rules):",
    "    if not response.is_success:",
    "        return None",
    "    try:",
    "        doc = response.json()",
    "    except ValueError:",
    "        return None",
    "    for name, conditions in rules:",
    "        if all(_holds(doc, *c) for c in conditions):",
    "            return name",
    "    return None",
    "",
]


def _credential_state(signals: list[Signal], envelope: Any = None) -> list[str]:
    auth_rules, error_rules = _envelope_rules(envelope)
    signals = [s for s in signals if s.recommended]
    reject_headers = [s for s in signals if s.meaning == REJECTED and s.kind.startswith("header")]
    accept_headers = [s for s in signals if s.meaning == ACCEPTED and s.kind.startswith("header")][:1]
    fields = [s for s in signals if s.meaning == ACCEPTED and s.kind == "body-field"]
    status_ok = [s for s in signals if s.meaning == ACCEPTED and s.kind == "status"]
    status_bad = [s for s in signals if s.meaning == REJECTED and s.kind == "status"]
    if not (reject_headers or accept_headers or fields or status_ok or status_bad or auth_rules):
        return []  # no rule: no function that would only ever say "unknown"
    lines = []
    if fields or auth_rules:
        lines += ["_MISSING = object()", ""]
    if auth_rules:
        lines.append("# The API's declared envelope (api.yaml): a 2xx whose body says the credential was refused,")
        lines.append("# and errors of the same envelope that are not about the credential.")
        # Through JSON: any value YAML can hold (even .inf) becomes a literal that parses.
        lines.append(f"AUTH_FAILURE = json.loads({json.dumps(auth_rules)!r})")
        lines.append(f"OTHER_ERRORS = json.loads({json.dumps(error_rules)!r})")
        lines += _POINTER + _ENVELOPE
    if fields:
        lines.append("# (method, path pattern, JSON pointer): endpoints whose body names the caller.")
        lines.append("ACTOR_FIELDS = [")
        for s in fields:
            for method, path in s.endpoints:
                lines.append(f"    ({method!r}, {path_pattern(path)!r}, {s.name!r}),")
        lines += ["]", ""]
        if not auth_rules:
            lines += _POINTER
    lines += [
        "",
        "def credential_state(response: httpx.Response) -> str:",
        '    """"accepted", "rejected" or "unknown": what the server did with the credential sent."""',
        "    headers = response.headers",
    ]
    if auth_rules:
        lines += [
            "    if _envelope(response, AUTH_FAILURE):",
            '        return "rejected"  # a 200 that says the credential was refused',
            "    if _envelope(response, OTHER_ERRORS):",
            '        return "unknown"  # an error that is not about the credential',
        ]
    for s in reject_headers:
        lines.append(f"    # {_record(s)}")
        test = f"{s.name!r} in headers" if s.kind == "header-present" else f"headers.get({s.name!r}) == {s.value!r}"
        lines += [f"    if {test}:", '        return "rejected"']
    for s in accept_headers:
        lines.append(f"    # {_record(s)}")
        everywhere = s.non_2xx is not None and s.non_2xx[1] > 0 and s.non_2xx[0] == s.non_2xx[1]
        test = f"{s.name!r} in headers" if s.kind == "header-present" else f"headers.get({s.name!r}) == {s.value!r}"
        if everywhere:
            assert s.non_2xx is not None
            lines.append(f"    # Right on the {s.non_2xx[1]} other answers too: a 403/404 carrying it means no rights, not a dead token.")
            lines += [f"    if {test}:", '        return "accepted"']
        else:
            lines += [f"    if response.is_success and {test}:", '        return "accepted"']
    if fields:
        lines.append(f"    # {'; '.join(_record(s) for s in fields)}")
        lines += [
            "    if response.is_success:",
            "        for method, pattern, pointer in ACTOR_FIELDS:",
            "            if response.request.method == method and re.search(pattern, response.request.url.path):",
            "                try:",
            "                    value = _pointer(response.json(), pointer)",
            "                except ValueError:",
            "                    break",
            '                return "accepted" if value not in (None, _MISSING) else "rejected"',
        ]
    if accept_headers:
        lines += [
            "    if response.is_success:",
            '        return "rejected"  # served, but without the acceptance header: a silent fallback',
        ]
    for s in status_ok:
        lines.append(f"    # {_record(s)}")
        lines += ["    if response.is_success:", '        return "accepted"']
        if s.refused_with:  # only the statuses the rule was checked on: a 500 stays "unknown"
            lines += [f"    if response.status_code in {tuple(s.refused_with)!r}:", '        return "rejected"']
    if status_bad:
        codes = sorted(int(s.name) for s in status_bad)
        for s in status_bad:
            lines.append(f"    # {_record(s)}")
        lines += [f"    if response.status_code in {tuple(codes)!r}:", '        return "rejected"']
    lines += ['    return "unknown"', ""]
    return lines


@dataclass(frozen=True)
class Recipe:
    """A runnable script (Python) and its curl equivalent; ``python`` is empty when nothing to say."""

    python: str
    curl: str
    path: str | None  # the request the script sends
    uses_signals: bool
    uses_check: bool


def _auth_lines(auth: ClientAuth) -> list[str]:
    if auth.kind == "basic":
        return ["AUTH = {\"auth\": (USER, TOKEN)}  # HTTP Basic: user and token"]
    lines = []
    value = "TOKEN"
    if not auth.plain:  # the scheme's value template, filled here (literals through repr only)
        lines.append(f"VALUE = {auth.template!r}.replace('{{identity}}', USER).replace('{{secret}}', TOKEN)")
        if auth.base64:
            lines.append("VALUE = base64.b64encode(VALUE.encode()).decode()")
        value = "VALUE"
    if auth.kind == "query":
        return [*lines, f"AUTH = {{\"params\": {{{auth.name!r}: {value}}}}}  # the token in the query string"]
    if auth.kind == "cookie":
        return [*lines, f"AUTH = {{\"cookies\": {{{auth.name!r}: {value}}}}}  # the token in a cookie"]
    # No f-string: the scheme word comes from api.yaml and goes in through repr() only.
    sent = f"{(auth.prefix + ' ')!r} + {value}" if auth.prefix else value
    return [*lines, f"AUTH = {{\"headers\": {{{auth.name!r}: {sent}}}}}"]


def _curl(auth: ClientAuth, path: str) -> str:
    url = '"$' + BASE_URL_ENV + '"' + shlex.quote(path)
    value = f'"${TOKEN_ENV}"'
    setup = []
    if auth.kind != "basic" and not auth.plain:  # fill the template the way the scheme does
        filled = shlex.quote(auth.template).replace("{identity}", f"'\"${USER_ENV}\"'").replace("{secret}", f"'\"${TOKEN_ENV}\"'")
        setup.append(f"VALUE={filled}" if not auth.base64 else f"VALUE=$(printf %s {filled} | base64 -w0)")
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
    rules = _credential_state(list(signals), envelope)
    path = signal_path if rules and signal_path else check_path
    if (not rules and not check_path) or path is None:
        return Recipe("", "", None, False, False)
    lines = [
        f'"""Dead token or empty result? {_comment(api_title)}, as observed on {_comment(target)}.',
        "",
        f"Generated by authcat. Set the {PLACEHOLDER}s (or the environment variables they read), then run.",
        '"""',
        *(["import base64"] if auth.base64 and auth.kind != "basic" else []),
        "import json",
        "import os",
        "import re",
        "import sys",
        "",
        "import httpx",
        "",
        f"BASE_URL = os.environ.get({BASE_URL_ENV!r}, 'https://your-server.example')  # {PLACEHOLDER}: your server",
        f"TOKEN = os.environ.get({TOKEN_ENV!r}, 'your-token')  # {PLACEHOLDER}: your token (keep it out of the code)",
    ]
    if auth.needs_user:
        lines.append(f"USER = os.environ.get({USER_ENV!r}, 'you@example.com')  # {PLACEHOLDER}: the token's user")
    lines += _auth_lines(auth)
    lines += [f"PATH = {path!r}", ""]
    if rules:
        lines += rules
    if check_path:
        refusals = tuple(sorted(set(check_refusals)))
        lines += [
            "",
            "def token_is_accepted(client: httpx.Client) -> bool | None:",
            f'    """The token check: {_comment(check_path)} refused every bad credential on {_comment(target)}."""',
            f"    response = client.get({check_path!r})",
            *(["    if _envelope(response, AUTH_FAILURE):", "        return False  # a 200 saying the credential was refused"]
              if _envelope_rules(envelope)[0] else []),
            "    if response.is_success:",
            "        return True",
            f"    if response.status_code in {refusals!r}:",
            "        return False",
            "    return None  # an answer the observations never showed: look at it yourself",
            "",
        ]
    lines += [
        "",
        "def main() -> int:",
        "    if 'your-server.example' in BASE_URL:",
        f"        print('set {BASE_URL_ENV} and {TOKEN_ENV}{(' and ' + USER_ENV) if auth.needs_user else ''} first', file=sys.stderr)",
        "        return 2",
        "    with httpx.Client(base_url=BASE_URL, timeout=20, **AUTH) as client:",
    ]
    if check_path:
        lines += [
            "        accepted = token_is_accepted(client)",
            "        print('token check:', {True: 'accepted', False: 'rejected', None: 'unknown'}[accepted])",
        ]
    if rules:
        lines += [
            "        response = client.get(PATH)",
            "        print(PATH, response.status_code, credential_state(response))",
        ]
    lines += ["    return 0", "", "", "if __name__ == '__main__':", "    sys.exit(main())", ""]
    return Recipe("\n".join(lines), _curl(auth, path), path, bool(rules), bool(check_path))


"""Reproduce a cell: for one endpoint and one token state, a curl command and an httpx snippet.

Placeholders only — environment variables the reader exports (``API_BASE_URL``, ``API_TOKEN``,
``API_USER``, and one per state: ``API_REVOKED_TOKEN``, ``API_OTHER_USER`` …) — never a value
from a target, so no secret can reach the page. Every contributed string (path, scheme word,
parameter name) goes into the shell through ``shlex.quote`` and into Python through ``repr``.
The Python snippet runs as pasted once the variables are set.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from catalog.answers.recipe import BASE_URL_ENV, TOKEN_ENV, USER_ENV, ClientAuth
from catalog.model.vocabulary import Endpoint, State

# state -> (user variable, token variable): the credential that state sends.
_CREDENTIAL: dict[str, tuple[str, str]] = {
    State.VALID: (USER_ENV, TOKEN_ENV),
    State.UNKNOWN_TOKEN: (USER_ENV, "API_UNKNOWN_TOKEN"),
    State.WRONG_IDENTITY: ("API_OTHER_USER", TOKEN_ENV),
    State.EXPIRED: (USER_ENV, "API_EXPIRED_TOKEN"),
    State.REVOKED: (USER_ENV, "API_REVOKED_TOKEN"),
    State.FORGED: (USER_ENV, "API_FORGED_TOKEN"),
    State.UNPRIVILEGED: ("API_UNPRIVILEGED_USER", "API_UNPRIVILEGED_TOKEN"),
    State.DEACTIVATED: ("API_DEACTIVATED_USER", "API_DEACTIVATED_TOKEN"),
    State.SCHEME_CASE: (USER_ENV, TOKEN_ENV),
    State.WRONG_SCHEME: (USER_ENV, TOKEN_ENV),
    State.QUERY_PARAMETER: (USER_ENV, TOKEN_ENV),
}
_NOTES: dict[str, str] = {
    State.UNKNOWN_TOKEN: "a token of the valid one's shape that was never issued",
    State.WRONG_IDENTITY: "your token, sent with another user's name",
    State.MALFORMED: "an Authorization value that cannot be parsed",
    State.ANONYMOUS: "no credential at all",
    State.SCHEME_CASE: "the valid credential, scheme word in lower case",
    State.WRONG_SCHEME: "the valid secret under another scheme word",
}


@dataclass(frozen=True)
class Snippet:
    state: str
    curl: str
    python: str
    note: str


def _path(endpoint: Endpoint) -> str:
    # {param} placeholders stay visible; the reader fills them in.
    return endpoint.path


def _value_py(auth: ClientAuth, user: str, token: str) -> str:
    if auth.kind == "basic":
        return f"base64.b64encode(f\"{{os.environ[{user!r}]}}:{{os.environ[{token!r}]}}\".encode()).decode()"
    if auth.plain:
        return f"os.environ[{token!r}]"
    value = f"{auth.template!r}.replace('{{identity}}', os.environ.get({user!r}, '')).replace('{{secret}}', os.environ[{token!r}])"
    return f"base64.b64encode({value}.encode()).decode()" if auth.base64 else value


def _value_sh(auth: ClientAuth, user: str, token: str) -> str:
    if auth.kind == "basic":
        return f'$(printf %s "${user}:${token}" | base64 -w0)'
    if auth.plain:
        return f"${token}"
    filled = shlex.quote(auth.template).replace("{identity}", f"'\"${user}\"'").replace("{secret}", f"'\"${token}\"'")
    return f"$(printf %s {filled} | base64 -w0)" if auth.base64 else filled


def snippet(endpoint: Endpoint, state: str, auth: ClientAuth) -> Snippet:
    method = endpoint.method.upper()
    url_sh = f'"${BASE_URL_ENV}"' + shlex.quote(_path(endpoint))
    url_py = f"os.environ[{BASE_URL_ENV!r}] + {_path(endpoint)!r}"
    keyword = "Basic" if auth.kind == "basic" else auth.prefix
    name = "Authorization" if auth.kind == "basic" else auth.name
    header_sh: str | None = None
    header_py: str | None = None
    params_py = ""
    if state == State.ANONYMOUS:
        pass
    elif state == State.MALFORMED:
        word = keyword or "Basic"
        header_sh = shlex.quote(f"{name}: {word} !!!")
        header_py = f"{{{name!r}: {(word + ' !!!')!r}}}"
    elif state in _CREDENTIAL:
        user, token = _CREDENTIAL[state]
        if state == State.SCHEME_CASE:
            keyword = keyword.lower() if keyword else keyword
        elif state == State.WRONG_SCHEME:
            keyword = "Bearer" if (keyword or "").lower() != "bearer" else "Basic"
        if state == State.QUERY_PARAMETER or auth.kind == "query":
            param = auth.name if auth.kind == "query" else "access_token"
            url_sh += shlex.quote(("&" if "?" in endpoint.path else "?") + f"{param}=") + f'"${token}"'
            params_py = f", params={{{param!r}: os.environ[{token!r}]}}"
        else:
            value_sh, value_py = _value_sh(auth, user, token), _value_py(auth, user, token)
            if state == State.WRONG_SCHEME and auth.kind == "basic":  # the bare secret under Bearer
                value_sh, value_py = f'"${token}"', f"os.environ[{token!r}]"
            prefix = f"{keyword} " if keyword else ""
            header_sh = shlex.quote(f"{name}: {prefix}") + f'"{value_sh}"'
            header_py = f"{{{name!r}: {prefix!r} + {value_py}}}"
    else:
        return Snippet(state, "", "", f"no recipe for the plugin state {state!r}: see its plugin's documentation")
    curl = " ".join(p for p in (f"curl -sS -i -X {method}", f"-H {header_sh}" if header_sh else "", url_sh) if p)
    python = "\n".join([
        "import base64, os",
        "",
        "import httpx",
        "",
        f"r = httpx.request({method!r}, {url_py}" + (f", headers={header_py}" if header_py else "") + params_py + ")",
        "print(r.status_code, r.headers.get('www-authenticate'), r.text[:200])",
    ])
    return Snippet(state, curl, python, _NOTES.get(state, ""))

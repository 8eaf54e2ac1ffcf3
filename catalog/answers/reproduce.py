"""Reproduce a cell: a curl command and an httpx snippet generated from the cell's request record.

The record (``catalog.secrets.record``) is what the prober sent, with every credential part and
every per-launch value a named placeholder, so a snippet built from it alone sends what the cell
was observed with. Placeholders become environment variables that fail loudly when unset
(``${API_TOKEN:?set API_TOKEN}`` in the shell, ``env("API_TOKEN")`` in Python: never an empty
token sent by mistake); HTTP Basic is ``curl -u`` (no GNU-only ``base64 -w0``). Every string
from a record goes into the shell through ``shlex.quote`` and into Python through ``repr``. An
``n/a`` cell has no record: no snippet, its reason instead.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from catalog.model.vocabulary import Outcome
from catalog.runs.results import Cell
from catalog.secrets.record import PLACEHOLDER

Token = tuple[str, Any]  # ("lit", text) | ("var", name) | ("b64", [Token, ...]) | ("q", [Token, ...]): URL-encoded


@dataclass(frozen=True)
class Snippet:
    state: str
    curl: str
    python: str
    note: str  # the n/a reason when there is nothing to run
    target: str = ""
    expected: str = ""  # "401 rejected": what the cell got
    placeholders: Mapping[str, str] = field(default_factory=dict)  # name -> what to put in it


def parse(text: str) -> list[Token]:
    """A record value as tokens: literals, placeholders and ``{base64:…}`` groups."""
    tokens: list[Token] = []
    i = 0
    literal = ""
    while i < len(text):
        if text.startswith("{base64:", i):
            depth, j = 1, i + len("{base64:")
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if literal:
                tokens.append(("lit", literal))
                literal = ""
            tokens.append(("b64", parse(text[i + len("{base64:"):j - 1])))
            i = j
            continue
        m = PLACEHOLDER.match(text, i)
        if m:
            if literal:
                tokens.append(("lit", literal))
                literal = ""
            tokens.append(("var", m.group(1)))
            i = m.end()
            continue
        literal += text[i]
        i += 1
    if literal:
        tokens.append(("lit", literal))
    return tokens


def _sh_var(name: str) -> str:
    return f'"${{{name}:?set {name}}}"'


def _joined(tokens: list[Token]) -> list[Token]:
    """Adjacent literals as one (``'Authorization: Bearer '``, not two quoted pieces)."""
    out: list[Token] = []
    for kind, value in tokens:
        if kind == "lit" and out and out[-1][0] == "lit":
            out[-1] = ("lit", out[-1][1] + value)
        else:
            out.append((kind, value))
    return out


def sh(tokens: list[Token]) -> str:
    """One shell word: quoted literals and loud variables, concatenated."""
    out = []
    for kind, value in _joined(tokens):
        if kind == "lit":
            out.append(shlex.quote(value))
        elif kind == "var":
            out.append(_sh_var(value))
        else:  # portable: BSD and GNU base64 both read stdin; GNU wraps long lines, tr joins them
            out.append(f"\"$(printf '%s' {sh(value)} | base64 | tr -d '\\n')\"")
    return "".join(out) or "''"


def py(tokens: list[Token]) -> str:
    """One Python expression: string literals and ``env(...)`` lookups, joined with ``+``."""
    out = []
    for kind, value in tokens:
        if kind == "lit":
            out.append(repr(value))
        elif kind == "var":
            out.append(f"env({value!r})")
        elif kind == "q":
            out.append(f"quote({py(value)}, safe='')")
        else:
            out.append(f"base64.b64encode(({py(value)}).encode()).decode()")
    return " + ".join(out) or "''"


def _basic_user(tokens: list[Token]) -> str | None:
    """``-u user:secret`` for ``Basic {base64:…}`` (curl writes the header itself)."""
    if len(tokens) == 2 and tokens[0] == ("lit", "Basic ") and tokens[1][0] == "b64":
        return sh(tokens[1][1])
    return None


def _credential_query(record: Mapping[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """The URL without the query values that hold a credential placeholder, and those values."""
    url = record["url"]
    if "?" not in url:
        return url, []
    base, _, query = url.partition("?")
    credentials = set(_kinds(record, "credential"))
    kept, moved = [], []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if any(kind == "var" and name in credentials for kind, name in parse(value)):
            moved.append((key, value))
        else:
            kept.append((key, value))
    if not moved:
        return url, []
    # Re-encoded as the record had it (placeholders' braces kept readable).
    return (base + ("?" + urlencode(kept, safe="{}:") if kept else "")), moved


def _kinds(record: Mapping[str, Any], kind: str) -> list[str]:
    return [n for n, p in (record.get("placeholders") or {}).items() if isinstance(p, dict) and p.get("kind") == kind]


def snippet(record: Mapping[str, Any], state: str, expected: str = "", target: str = "") -> Snippet:
    """The curl and httpx snippets of one request record."""
    method = str(record["method"]).upper()
    url, query = _credential_query(record)
    get_like = method in ("GET", "HEAD")
    if not get_like and query:  # -G would turn the request into a GET: the values stay in the URL
        url, query = record["url"], []
    parts = ["curl -sS -i"]
    if method == "HEAD":
        parts.append("-I")
    elif method != "GET":
        parts.append(f"-X {shlex.quote(method)}")
    headers_py = []
    for name, value in record.get("headers") or []:
        tokens = parse(value)
        user = _basic_user(tokens) if name.lower() == "authorization" else None
        parts.append(f"-u {user}" if user else f"-H {sh([('lit', f'{name}: '), *tokens])}")
        headers_py.append(f"{name!r}: {py(tokens)}")
    body = record.get("body")
    if isinstance(body, str):  # the endpoint's body as sent, its {name} placeholders left as they are
        parts.append(f"--data-binary {shlex.quote(body)}")
    parts.append(sh(parse(url)))
    if query:
        parts.append("-G " + " ".join(f"--data-urlencode {sh([('lit', f'{k}='), *parse(v)])}" for k, v in query))
    # The credential's query values are appended URL-encoded (quote); the rest of the URL is used
    # as recorded, already encoded (httpx's params= would replace its query, and encode the
    # launcher's values a second time).
    tokens = parse(url)
    for n, (key, value) in enumerate(query):
        tokens += [("lit", ("&" if n or "?" in url else "?") + f"{key}=")]
        tokens += [("q", parse(value))]
    args = [repr(method), py(tokens)]
    if headers_py:
        args.append("headers={" + ", ".join(headers_py) + "}")
    if isinstance(body, str):
        args.append(f"content={body!r}")
    python = "\n".join([
        "import base64, os",
        *(["from urllib.parse import quote"] if query else []),
        "",
        "import httpx",
        "",
        "",
        "def env(name):",
        "    if not os.environ.get(name):",
        "        raise SystemExit(f\"set {name}\")  # never send an empty credential by mistake",
        "    return os.environ[name]",
        "",
        "",
        f"r = httpx.request({', '.join(args)})",
        "print(r.status_code, r.headers.get('www-authenticate'), r.text[:200])",
    ])
    means = {n: (p.get("means", "") if isinstance(p, dict) else str(p))
             for n, p in (record.get("placeholders") or {}).items()}
    return Snippet(state, " ".join(parts), python, "", target, expected, means)


def cell_snippet(cell: Cell, target: str = "") -> Snippet:
    """A cell's snippet, or its reason when there is nothing to run (``n/a``, or observed before
    requests were recorded)."""
    record = cell.observation.request if cell.observation is not None else None
    if cell.outcome == Outcome.NOT_AVAILABLE or not record:
        why = cell.note if cell.outcome == Outcome.NOT_AVAILABLE else "no request record (observed before they were kept)"
        return Snippet(cell.state, "", "", why or "not available on this target", target)
    expected = " ".join(str(p) for p in (cell.status, cell.outcome) if p is not None)
    return snippet(record, cell.state, expected, target)


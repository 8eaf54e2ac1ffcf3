"""The spec's ``securitySchemes`` → the API's declared auth scheme (``scheme:`` in api.yaml).

OpenAPI ``http`` ``basic``/``bearer`` map onto the ``basic``/``bearer`` presets, another ``http``
scheme word onto ``{keyword: …}``; ``apiKey`` in a header, query parameter or cookie onto
``{header|query|cookie: name}`` — an ``apiKey`` *named* ``Authorization`` is a keyword scheme
when its description names the word (``SSWS {token}``, "prepended with "token""). ``oauth2`` and
``openIdConnect`` access tokens travel as Bearer tokens. Challenge-response schemes (Digest,
Negotiate, …) cannot be presented as a static credential and are not mapped.

Which scheme: the first mappable one in the spec's top-level ``security`` requirements, else the
one most operations require, else the first defined. When another alternative requirement is an
``apiKey`` in the query, its name becomes ``query_parameter`` (the query presentation state).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from catalog.importers.openapi.methods import HTTP_METHODS
from catalog.importers.openapi.spec import resolve

CHALLENGE_ONLY = frozenset({"digest", "negotiate", "hoba", "mutual", "scram-sha-1", "scram-sha-256", "vapid"})
_WORD = r"[A-Za-z][A-Za-z0-9._~+-]{0,39}"
# Ways vendors document the word before an API key sent in Authorization.
_KEYWORD_HINTS = (
    re.compile(rf"^\s*[\"'`]?({_WORD})\s+[{{<]"),  # "SSWS {API Token}", "token <key>"
    re.compile(rf"(?:prepended|prefixed) with\s+(?:the\s+(?:word\s+)?)?[\"'`]({_WORD})[\"'`]", re.IGNORECASE),
)


def _keyword_in(description: str) -> str | None:
    for pattern in _KEYWORD_HINTS:
        if match := pattern.search(description):
            return match.group(1)
    return None


def map_scheme(raw: Any) -> str | dict[str, str] | None:
    """One security scheme object as an api.yaml ``scheme:`` value, or None when it cannot be."""
    if not isinstance(raw, dict):
        return None
    kind = raw.get("type")
    if kind == "http":
        word = str(raw.get("scheme") or "")
        if word.lower() == "basic":
            return "basic"
        if word.lower() == "bearer":
            return "bearer"
        if not word or word.lower() in CHALLENGE_ONLY or not re.fullmatch(_WORD, word):
            return None
        return {"keyword": word}
    if kind in ("oauth2", "openIdConnect"):
        return "bearer"
    if kind == "apiKey":
        name, where = str(raw.get("name") or ""), raw.get("in")
        if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}", name) or where not in ("header", "query", "cookie"):
            return None
        if where == "header" and name.lower() == "authorization":
            hint = _keyword_in(str(raw.get("description") or ""))
            return {"keyword": hint} if hint else None
        return {str(where): name}
    return None


def _is_oauth(raw: Any, spec: dict) -> bool:
    return (resolve(spec, raw) or {}).get("type") in ("oauth2", "openIdConnect")


def _requirements(spec: dict) -> list[list[str]]:
    """Every security requirement (alternatives) in the spec: top level first, then operations."""
    found = [list((r or {}).keys()) for r in spec.get("security") or [] if isinstance(r, dict)]
    for item in (spec.get("paths") or {}).values():
        for method, op in (item or {}).items() if isinstance(item, dict) else ():
            if method in HTTP_METHODS and isinstance(op, dict):
                found += [list((r or {}).keys()) for r in op.get("security") or [] if isinstance(r, dict)]
    return found


def spec_scheme(spec: dict) -> tuple[str | dict[str, str] | None, str]:
    """(the api.yaml ``scheme:`` value, which spec scheme it came from) — (None, why) if none maps."""
    defined = (spec.get("components") or {}).get("securitySchemes") or {}
    if not isinstance(defined, dict) or not defined:
        return None, "the spec defines no securitySchemes"
    mapped = {name: map_scheme(resolve(spec, raw)) for name, raw in defined.items()}
    usable = [name for name, value in mapped.items() if value is not None]
    if not usable:
        return None, f"none of the spec's securitySchemes ({', '.join(defined)}) can be presented as a static credential"
    top = [n for r in (spec.get("security") or []) if isinstance(r, dict) for n in r if n in usable]
    used = Counter(n for r in _requirements(spec) for n in r if n in usable)
    # Ties go to a static credential: an OAuth access token needs a flow a catalog run cannot do.
    ranked = sorted(usable, key=lambda n: (-used[n], _is_oauth(defined[n], spec), usable.index(n)))
    chosen = top[0] if top else ranked[0]
    scheme = mapped[chosen]
    assert scheme is not None
    query_names = [v["query"] for n in (top or list(used) or usable) if isinstance(v := mapped[n], dict) and "query" in v]
    if query_names and not (isinstance(scheme, dict) and "query" in scheme):
        scheme = _declared(scheme)
        scheme["query_parameter"] = query_names[0]
    return scheme, f"securitySchemes.{chosen}"


def _declared(scheme: str | dict[str, str]) -> dict[str, str]:
    """A preset as the mapping it stands for, so a setting can be added to it."""
    if scheme == "basic":
        return {"keyword": "Basic", "value": "{identity}:{secret}", "encoding": "base64"}
    if scheme == "bearer":
        return {"keyword": "Bearer"}
    return dict(scheme) if isinstance(scheme, dict) else {"keyword": scheme}

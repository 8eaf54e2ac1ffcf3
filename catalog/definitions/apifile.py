"""What ``api.yaml`` and target profiles say about requests: the auth scheme, the auth-failure
envelope, and static headers and query values — parsed into the model and checked for what a
JSON Schema cannot say (a header that would carry or steer a credential, an envelope rule that
can never match).

Every problem names ``file:line: field``; nothing here reads a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from catalog.definitions.patterns import PatternError, compile_linear
from catalog.definitions.yamlfile import Located, dotted
from catalog.model.credentials import AuthScheme, Location
from catalog.model.definition import Body, Discovery, Envelope, EnvelopeRule, FieldCondition
from catalog.model.errors import Problem
from catalog.model.observation import resolve_pointer

# Headers a file may never set: they carry credentials, or steer where and how a request goes.
DENIED_HEADERS = frozenset({"authorization", "cookie", "host", "content-length", "transfer-encoding", "connection"})
DENIED_PREFIXES = ("proxy-",)


def _problem(doc: Located, path: tuple, message: str) -> Problem:
    return Problem(doc.file, doc.line(path), dotted(path), message)


# --------------------------------------------------------------------------------------------
# The scheme
# --------------------------------------------------------------------------------------------


def parse_scheme(api: str, raw: Any) -> tuple[str, AuthScheme | None]:
    """``scheme:`` as a plugin name (``basic``) or a declared mapping; (name, declared or None)."""
    if not isinstance(raw, dict):
        return str(raw or "basic"), None
    if len(_places(raw)) != 1:  # reported by scheme_place_problems; nothing sensible to build
        return str(raw.get("name") or api), None
    name = str(raw.get("name") or api)
    location, parameter, keyword = Location.HEADER, "Authorization", None
    if "keyword" in raw:
        keyword = str(raw["keyword"])
    elif "header" in raw:
        parameter = str(raw["header"])
    elif "query" in raw:
        location, parameter = Location.QUERY, str(raw["query"])
    else:
        location, parameter = Location.COOKIE, str(raw["cookie"])
    scheme = AuthScheme(name, keyword=keyword, location=location, parameter=parameter,
                        template=str(raw.get("value", "{secret}")), encoding=raw.get("encoding"),
                        query_parameter=raw.get("query_parameter"))
    return name, scheme


PLACES = ("keyword", "header", "query", "cookie")


def _places(raw: dict) -> list[str]:
    return [k for k in PLACES if k in raw]


def scheme_place_problems(doc: Located, raw: Any) -> list[Problem]:
    """A declared scheme names exactly one place for the credential."""
    if not isinstance(raw, dict):
        return []
    found = _places(raw)
    if len(found) == 1:
        return []
    if not found:
        return [_problem(doc, ("scheme",), "say where the credential goes: one of keyword (Authorization: <keyword> "
                                           "<value>), header, query or cookie")]
    return [_problem(doc, ("scheme", found[1]), f"give one of {', '.join(PLACES)}, not {' and '.join(found)}")]


def scheme_problems(doc: Located, scheme: AuthScheme | None) -> list[Problem]:
    if scheme is None:
        return []
    problems = []
    where = ("scheme",)
    if "{secret}" not in scheme.template:
        problems.append(_problem(doc, where + ("value",), "the value template must contain {secret}"))
    leftover = re.sub(r"{(identity|secret)}", "", scheme.template)
    if "{" in leftover or "}" in leftover:
        problems.append(_problem(doc, where + ("value",), "only {identity} and {secret} may appear in braces"))
    if scheme.location is Location.HEADER and not scheme.uses_keyword and _denied(scheme.parameter):
        problems.append(_problem(doc, where + ("header",), f"{scheme.parameter!r} cannot carry an API key; "
                                 "use `keyword:` for the Authorization header"))
    if scheme.query_parameter and scheme.location is Location.QUERY:
        problems.append(_problem(doc, where + ("query_parameter",),
                                 "the scheme already sends the secret as a query parameter"))
    return problems


# --------------------------------------------------------------------------------------------
# Static headers and query values
# --------------------------------------------------------------------------------------------


def _denied(name: str) -> bool:
    low = name.lower()
    return low in DENIED_HEADERS or low.startswith(DENIED_PREFIXES)


def request_problems(doc: Located, prefix: tuple, headers: Mapping[str, Any], query: Mapping[str, Any],
                     scheme: AuthScheme | None) -> list[Problem]:
    """Refuse static headers and query values that would carry, replace or steer a credential."""
    problems = []
    own_header = scheme.parameter.lower() if scheme and scheme.location is Location.HEADER else None
    own_query = {p for p in ((scheme.parameter if scheme and scheme.location is Location.QUERY else None),
                             scheme.query_parameter if scheme else None) if p}
    for name in headers:
        where = prefix + ("headers", name)
        if _denied(name):
            problems.append(_problem(doc, where, f"{name!r} may not be set from a file: it carries or steers "
                                     "credentials (denied: Authorization, Cookie, Host, Proxy-*, "
                                     "Content-Length, Transfer-Encoding, Connection)"))
        elif own_header and name.lower() == own_header:
            problems.append(_problem(doc, where, f"{name!r} is the API's auth scheme header: the token states set it"))
    for name in query:
        if name in own_query:
            problems.append(_problem(doc, prefix + ("query", name),
                                     f"{name!r} is where the API's scheme sends the secret: the token states set it"))
    return problems


BODY_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded",
              "xml": "application/xml; charset=utf-8", "text": "text/plain; charset=utf-8"}


def parse_body(raw: Mapping[str, Any] | None) -> Body | None:
    """A schema-checked ``body:``/``example:`` mapping as a :class:`Body` (its media type by kind
    unless ``content_type`` says otherwise)."""
    if not raw:
        return None
    kind = next(k for k in BODY_TYPES if k in raw)
    value = raw[kind]
    if kind == "form":
        value = literal_values(value)
    return Body(kind, value, str(raw.get("content_type") or BODY_TYPES[kind]))


def literal_values(raw: Mapping[str, Any] | None) -> dict[str, str]:
    """YAML scalars as the strings sent on the wire (``true`` → ``true``, not ``True``)."""
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in (raw or {}).items()}


def query_values(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """A target's static query: literal strings, or values discovered like path parameters."""
    out: dict[str, Any] = {}
    for name, value in (raw or {}).items():
        if isinstance(value, dict):
            out[str(name)] = Discovery(value["from"]["endpoint"], value["from"]["pointer"])
        else:
            out[str(name)] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


# --------------------------------------------------------------------------------------------
# The envelope
# --------------------------------------------------------------------------------------------

CONDITION_KEYS = ("equals", "one_of", "pattern", "present")


def _condition(pointer: str, raw: Any) -> FieldCondition:
    if not isinstance(raw, dict):  # a bare value is shorthand for `equals`
        return FieldCondition(pointer, equals=raw, has_equals=True)
    return FieldCondition(
        pointer,
        equals=raw.get("equals"),
        has_equals="equals" in raw,
        one_of=tuple(raw["one_of"]) if "one_of" in raw else None,
        pattern=raw.get("pattern"),
        present=raw.get("present"),
    )


def _rules(raw: Any) -> tuple[EnvelopeRule, ...]:
    items = raw or []
    if items and all(isinstance(i, dict) and "pointer" in i for i in items):
        # The first format: a list of {pointer, equals} that must all hold, as one rule.
        return (EnvelopeRule("auth-failure", tuple(FieldCondition(i["pointer"], i.get("equals"), True) for i in items)),)
    return tuple(
        EnvelopeRule(str(r["name"]), tuple(_condition(str(p), c) for p, c in (r.get("when") or {}).items()))
        for r in items if isinstance(r, dict)
    )


def parse_envelope(data: Mapping[str, Any]) -> Envelope:
    return Envelope(auth_failure=_rules(data.get("auth_failure")), errors=_rules(data.get("other_errors")))


def envelope_problems(doc: Located, data: Mapping[str, Any]) -> list[Problem]:
    """Rules that can never match, or that silently mean something other than they seem."""
    problems: list[Problem] = []
    names: dict[str, tuple] = {}
    for key in ("auth_failure", "other_errors"):
        items = data.get(key) or []
        legacy = [isinstance(i, dict) and "pointer" in i for i in items]
        if any(legacy) and not all(legacy):
            problems.append(_problem(doc, (key,), "mixes the old {pointer, equals} entries with named rules; "
                                     "write every entry as {name, when}"))
            continue
        if all(legacy):
            for i, item in enumerate(items):
                if isinstance(item.get("equals"), list):
                    problems.append(_problem(doc, (key, i, "equals"), "a list never equals a field here; "
                                             "write a named rule with `one_of:`"))
            continue
        for i, rule in enumerate(items):
            where = (key, i)
            if rule["name"] in names:
                problems.append(_problem(doc, where + ("name",), f"rule name {rule['name']!r} is used twice "
                                         f"(first at line {doc.line(names[rule['name']])})"))
            names.setdefault(rule["name"], where + ("name",))
            for pointer, cond in (rule.get("when") or {}).items():
                problems += _condition_problems(doc, where + ("when", pointer), cond)
    return problems


def _condition_problems(doc: Located, where: tuple, raw: Any) -> list[Problem]:
    if isinstance(raw, list):
        return [_problem(doc, where, "a list never equals a field here; write `{one_of: [...]}` for alternatives")]
    if not isinstance(raw, dict):
        return []
    out = []
    tests = [k for k in CONDITION_KEYS if k in raw]
    if not tests:
        out.append(_problem(doc, where, f"no test: give one of {', '.join(CONDITION_KEYS)}"))
    if raw.get("present") is False and len(tests) > 1:
        out.append(_problem(doc, where, "`present: false` with a value test can never match"))
    if "one_of" in raw and not raw["one_of"]:
        out.append(_problem(doc, where + ("one_of",), "an empty one_of can never match"))
    if "equals" in raw and "one_of" in raw and raw["equals"] not in raw["one_of"]:
        out.append(_problem(doc, where, f"equals {raw['equals']!r} is not in one_of: the rule can never match"))
    if isinstance(raw.get("equals"), list):
        out.append(_problem(doc, where + ("equals",), "a list never equals a field here; use one_of"))
    if "pattern" in raw:
        try:
            compiled = compile_linear(str(raw["pattern"]))
        except PatternError as exc:
            out.append(_problem(doc, where + ("pattern",), str(exc)))
        else:
            values = [raw["equals"]] if "equals" in raw else list(raw.get("one_of") or [])
            if values and not any(isinstance(v, str) and compiled.search(v) for v in values):
                out.append(_problem(doc, where + ("pattern",), "matches none of the values the other tests allow"))
            elif any(not isinstance(v, str) for v in values):
                out.append(_problem(doc, where + ("pattern",), "a pattern only matches strings"))
    return out


def match_envelope(doc: Any, envelope: Envelope) -> tuple[str, str] | None:
    """(kind, rule name) of the first rule the JSON document matches: kind is ``auth`` or ``error``."""
    for kind, rules in (("auth", envelope.auth_failure), ("error", envelope.errors)):
        for rule in rules:
            if rule.when and all(_holds(doc, c) for c in rule.when):
                return kind, rule.name
    return None


_MISSING = object()


def _holds(doc: Any, cond: FieldCondition) -> bool:
    try:
        value = resolve_pointer(doc, cond.pointer)
    except KeyError:
        value = _MISSING
    if cond.present is not None and (value is not _MISSING) != cond.present:
        return False
    if value is _MISSING:
        return cond.present is False
    if cond.has_equals and not _same(value, cond.equals):
        return False
    if cond.one_of is not None and not any(_same(value, v) for v in cond.one_of):
        return False
    # Only the head of a long string is searched: a file's pattern must not let a server's
    # answer cost unbounded time.
    return cond.pattern is None or (isinstance(value, str) and compile_linear(cond.pattern).search(value[:4096]) is not None)


def _same(a: Any, b: Any) -> bool:
    # JSON `1` is not `true`: Python's 1 == True must not make a rule match.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b

"""Load and validate the endpoint definitions under ``endpoints/``.

Layout: ``endpoints/<api>/api.yaml``, one YAML file per endpoint group beside it, and target
profiles in ``endpoints/<api>/targets/<name>.yaml``. Every file is checked against a JSON Schema
(``catalog/schemas``) and then for what a schema cannot say (duplicate ids, unsafe paths). All
problems are collected and raised together as a :class:`DefinitionError`.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from catalog.definitions import yamlfile
from catalog.definitions.accepted import Accepted, folder
from catalog.definitions.apifile import (
    envelope_problems,
    literal_values,
    parse_body,
    parse_envelope,
    parse_scheme,
    query_values,
    request_problems,
    scheme_place_problems,
    scheme_problems,
)
from catalog.definitions.containment import symlinks_out
from catalog.definitions.patterns import PatternError, compile_linear
from catalog.definitions.yamlfile import Located, decode, dotted, load, loads, read
from catalog.model.definition import Api, Discovery, Documented, Endpoint, Reported, Setup, SetupRequest, Source, TargetProfile, VersionFrom
from catalog.model.errors import DefinitionError, Problem
from catalog.model.vocabulary import slug
from catalog.targets.readiness import profile_lint

if TYPE_CHECKING:  # imported when a file is validated: loading the plugins (every `authcat` start) needs no validator
    import jsonschema
    import jsonschema_rs

SCHEMA_FILES = ("api", "endpoints", "target")


# Registered methods (RFC 9110, WebDAV, PATCH, QUERY) whose lower-case spelling is surely a typo.
KNOWN_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT",
                           "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT",
                           "SEARCH", "QUERY", "MKCALENDAR"})


@dataclass
class ApiDefinition:
    api: Api
    endpoints: list[Endpoint] = field(default_factory=list)
    targets: dict[str, TargetProfile] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def endpoint(self, endpoint_id: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.id == endpoint_id), None)


@cache
def schema(name: str) -> dict:
    text = resources.files("catalog").joinpath("schemas", f"{name}.schema.json").read_text()
    return json.loads(text)


@cache
def _fast(name: str) -> jsonschema_rs.Validator:
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema(name), offline=True)  # offline: never fetches a $ref


def passes(name: str, data: Any) -> bool:
    """Whether ``data`` passes the schema ``name``, by jsonschema-rs (compiled: a 2 MB submission in
    ~2 ms, jsonschema ~300 ms). A False only means: ask the reference (jsonschema) for the errors.

    It implements the same draft; where the two differ on a schema of ours, it is the stricter
    (its patterns are ECMA-262's: ``$`` matches at the very end only, Python's before a final
    newline too), so a document it passes passes jsonschema too
    (tests/unit/definitions/test_schema_fast_path.py holds it to that)."""
    try:
        return _fast(name).is_valid(data)
    except ValueError:  # a value JSON has no word for (a date YAML read): the reference decides
        return False


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    import jsonschema
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (schema(n)["$id"].rsplit("/", 1)[-1], Resource.from_contents(schema(n))) for n in SCHEMA_FILES
    )
    registry = registry.with_resources((schema(n)["$id"], Resource.from_contents(schema(n))) for n in SCHEMA_FILES)
    cls = jsonschema.validators.validator_for(schema(name))
    return cls(schema(name), registry=registry)


def schema_problems(doc: Located, kind: str) -> list[Problem]:
    problems = []
    for err in sorted(_validator(kind).iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        err = _alternative(err)
        path = tuple(err.absolute_path)
        message = _short_instance(err)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = list(err.schema.get("properties", {})) if isinstance(err.schema, dict) else []
            for extra in sorted(set(err.instance) - set(allowed)):
                hint = difflib.get_close_matches(extra, allowed, n=1, cutoff=0.6)
                suggestion = f", did you mean `{hint[0]}`?" if hint else f" (allowed: {', '.join(allowed)})"
                problems.append(Problem(doc.file, doc.line((*path, extra)), dotted((*path, extra)), f"unknown field `{extra}`{suggestion}"))
            continue
        shown = _shown(err.instance)
        if err.validator == "pattern" and path == ("prefix",):
            message = (f"{shown} must be a path starting with '/' (no host, query or fragment): "
                       "a prefix never moves a request to another origin")
        elif err.validator == "pattern" and "path" in path:
            message = f"{shown} is not a relative path (it must start with a single '/', no host, no query)"
        elif len(message) > 300:  # the problem is said first (a long value is shortened above): cut the rest
            message = message[:300] + "…"
        problems.append(Problem(doc.file, doc.line(path), dotted(path) or "(file)", message))
    return problems


MAX_SHOWN = 60  # characters of a value a message quotes


def _shown(value: Any) -> str:
    """A value as a message quotes it: whole when short, else its start and its length, so that
    what is wrong with it is never cut off behind it."""
    text = repr(value)
    if len(text) <= MAX_SHOWN:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters written out"
    return f"{text[:MAX_SHOWN]}… ({size})"


def _short_instance(err: jsonschema.ValidationError) -> str:
    """jsonschema's message ("'/aaaa…' is too long") with a long value shortened by :func:`_shown`."""
    quoted = repr(err.instance)
    return err.message.replace(quoted, _shown(err.instance)) if len(quoted) > MAX_SHOWN else err.message


def _alternative(err: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For "one of these shapes" (a scheme name or a scheme mapping): the error of the shape the
    value has, not "is not valid under any of the given schemas"."""
    while err.validator in ("oneOf", "anyOf") and err.context:
        relevant = [e for e in err.context if e.validator != "type"]
        if not relevant:
            types = sorted({str(t) for e in err.context
                            for t in (e.validator_value if isinstance(e.validator_value, list) else [e.validator_value])})
            err.message = f"{err.instance!r} must be of type {' or '.join(types)}"
            return err
        err = max(relevant, key=lambda e: len(e.absolute_path))
    return err


def climbs(path: str) -> bool:
    """Whether a path holds a dot segment, in any spelling a server might decode: ``/..``,
    ``/%2e%2e``, ``/%252e%252e``, ``\\..``. Used on everything but substituted values."""
    for _ in range(3):  # decoded up to three times: double encoding is a classic bypass
        segments = path.replace("\\", "/").split("/")
        if any(seg in (".", "..") for seg in segments):
            return True
        decoded = unquote(path)
        if decoded == path:
            return False
        path = decoded
    return True  # still encoded after three decodings: refuse rather than guess


def _check_path(path: str) -> str | None:
    # Percent-decoded too: many servers normalise /%2e%2e/ to /../ after routing.
    if climbs(path):
        return "path must not contain '.' or '..' segments (nor encoded ones such as %2e%2e)"
    if "://" in path or path.startswith("//"):
        return "path must be relative to the target's base URL"
    return None


def _documented(raw: dict[str, Any] | None, doc: Located | None = None, where: tuple = ()) -> Documented:
    raw = raw or {}
    sentence, optional = raw.get("anonymous_sentence"), raw.get("security_optional")
    security = raw.get("security")
    anonymous = raw.get("anonymous")
    if anonymous is None and sentence is None and security is not None:
        # No security requirement at all, or an empty one among them: no credential is needed.
        anonymous = security in ("none", "optional")
    elif anonymous is None and (sentence is not None or optional is not None):
        # Where a spec uses Atlassian's sentence, it is the annotation (its own introduction says
        # so): an operation without `security` there is a Connect app's JWT call, not a public one.
        anonymous = bool(sentence or optional)
    return Documented(
        anonymous=anonymous,
        anonymous_sentence=sentence,
        security_optional=optional,
        security=security,
        documents_401=raw.get("documents_401"),
        deprecated=bool(raw.get("deprecated", False)),
        scopes=tuple(raw.get("scopes", ())),
        source=raw.get("source"),
        claims=_reported(raw.get("claims"), doc, (*where, "claims"), kind="documented"),
    )


def _reported(items: list[dict[str, Any]] | None, doc: Located | None = None, where: tuple = (),
              kind: str = "reported") -> tuple[Reported, ...]:
    out = []
    for i, r in enumerate(items or ()):
        at = (*where, i)
        out.append(Reported(
            claim=r["claim"], source=r["source"], date=None if r.get("date") is None else str(r["date"]),
            ref=r.get("ref"), state=r.get("state"), status=r.get("status"), outcome=r.get("outcome"), kind=kind,
            signal={k: str(v) for k, v in r["signal"].items()} if r.get("signal") else None,
            where=Source(doc.file, doc.line(at)) if doc else None, path=dotted(at),
            fields={k: doc.line((*at, k)) for k in r} if doc else {},
        ))
    return tuple(out)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def load_api(api_dir: Path, root: Path | None = None, lint: bool = False) -> ApiDefinition:
    """Load one API folder; raise :class:`DefinitionError` listing every problem found.

    With ``lint``, a target profile that breaks the credential-binding or secret-reference rules
    is a problem too; without it such a profile loads (``authcat targets`` shows it not ready,
    and a run never probes it).
    """
    root = root or api_dir.parent
    problems: list[Problem] = []
    api_file = api_dir / "api.yaml"
    if not api_file.exists():
        raise DefinitionError([Problem(_rel(api_dir, root), 0, "", "no api.yaml in this API folder")])
    api = _load_api_file(api_dir, api_file, root, problems)
    definition = ApiDefinition(api=api or Api(api_dir.name, api_dir.name), files=[api_file])
    seen = _load_groups(api_dir, root, definition, problems)
    _load_targets(api_dir, root, definition, seen, lint, problems)
    if problems:
        raise DefinitionError(problems)
    return definition


def _load_api_file(api_dir: Path, api_file: Path, root: Path, problems: list[Problem]) -> Api | None:
    """``api.yaml``: the API, or None when the file is broken (its problems are added)."""
    api_doc, file_problems = _checked(api_file, root, "api", problems)
    api = None
    if api_doc is not None:
        if not file_problems and isinstance(api_doc.data, dict):
            d = api_doc.data
            if d["name"] != api_dir.name:
                file_problems.append(Problem(api_doc.file, api_doc.line(("name",)), "name", f"must equal the folder name {api_dir.name!r}"))
            scheme_name, declared = parse_scheme(d["name"], d.get("scheme", "basic"))
            file_problems += scheme_place_problems(api_doc, d.get("scheme"))
            file_problems += scheme_problems(api_doc, declared)
            file_problems += envelope_problems(api_doc, d)
            file_problems += request_problems(api_doc, (), d.get("headers") or {}, d.get("query") or {}, declared)
            api = Api(
                name=d["name"],
                title=d["title"],
                docs=d.get("docs"),
                scheme=scheme_name,
                auth=declared,
                states=tuple(d["states"]) if "states" in d else None,
                envelope=parse_envelope(d),
                headers=literal_values(d.get("headers")),
                query=literal_values(d.get("query")),
                volatile_fields=tuple(d.get("volatile_fields", ())),
                signal_fields=tuple(d.get("signal_fields", ())),
                description=d.get("description", ""),
                reported=_reported(d.get("reported"), api_doc, ("reported",)),
                source=Source(api_doc.file, 1),
            )
        problems += file_problems
    return api


def _load_groups(api_dir: Path, root: Path, definition: ApiDefinition, problems: list[Problem]) -> dict[str, str]:
    """Every group file's endpoints into ``definition``; returns endpoint id -> where it is defined."""
    seen: dict[str, str] = {}
    groups: dict[str, tuple[str, str]] = {}  # page name -> (title, file)
    operations: dict[tuple[str, str], tuple[str, str | None]] = {}  # (method, path) -> (first entry, its operation_id)
    for group_file in sorted(api_dir.glob("*.yaml")):
        if group_file.name == "api.yaml":
            continue
        definition.files.append(group_file)
        doc, file_problems = _checked(group_file, root, "endpoints", problems)
        if doc is None:
            continue
        if file_problems:
            problems += file_problems
            continue
        group = doc.data.get("group") or group_file.stem
        if clash := _group_clash(group, group_file, groups):
            problems.append(Problem(doc.file, doc.line(("group",)) if "group" in doc.data else 1, "group", clash))
            continue
        for i, raw in enumerate(doc.data["endpoints"]):
            where = ("endpoints", i)
            if raw["id"] in seen:
                problems.append(Problem(doc.file, doc.line((*where, "id")), dotted((*where, "id")),
                                        f"duplicate endpoint id {raw['id']!r} (first in {seen[raw['id']]})"))
                continue
            seen[raw["id"]] = f"{doc.file}:{doc.line(where)}"
            if raw["method"] != raw["method"].upper() and raw["method"].upper() in KNOWN_METHODS:
                problems.append(Problem(doc.file, doc.line((*where, "method")), dotted((*where, "method")),
                                        f"{raw['method']!r}: methods are case-sensitive (RFC 9110 §9.1); "
                                        f"did you mean {raw['method'].upper()}?"))
                continue
            if message := _check_path(raw["path"]):
                problems.append(Problem(doc.file, doc.line(where + ("path",)), dotted(where + ("path",)), message))
                continue
            # The same rule as `authcat new`: one operation, one entry. The same shape under other
            # parameter names is another fixture of it (a private table); the same method and path
            # twice is allowed only as two operations a spec defines (distinct operation_id).
            operation = (raw["method"], raw["path"])
            first = operations.get(operation)
            if first is not None and (first[1] is None or first[1] == raw.get("operation_id")):
                problems.append(Problem(doc.file, doc.line((*where, "path")), dotted((*where, "path")),
                                        f"{raw['method']} {raw['path']} is already defined as {first[0]}"))
                continue
            if raw.get("headers"):
                problems += request_problems(doc, where, raw["headers"], {}, definition.api.auth)
            operations.setdefault(operation, (f"{raw['id']!r} ({doc.file}:{doc.line(where)})", raw.get("operation_id")))
            definition.endpoints.append(
                Endpoint(
                    api=api_dir.name,
                    id=raw["id"],
                    method=raw["method"],
                    path=raw["path"],
                    group=group,
                    summary=raw.get("summary", ""),
                    docs=raw.get("docs"),
                    collection=raw.get("collection"),
                    collection_guessed=bool(raw.get("collection_guessed", False)),
                    query={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (raw.get("query") or {}).items()},
                    safe=bool(raw.get("safe", False)),
                    headers=literal_values(raw.get("headers")),
                    body=parse_body(raw.get("body")),
                    example=parse_body(raw.get("example")),
                    destructive=bool(raw.get("destructive", False)),
                    actor_fields=tuple(raw.get("actor_fields", ())),
                    documented=_documented(raw.get("documented"), doc, (*where, "documented")),
                    reported=_reported(raw.get("reported"), doc, (*where, "reported")),
                    notes=raw.get("notes"),
                    removed=bool(raw.get("removed", False)),
                    source=Source(doc.file, doc.line(where)),
                )
            )
    return seen


def _load_targets(api_dir: Path, root: Path, definition: ApiDefinition, seen: dict[str, str], lint: bool,
                  problems: list[Problem]) -> None:
    """Every target profile into ``definition``, checked against the endpoints it names."""
    for target_file in sorted((api_dir / "targets").glob("*.yaml")):
        definition.files.append(target_file)
        doc, file_problems = _checked(target_file, root, "target", problems)
        if doc is None:
            continue
        if not file_problems:
            profile = _target(api_dir.name, doc)
            if profile.name != target_file.stem:
                file_problems.append(Problem(doc.file, doc.line(("name",)), "name", f"must equal the file name {target_file.stem!r}"))
            if profile.prefix and climbs(profile.prefix):
                file_problems.append(Problem(
                    doc.file, doc.line(("prefix",)), "prefix",
                    "a prefix must not contain '.' or '..' segments (nor encoded ones such as %2e%2e): "
                    "it would climb out of the base path"))
            for pname, value in profile.parameters.items():
                if isinstance(value, str) and (".." in value.split("/") or "/" in value):
                    file_problems.append(Problem(doc.file, doc.line(("parameters", pname)), f"parameters.{pname}",
                                                 "a parameter value must not contain '/' or '..'"))
                if isinstance(value, Discovery) and value.endpoint not in seen:
                    file_problems.append(Problem(doc.file, doc.line(("parameters", pname)), f"parameters.{pname}.from.endpoint",
                                                 f"no endpoint with id {value.endpoint!r}"))
            if profile.version_from is not None:
                file_problems += _version_from_problems(doc, profile.version_from, seen)
            file_problems += request_problems(doc, (), doc.data.get("headers") or {}, doc.data.get("query") or {},
                                              definition.api.auth)
            for key in ("headers", "query"):
                if key in profile.options:
                    file_problems.append(Problem(doc.file, doc.line(("options", key)), f"options.{key}",
                                                 f"static {key} go in `{key}:` at the top of the profile "
                                                 "(options are the launcher's settings)"))
            for qname, value in profile.query.items():
                if isinstance(value, Discovery) and value.endpoint not in seen:
                    file_problems.append(Problem(doc.file, doc.line(("query", qname)), f"query.{qname}.from.endpoint",
                                                 f"no endpoint with id {value.endpoint!r}"))
            if lint:
                file_problems += profile_lint(profile, root.parent)
            for n, setup in profile.setup.items():
                for i, request in enumerate(setup.requests):
                    if message := _check_path(request.path):
                        file_problems.append(Problem(doc.file, doc.line(("setup", n, "requests", i, "path")),
                                                     f"setup.{n}.requests[{i}].path", message))
            for key, per_endpoint in (("queries", profile.queries), ("bodies", profile.bodies),
                                      ("skip", profile.skip), ("setup", profile.setup)):
                for endpoint_id in per_endpoint:
                    if endpoint_id not in seen:
                        file_problems.append(Problem(doc.file, doc.line((key, endpoint_id)), f"{key}.{endpoint_id}",
                                                     f"no endpoint with id {endpoint_id!r}"))
            definition.targets[profile.name] = profile
        problems += file_problems


def _version_from_problems(doc: Located, found: VersionFrom, seen: dict[str, str]) -> list[Problem]:
    problems = []
    if found.endpoint not in seen:
        where = ("version_from", "endpoint")
        problems.append(Problem(doc.file, doc.line(where), dotted(where), f"no endpoint with id {found.endpoint!r}"))
    if found.pattern is not None:
        try:
            compile_linear(found.pattern)
        except PatternError as exc:
            where = ("version_from", "pattern")
            problems.append(Problem(doc.file, doc.line(where), dotted(where), str(exc)))
    return problems


# Pages the site generates beside the group pages of an API (apis/<api>/<name>.html): a group
# whose title makes the same page name would overwrite one of them.
RESERVED_GROUP_PAGES = frozenset({"index", "guide", "revocation"})


def group_page(title: str) -> str:
    """The page name of a group (the site's slug of its title)."""
    return slug(title)


def _group_clash(title: str, group_file: Path, groups: dict[str, tuple[str, str]]) -> str | None:
    """Why ``title`` cannot be a group here: it names a generated page, or another group's page."""
    page = group_page(title)
    if page in RESERVED_GROUP_PAGES:
        return (f"the group title {title!r} would make the page {page}.html, which the site generates "
                f"for every API ({', '.join(sorted(RESERVED_GROUP_PAGES))}): choose another title")
    other = groups.setdefault(page, (title, group_file.name))
    if other[1] != group_file.name:
        return f"the group title {title!r} makes the same page ({page}.html) as {other[0]!r} in {other[1]}"
    return None


def plugin_problems(definition: ApiDefinition, hooks: Any) -> list[Problem]:
    """What only the loaded plugins can tell: a scheme, a token state or a launcher that no plugin
    registers (``authcat run`` would otherwise show such a state as n/a on every target)."""
    api = definition.api
    problems = []

    def line(path: tuple) -> int:  # api.yaml is read again only to name the line of a problem
        return load(definition.files[0], api.source.file).line(path) if definition.files else 1

    if api.auth is None and api.scheme not in hooks.schemes:
        have = ", ".join(sorted(hooks.schemes))
        problems.append(Problem(api.source.file, line(("scheme",)), "scheme",
                                f"no auth scheme named {api.scheme!r} (have: {have}; or declare one as a mapping)"))
    known = list(hooks.states)
    for i, state in enumerate(api.states or ()):
        if state not in hooks.states:
            hint = difflib.get_close_matches(state, known, n=1, cutoff=0.6)
            suggestion = f", did you mean `{hint[0]}`?" if hint else f" (see `authcat states`: {', '.join(known)})"
            problems.append(Problem(api.source.file, line(("states", i)), f"states.{i}",
                                    f"no token state named {state!r}{suggestion}"))
    for profile in definition.targets.values():
        if profile.launcher and profile.launcher not in hooks.launchers:
            have = ", ".join(sorted(hooks.launchers))
            problems.append(Problem(profile.source.file, profile.lines.get("launcher", 1), "launcher",
                                    f"no target plugin named {profile.launcher!r} (have: {have})"))
    return problems


def _target(api: str, doc: Located) -> TargetProfile:
    d = doc.data
    params: dict[str, Any] = {}
    for name, value in (d.get("parameters") or {}).items():
        params[name] = Discovery(value["from"]["endpoint"], value["from"]["pointer"]) if isinstance(value, dict) else str(value)
    return TargetProfile(
        api=api,
        name=d["name"],
        launcher=d.get("launcher"),
        base_url=d.get("base_url"),
        base_url_env=d.get("base_url_env"),
        prefix=d.get("prefix", ""),
        credentials=d.get("credentials") or {},
        parameters=params,
        queries={k: {q: str(v) for q, v in (qs or {}).items()} for k, qs in (d.get("queries") or {}).items()},
        bodies={k: b for k, raw in (d.get("bodies") or {}).items() if (b := parse_body(raw)) is not None},
        skip={str(k): str(v) for k, v in (d.get("skip") or {}).items()},
        setup={str(k): Setup(
            set={str(n): str(v) for n, v in (raw.get("set") or {}).items()},
            requests=tuple(SetupRequest(r["method"], r["path"], parse_body(r.get("body")), dict(r.get("capture") or {}),
                                        literal_values(r.get("query")))
                           for r in raw.get("requests") or ()),
        ) for k, raw in (d.get("setup") or {}).items()},
        headers=literal_values(d.get("headers")),
        query=query_values(d.get("query")),
        concurrency=d.get("concurrency", 8),
        rate_limit=d.get("rate_limit"),
        timeout=float(d.get("timeout", 10.0)),
        retries=d.get("retries", 2),
        options=d.get("options") or {},
        version_from=VersionFrom(**d["version_from"]) if "version_from" in d else None,
        version=str(d["version"]) if "version" in d else None,
        description=d.get("description", ""),
        kind=d.get("kind"), models=d.get("models", ""),
        identities=d.get("identities"),
        source=Source(doc.file, 1),
        lines={dotted(path): line for path, line in doc.lines.items() if path},
    )


def _checked(path: Path, root: Path, kind: str, problems: list[Problem]) -> tuple[Located | None, list[Problem]]:
    """A definition file parsed and checked against its ``kind``'s schema: its parse and the
    schema's problems, or (None, []) when it does not parse as a mapping (the reasons are added to
    ``problems``). Bytes accepted before come parsed from the accepted store, unchecked again."""
    name = _rel(path, root)
    try:
        raw = read(path, name)
    except DefinitionError as exc:
        problems += exc.problems
        return None, []
    accepted = _accepted()
    if (known := accepted.get(kind, raw)) is not None and isinstance(known[0], dict):
        return Located(known[0], known[1], name), []
    try:
        doc = loads(decode(raw), name)
    except DefinitionError as exc:
        problems += exc.problems
        return None, []
    if not isinstance(doc.data, dict):
        problems.append(Problem(doc.file, 1, "", "the file must hold a mapping"))
        return None, []
    file_problems = schema_problems(doc, kind)
    if not file_problems:
        accepted.remember(kind, raw, doc.data, doc.lines)
    return doc, file_problems


_STORES: dict[Path | None, Accepted] = {}
# The rules that decide what is accepted: the parser's and this module's (an entry made under others is stale).
ACCEPTANCE_CODE = (Path(yamlfile.__file__ or ""), Path(__file__))


def _accepted() -> Accepted:
    """The accepted store of the user's cache folder, opened once per process and folder."""
    where = folder()
    if where not in _STORES:
        _STORES[where] = Accepted(where, ACCEPTANCE_CODE)
    return _STORES[where]


def load_all(root: Path, only: list[str] | None = None, lint: bool = False) -> dict[str, ApiDefinition]:
    """Load every API under ``root`` (or only the named ones), collecting problems across all."""
    problems: list[Problem] = []
    apis: dict[str, ApiDefinition] = {}
    if not root.is_dir():
        raise DefinitionError([Problem(str(root), 0, "", "no such folder")])
    if links := symlinks_out(root, root.parent):  # never read a contributed link out of the project
        raise DefinitionError(links)
    for api_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if only and api_dir.name not in only:
            continue
        try:
            apis[api_dir.name] = load_api(api_dir, root, lint)
        except DefinitionError as exc:
            problems += exc.problems
    if only:
        for name in set(only) - set(apis) - {p.file.split("/")[1] for p in problems if "/" in p.file}:
            problems.append(Problem(str(root / name), 0, "", f"no API named {name!r}"))
    if problems:
        raise DefinitionError(problems)
    return apis

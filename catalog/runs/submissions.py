"""Submissions: one run on a user's own tenant, made shareable (``authcat collect``).

A vendor's API can be observed only where someone holds a tenant and its tokens; the project
holds neither. Anyone may run the probe on their own tenant and submit the result, as MDN's
browser-compat collector does for browsers: the data says what was run, where (a *kind* of
place, never the place) and when; maintainers review it as a pull request adding
``site/data/submissions/<api>/<id>.json``; the catalog then counts each submission as a target of
kind ``vendor tenant``.

A submission keeps what a cell needs and nothing that names a person or a tenant. It is built
from an *allow-list*, not by deleting what is known to be private:

* the run's metadata: the vendor, the target version as the vendor reports it, the date, the
  authcat version (never the tenant URL: its origin is kept only as ``tenant``, an HMAC with a
  salt the contributor keeps, so that their own re-submission replaces the earlier one);
* per endpoint: method, path *template*, verdict, reason, and the endpoint's definition key
  computed from the template (:func:`catalog.engine.cache.template_key`), never from the URL
  the tenant's project or issue keys were filled into;
* per cell: outcome, note, status, content type, size, shape, item count, the allow-listed
  header values (other headers by presence only), field presence, error, and the request record
  with the tenant's origin as ``{API_BASE_URL}`` and each value discovered on the tenant as its
  parameter's placeholder (``{projectIdOrKey}``). Body hashes are replaced by labels keyed
  with a salt that is thrown away: equal answers within the submission stay equal (the answers
  compare them), but no hash can be matched against a guessed body.

Every string then passes a scrubber that knows the tenant's origin, host, the identities and the
values discovered on the tenant (project keys, issue keys); and before anything is written the
whole document is searched for every credential part of the run in every form the scrubber knows
(:func:`problems`), and the write refused on a hit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from catalog.model.observation import HEADER_PRESENCE_ONLY, HEADER_VALUES
from catalog.runs.results import TargetRun
from catalog.secrets import record
from catalog.secrets.scrub import REDACTED, Scrubber, views

FORMAT = 1
KIND = "vendor tenant"
FOLDER = "submissions"
BASE_URL = "{" + record.BASE_URL + "}"  # the request record's own placeholder for the base URL
PRESENT = "(present)"

# What a submission's run metadata may hold (everything else a run records is left out: the
# discovered parameter values, the profile key, the launcher's fixture names).
_META = ("vendor", "target_version", "version_source", "date", "authcat_version", "tenant", "probes",
         "duration_s", "stale")
_ENDPOINT = ("method", "path", "verdict", "reason")
_CELL = ("outcome", "note", "status", "content_type", "body_bytes", "shape", "count", "attempts", "truncated", "error")
# A signal field's value is kept when it is a code word (``M_UNKNOWN_TOKEN``, ``ok``) or a status-like
# number; an id (an account id is letters and digits) becomes "other".
_FIELD_VALUE = re.compile(r"^([A-Za-z_.:-]{1,64}|[0-9]{1,3})$")
_STATE = ("available", "reason", "family")
HEADER_KEPT = HEADER_VALUES - HEADER_PRESENCE_ONLY


def folder(data_dir: Path, api: str) -> Path:
    return data_dir / FOLDER / api


def paths(data_dir: Path, api: str | None = None) -> list[Path]:
    """The committed submission files (of one API, or of all)."""
    root = data_dir / FOLDER
    if not root.is_dir():
        return []
    pattern = f"{api}/*.json" if api else "*/*.json"
    return sorted(p for p in root.glob(pattern) if p.is_file() and not p.name.startswith("."))


def tenant_key(origin: str, salt: bytes) -> str:
    """The tenant as a submission names it: an HMAC of its origin with the contributor's own salt."""
    return hmac.new(salt, origin.lower().rstrip("/").encode(), hashlib.sha256).hexdigest()[:16]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class Private:
    """What a submission may never hold, known only on the contributor's machine."""

    base_url: str  # the tenant's URL as the profile resolved it (origin and any path prefix)
    identities: tuple[str, ...] = ()  # the emails / user names of every role
    discovered: Mapping[str, str] = field(default_factory=dict)  # name -> value found on the tenant (project, issue keys)

    @property
    def origin(self) -> str:
        return origin_of(self.base_url)

    def scrubber(self) -> Scrubber:
        """Redacts a string holding the origin, the host, an identity or a discovered value, in any
        encoding the scrubber knows (they are passed as identities: personal data, redacted whole)."""
        host = urlsplit(self.base_url).hostname or ""
        netloc = urlsplit(self.base_url).netloc
        return Scrubber([], [self.origin, netloc, host, *self.identities, *self.discovered.values()])


def _without_base(text: str, private: Private) -> str:
    """A URL of the tenant as ``{API_BASE_URL}/path``: the origin (plain or percent-encoded) replaced,
    and each value discovered on the tenant as its parameter's placeholder."""
    for needle in (private.base_url.rstrip("/"), private.origin):
        for form in (needle, quote(needle, safe="")):
            text = re.sub(re.escape(form), BASE_URL, text, flags=re.IGNORECASE)
    for name, value in sorted(private.discovered.items(), key=lambda kv: -len(kv[1])):
        for form in dict.fromkeys((quote(value, safe=""), quote_plus(value), value)):
            if form:
                text = text.replace(form, "{" + name + "}")
    return text


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value if name.lower() in HEADER_KEPT else PRESENT for name, value in headers.items()}


def _request(request: Mapping[str, Any], private: Private) -> dict[str, Any]:
    """The per-cell request record (placeholders for every credential part), off the tenant."""
    out: dict[str, Any] = {}
    for key, value in request.items():
        if key == "url" and isinstance(value, str):
            out[key] = _without_base(value, private)
        elif key == "headers" and isinstance(value, list):  # [name, value] pairs, credentials as placeholders
            out[key] = [[str(k), _without_base(str(v), private)] for k, v in value if isinstance(k, str)]
        elif key == "placeholders" and isinstance(value, Mapping):
            out[key] = {str(k): v for k, v in value.items() if isinstance(v, Mapping)}
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = _without_base(value, private) if isinstance(value, str) else value
    return out


def _cell(cell: Mapping[str, Any], labels: dict[str, str], salt: bytes, private: Private) -> dict[str, Any]:
    out = {k: cell[k] for k in _CELL if k in cell}
    if "headers" in cell:
        out["headers"] = _headers(cell["headers"])
    if "fields" in cell:
        out["fields"] = {p: v if _FIELD_VALUE.match(v) else "other" for p, v in cell["fields"].items()}
    if body_hash := cell.get("body_sha256"):
        # Equal within this submission (the answers compare valid, anonymous and bad answers), and
        # matchable against nothing else: the salt is not kept.
        out["body_sha256"] = labels.setdefault(body_hash, hmac.new(salt, body_hash.encode(), hashlib.sha256).hexdigest()[:16])
    if location := cell.get("location_origin"):
        out["location_origin"] = BASE_URL if origin_of(location) == private.origin or location == "same-origin" \
            else "another origin"
    if isinstance(cell.get("request"), Mapping):
        out["request"] = _request(cell["request"], private)
    return out


def build(run: TargetRun, *, vendor: str, tenant: str, keys: Mapping[str, str], private: Private) -> dict[str, Any]:
    """The submission of ``run`` (already sealed by the runner): allow-listed, off the tenant.

    ``keys``: endpoint id -> its template definition key (:func:`catalog.engine.cache.template_key`).
    """
    salt = secrets.token_bytes(32)  # for this submission's body labels only; never stored
    labels: dict[str, str] = {}
    data = run.to_dict()
    meta = {**data["run"], "vendor": vendor, "tenant": tenant}
    endpoints: dict[str, Any] = {}
    for endpoint_id, result in data["endpoints"].items():
        entry = {k: result[k] for k in _ENDPOINT if k in result}
        entry["definition"] = keys.get(endpoint_id, "")
        states = result.get("states") or {}
        if states:
            entry["states"] = {state: _cell(cell, labels, salt, private) for state, cell in states.items()}
        endpoints[endpoint_id] = entry
    doc: dict[str, Any] = {
        "submission": FORMAT,
        "api": run.api,
        "target": f"tenant-{tenant}",
        "kind": KIND,
        "run": {k: meta[k] for k in _META if k in meta},
        "states": {s: {k: v for k, v in info.items() if k in _STATE} for s, info in data["states"].items()},
        "endpoints": endpoints,
    }
    personal = private.scrubber()
    return personal.deep(doc)


# --- Searching a document for what must not be in it ----------------------------------------------

# Values authcat computes itself (the schema pins them to short hex) or copies from the definitions
# (lint compares the path with the endpoint's): left out of the opaque-run check.
_OWN = frozenset({"definition", "body_sha256", "tenant", "path"})
_OPAQUE = re.compile(r"[A-Za-z0-9+_=-]{24,}")
_FOLD = re.compile(r"\r?\n[ \t]*")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_AUTH = re.compile(r"(?i)\b(basic|bearer|token|digest)\s+[A-Za-z0-9+/_.=~-]{12,}")
# Token formats vendors publish (Atlassian API tokens, GitHub, Slack, Matrix access tokens, OpenAI-style keys).
_PREFIXED = re.compile(r"\b(ATATT[A-Za-z0-9_=-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|"
                       r"xox[abpr]-[A-Za-z0-9-]{10,}|syt_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9]{20,})")


def _opaque(run: str) -> bool:
    """A long run mixing letters and digits the way an encoded secret does (not a word, not a path)."""
    classes = sum(bool(re.search(p, run)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
    return classes >= 3 or (classes == 2 and bool(re.search("[0-9]", run)) and len(set(run)) >= 12)


@lru_cache(maxsize=1 << 16)  # the same shapes, headers and notes recur in every cell and file
def _shaped(text: str) -> str | None:
    found = views(text)  # the scrubber's decodings (a token percent-encoded byte by byte is no run until decoded)
    if found is None:
        return "an encoding that does not settle"
    # MIME-folded base64 (a line break every few characters) is one run once unfolded.
    found |= {_FOLD.sub("", v) for v in found if "\n" in v}
    for view in sorted(found, key=len):
        if _AUTH.search(view):
            return "an Authorization value"
        if _JWT.search(view):
            return "a JWT"
        if _PREFIXED.search(view):
            return "a vendor token format"
        if any(_opaque(r) for r in _OPAQUE.findall(view)):
            return "a long opaque run"
    return None


_SCALARS = frozenset({int, float, bool, type(None)})  # json.loads' other leaves: no string in them


def _strings(value: Any, key: str | None = None, out: dict | None = None) -> dict[tuple[str | None, str], None]:
    """Every distinct (key, string) of a JSON-like value, first seen first: a key with None, a
    string with the key it is under. One dict filled by one walk that tests the types json.loads
    makes before any ABC (most of lint's and collect's check time on a large submission was this
    walk; its 74,000 strings are 2,200 distinct ones)."""
    if out is None:
        out = {}
    kind = type(value)
    if kind is dict or (kind is not list and kind is not str and isinstance(value, Mapping)):
        for k, v in value.items():
            if type(k) is not str:
                k = str(k)
            out[(None, k)] = None
            kind = type(v)
            if kind is str:
                out[(k, v)] = None
            elif kind is dict or kind is list or (kind not in _SCALARS and isinstance(v, (Mapping, list, str))):
                _strings(v, k, out)
    elif kind is list:
        for v in value:
            kind = type(v)
            if kind is str:
                out[(key, v)] = None
            elif kind is dict or kind is list or (kind not in _SCALARS and isinstance(v, (Mapping, list, str))):
                _strings(v, key, out)
    elif isinstance(value, str):
        out[(key, value)] = None
    return out


def looks_like_credential(doc: Any, strings: Mapping[tuple[str | None, str], None] | None = None) -> list[str]:
    """Where a document holds something shaped like a credential (no secret needed to see it):
    an Authorization value, a JWT, a vendor's token format, or a long opaque run. Never quotes it.
    ``strings``: the document's :func:`_strings`, when the caller walked it already."""
    found: list[str] = []
    for key, text in _strings(doc) if strings is None else strings:  # each distinct (key, string) once, first seen first
        if key in _OWN or text == REDACTED:
            continue
        what = _shaped(text)
        if what and (line := f"{what} in {('the value of ' + repr(key)) if key else 'a key'}") not in found:
            found.append(line)
    return found


def problems(text: str, credentials: Scrubber, private: Private | None = None) -> list[str]:
    """Why a submission (as the text to be written) must not be shared: a credential part of the
    run in any form the scrubber knows, the tenant's origin, an identity or a value discovered on
    the tenant, or anything shaped like a credential. Empty when it may be written. The messages
    never quote what was found."""
    out = []
    doc = json.loads(text)
    # Every distinct key and string of the file as it will be read (but authcat's own hashes).
    pairs = _strings(doc)
    strings = {s for key, s in pairs if key not in _OWN or key == "path"}
    if any(credentials(s) != s for s in strings):  # __call__ remembers the strings it has checked
        out.append("it holds a credential part of this run (in some encoding)")
    personal = private.scrubber() if private is not None else None
    if personal is not None and any(personal(s) != s for s in strings):
        out.append("it holds the tenant's address, an identity, or a value discovered on the tenant")
    out += looks_like_credential(doc, pairs)
    return out


# --- Revocation latency measured on one's own tenant ----------------------------------------------

REVOCATION = "revocation"  # site/data/submissions/<api>/revocation/<id>.json
MEASUREMENT_FIELDS = ("endpoint", "method", "path", "date", "interval_s", "max_wait_s", "baseline", "from_outcome",
                "to_outcome", "first_changed_after_s", "last_unchanged_after_s", "settled", "polls", "noise",
                "transitions", "target_version", "authcat_version", "revoked_by")


def revocation(measurement: Mapping[str, Any], api: str, tenant: str, private: Private) -> dict[str, Any]:
    """A ``watch-revocation`` measurement made shareable: the tenant as its key, nothing else of it."""
    kept = {k: measurement[k] for k in MEASUREMENT_FIELDS if k in measurement}
    doc = {"submission": FORMAT, "api": api, "target": f"tenant-{tenant}", "kind": KIND, REVOCATION: kept}
    return private.scrubber().deep(doc)


def revocation_paths(data_dir: Path, api: str | None = None) -> list[Path]:
    root = data_dir / FOLDER
    if not root.is_dir():
        return []
    pattern = f"{api}/{REVOCATION}/*.json" if api else f"*/{REVOCATION}/*.json"
    return sorted(p for p in root.glob(pattern) if p.is_file() and not p.name.startswith("."))


def revocations(data_dir: Path, api: str) -> list[dict[str, Any]]:
    """The submitted measurements of ``api`` as the revocation page shows them (kind, tenant key)."""
    out = []
    for path in revocation_paths(data_dir, api):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out.append({**doc[REVOCATION], "api": api, "target": doc["target"], "kind": KIND})
    return out


def salt(env: Mapping[str, str], config_home: Path) -> bytes:
    """The contributor's own salt for the tenant key: ``$AUTHCAT_TENANT_SALT``, else a random one
    kept in their config folder (never in the repository), made on first use."""
    if value := env.get(SALT_ENV):
        return value.encode()
    path = config_home / "authcat" / "tenant-salt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


SALT_ENV = "AUTHCAT_TENANT_SALT"


def read(path: Path) -> TargetRun:
    """A submission as a run of a target of kind ``vendor tenant`` (named ``tenant-<key>``)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    run = TargetRun.from_dict(doc)
    run.meta = {**run.meta, "kind": KIND, "submission": path.stem}
    return run

"""Cache keys: when a stored cell can be reused, re-judged, or must be probed again.

Every endpoint result carries two keys, and the run it belongs to carries the target's version:

* ``definition`` — everything in the definitions that changes *what is sent and what is kept of
  the answer*: the endpoint's method, URL (with its parameters), query, collection and actor
  pointers; the API file's request-side fields (scheme, states, envelope, volatile fields, and any
  field a plugin or a later version adds: static headers, declared schemes …); and
  :data:`OBSERVATION_FORMAT`. Documentation-only fields (titles, summaries, docs links, reports,
  source lines) are left out, so editing a sentence re-probes nothing.
* ``judged`` — everything the classification of stored observations depends on: authcat's version,
  the classifier plugins and their versions, the token states and their families, and the whole
  endpoint and API definitions.

The run carries the target's side: its version and ``profile``, a key of the target profile
(credential references, launcher options, parameters; not its pace: concurrency, rate, timeout).

A cell is reused as it is when both keys, the profile key and the target version match; re-judged from its stored
observations (no request) when only ``judged`` differs; probed again otherwise. The same two keys
attribute a changed cell (``catalog.runs.diff``): equal keys mean the *server* answered differently
(drift — also across target versions or two targets of one API); a different key means the
definition or the classifier changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any
from urllib.parse import urlsplit

from catalog import __version__
from catalog.model.definition import Api, Endpoint, TargetProfile
from catalog.model.judgement import OUTCOMES

# Bump when ``catalog.model.observation``/``catalog.engine.probe`` change what an observation keeps (its summary of
# an answer); the classifier's inputs are covered by ``judged`` instead.
OBSERVATION_FORMAT = 2

_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
_API_DOCS = frozenset({"title", "docs", "description", "reported", "source"})
_ENDPOINT_DOCS = frozenset({"summary", "docs", "documented", "reported", "notes", "source", "group",
                            "collection_guessed", "api", "id"})
# How fast, how patiently and how politely a target is probed does not change its answers (a cell
# that timed out is an ``error`` and is probed again anyway when asked with --refresh).
_PROFILE_PACE = frozenset({"description", "kind", "models", "source", "concurrency", "rate_limit", "timeout", "retries", "api", "name"})


def _plain(value: Any) -> Any:
    """A JSON-able form of definitions (frozen dataclasses, mappings, tuples) for hashing."""
    if value is None or type(value) in (str, int, float, bool):  # most values: the leaves, first
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _names(type(value)) if name not in _LOCATION}
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if callable(value):  # a plugin's encoder: its name (its code is covered by authcat's/the plugin's version)
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', type(value).__name__)}"
    return _ADDRESS.sub("", repr(value))  # never a memory address: keys must be equal across processes


# Where a definition sits in its file (for error messages) is never part of a key.
_LOCATION = frozenset({"source", "lines"})


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, looked up once per class (every cell's keys walk the same few)."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _fields(obj: Any, leave_out: frozenset[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in _names(type(obj))
            if name not in leave_out and name not in _LOCATION}


def _digest(stuff: Any) -> str:
    return hashlib.sha256(json.dumps(stuff, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def api_request_part(api: Api) -> dict[str, Any]:
    """The API file's fields that change what is sent or kept (computed once per API)."""
    return _fields(api, _API_DOCS)


def profile_key(profile: TargetProfile) -> str:
    """The target profile's part of the cache key, kept with the run."""
    return _digest(_fields(profile, _PROFILE_PACE))


def definition_key(endpoint: Endpoint, url: str | None, api_part: dict[str, Any]) -> str:
    """What was sent and how its answer was summarised; the target's side is compared apart."""
    parts = urlsplit(url) if url else None
    return _digest({
        "endpoint": _fields(endpoint, _ENDPOINT_DOCS),
        "url_path": f"{parts.path}?{parts.query}" if parts else None,  # the origin changes per launch
        "api": api_part,
        "observation_format": OBSERVATION_FORMAT,
    })


def template_key(endpoint: Endpoint, api_part: dict[str, Any]) -> str:
    """The definition key of what a definition asks for, before any target fills it in: the
    endpoint's path template, never a URL holding a tenant's project or issue key. A submission
    records it (``catalog.runs.submissions``) and ``lint`` compares it with the current definitions."""
    return _digest({
        "endpoint": _fields(endpoint, _ENDPOINT_DOCS),
        "api": api_part,
        "observation_format": OBSERVATION_FORMAT,
    })


def classifier_fingerprint(hooks: Any) -> dict[str, Any]:
    """authcat's version, the plugins that classify (with their distributions' versions), and the
    token states with their families: what a judgement depends on besides the definitions."""
    pm = hooks.pm
    dists = {id(plugin): f"{dist.project_name} {dist.version}" for plugin, dist in pm.list_plugin_distinfo()}
    classifiers = [
        f"{impl.plugin_name} {dists.get(id(impl.plugin), 'built-in')}"
        for impl in pm.hook.authcat_classify.get_hookimpls()
    ]
    states = {name: [getattr(state, "family", None), state.order] for name, state in hooks.states.items()}
    # The outcome vocabulary the built-in rules judge with: a new outcome (``ignored``) re-judges
    # every cell and is attributed to the classifier, never to the servers, within one version.
    return {"authcat": __version__, "classifiers": classifiers, "states": states, "outcomes": list(OUTCOMES)}


def judged_key(endpoint: Endpoint, api_whole: dict[str, Any], classifier: dict[str, Any]) -> str:
    return _digest({
        "endpoint": _fields(endpoint, frozenset({"source"})),
        "api": api_whole,
        "classifier": classifier,
    })


def api_whole(api: Api) -> dict[str, Any]:
    return _fields(api, frozenset({"source"}))

"""A target's version, never blank (design.md: provenance on every observed cell).

Where it comes from, first found wins: the launcher (it started the server, it knows), what the
server states as the profile's ``version_from`` says — a JSON field (``pointer``), a response
header (``header``) or a pattern in the body, HTML included (``pattern``) — then a literal
``version`` in the profile. When none gives one, the version is ``unknown`` and the source says
why, so a reader never sees a blank where a version belongs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from catalog.definitions.patterns import PatternError, compile_linear
from catalog.model.credentials import Presentation
from catalog.model.definition import VersionFrom
from catalog.model.observation import parse_json, resolve_pointer
from catalog.model.vocabulary import State

if TYPE_CHECKING:
    from catalog.engine.plan import Plan
    from catalog.engine.probe import Prober

UNKNOWN = "unknown"
MAX_VERSION = 80
_PRINTABLE = re.compile(r"[^ -~]")


def clean(value: object, prober: Prober) -> str | None:
    """A version as shown: scrubbed (it comes from the server), printable, bounded; None if empty."""
    text = _PRINTABLE.sub("", prober.scrub(str(value))).strip()[:MAX_VERSION]
    return text or None


async def stated(plan: Plan, found: VersionFrom, prober: Prober) -> tuple[str | None, str]:
    """What the server states at ``found``, with a source line naming where (or why nothing)."""
    endpoint = plan.definition.endpoint(found.endpoint)
    url = plan.url(endpoint) if endpoint else None
    where = f"{endpoint.method} {endpoint.path}" if endpoint else found.endpoint
    if url is None:
        return None, f"{found.endpoint} cannot be requested on this target"
    valid = plan.states.get(State.VALID)
    answer = await prober.fetch(*plan.request(url, valid or Presentation()))
    if answer is None:
        return None, f"{where} did not answer"
    status, headers, body = answer
    if found.header:
        value = headers.get(found.header.lower())
        return (clean(value, prober) if value else None), f"header {found.header} of {where}"
    if found.pattern:
        # A contributor's regex over a hostile body: RE2 (linear time), the first 64 KiB only.
        try:
            match = compile_linear(found.pattern).search(body[:65536].decode("utf-8", "replace"))
        except PatternError:
            return None, f"version_from.pattern of {where} cannot run in linear time"
        value = (match.group(1) if match.groups() else match.group(0)) if match else None
        return (clean(value, prober) if value else None), f"pattern in the body of {where}"
    try:
        value = resolve_pointer(parse_json(body), found.pointer or "")  # depth-bounded
    except (KeyError, ValueError):  # absent, or the body is not JSON
        return None, f"{where} has no JSON field {found.pointer} (status {status})"
    if isinstance(value, (dict, list)) or value is None:
        return None, f"{where}'s field {found.pointer} is not a version"
    return clean(value, prober), f"field {found.pointer} of {where}"


async def resolve_version(plan: Plan, prober: Prober) -> None:
    """Set ``plan.target.version`` and ``version_source``; never leaves the version blank."""
    target = plan.target
    profile = target.profile
    if target.version:
        target.version_source = target.version_source or ("launcher " + profile.launcher if profile.launcher else "target")
        return
    misses = []
    if profile.version_from is not None:
        value, source = await stated(plan, profile.version_from, prober)
        if value:
            target.version, target.version_source = value, source
            return
        misses.append(f"nothing found in the {source}")
    if profile.version:
        target.version, target.version_source = profile.version, "the target profile (version:)"
        return
    if not profile.version_from:
        misses.append("the profile has no version_from or version" + (", and the launcher reported none" if profile.launcher else ""))
    target.version, target.version_source = UNKNOWN, "unknown: " + "; ".join(misses)

"""Turn target profiles into running targets: launch local servers, resolve credential references.

A profile with ``launcher: NAME`` is started by the target plugin registered under NAME; one
launch is shared by every API that names the same launcher (Backlot serves Jira and Confluence).
A profile without a launcher points at a remote server whose URL and credentials come from
environment variables or files; roles whose references are unset are simply not available.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import Credential, Credentials, Endpoint, RunningTarget, TargetProfile


class TargetError(Exception):
    """A target could not be prepared (server failed to start, configuration missing)."""


@dataclass
class LaunchContext:
    """What a launcher gets: where to keep cached and scratch files, and its profile options."""

    name: str
    cache_dir: Path  # kept between runs (e.g. a prepared corpus)
    scratch_dir: Path  # removed after the run
    options: Mapping[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = lambda message: None


@dataclass
class Launched:
    """A started server. ``credentials`` are read at run time and never written anywhere.

    ``serves(method, path_template)`` answers whether the server implements an operation, where it
    can tell (path parameters are compared by position, not name); None means "probe and see".
    ``unavailable`` names token states the server cannot provide, with the reason.
    """

    base_url: str  # e.g. http://127.0.0.1:54321 (the profile's prefix is appended per API)
    version: str | None
    credentials: Credentials
    serves: Callable[[str, str], bool] | None = None
    unavailable: Mapping[str, str] = field(default_factory=dict)


Launcher = Callable[[LaunchContext], contextlib.AbstractContextManager[Launched]]

_PARAM = re.compile(r"{[^}/]+}")


def path_shape(path: str) -> str:
    """``/issue/{issueIdOrKey}`` and ``/issue/{key}`` have the same shape ``/issue/{}``."""
    return _PARAM.sub("{}", path.rstrip("/") or "/")


def resolve_ref(ref: Mapping[str, str] | None, base: Path) -> str | None:
    """The value behind ``{env: NAME}`` or ``{file: path}``, or None when it is unset or missing."""
    if not ref:
        return None
    if "env" in ref:
        return os.environ.get(ref["env"]) or None
    path = Path(os.path.expanduser(ref["file"]))
    path = path if path.is_absolute() else base / path
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def profile_credentials(profile: TargetProfile, base: Path) -> tuple[Credentials, dict[str, str]]:
    """The credentials a profile's references resolve to, and for each unresolved role, why."""
    creds = Credentials()
    missing: dict[str, str] = {}
    for role, refs in profile.credentials.items():
        secret = resolve_ref(refs.get("secret"), base) if "secret" in refs else ""
        identity = resolve_ref(refs.get("identity"), base)
        if secret is None or ("secret" not in refs and identity is None):
            unset = [_describe(r) for r in (refs.get("secret"), refs.get("identity")) if r and resolve_ref(r, base) is None]
            missing[role] = f"set {' and '.join(unset)}"
            continue
        creds.roles[role] = Credential(secret=secret, identity=identity)
    return creds, missing


def _describe(ref: Mapping[str, str]) -> str:
    return ref["env"] if "env" in ref else f"the file {ref['file']}"


def profile_base_url(profile: TargetProfile) -> str | None:
    if profile.base_url_env:
        return os.environ.get(profile.base_url_env) or None
    return profile.base_url


def is_ready(profile: TargetProfile, base: Path) -> tuple[bool, str]:
    """Whether a profile can be probed now, and if not, why (shown by ``authcat targets``)."""
    if profile.launcher:
        return True, f"started locally by the {profile.launcher!r} plugin"
    if not profile_base_url(profile):
        return False, f"set {profile.base_url_env} to the server's URL" if profile.base_url_env else "no base_url"
    if "valid" not in profile_credentials(profile, base)[0].roles:
        ref = profile.credentials.get("valid", {}).get("secret", {})
        return False, f"set {ref.get('env') or ref.get('file') or 'a valid credential'}"
    return True, "configured from the environment"


class TargetPool:
    """Starts each launcher at most once per run and stops them all when the run ends."""

    def __init__(self, launchers: Mapping[str, Launcher], cache_root: Path, scratch_root: Path, log=print):
        self._launchers = launchers
        self._cache_root = cache_root
        self._scratch_root = scratch_root
        self._log = log
        self._stack = contextlib.ExitStack()
        self._started: dict[str, Launched] = {}

    def __enter__(self) -> TargetPool:
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def running(self, profile: TargetProfile, endpoints_root: Path) -> RunningTarget:
        if profile.launcher:
            launched = self._launch(profile)
            base = launched.base_url.rstrip("/") + profile.prefix
            serves = launched.serves
            return RunningTarget(
                profile=profile,
                base_url=base,
                version=launched.version,
                credentials=launched.credentials,
                serves=(lambda e: serves(e.method, profile.prefix + e.path)) if serves else None,
                extra_states=dict(launched.unavailable),
            )
        url = profile_base_url(profile)
        if not url:
            raise TargetError(f"{profile.source}: target {profile.name!r} has no base URL")
        credentials, missing = profile_credentials(profile, endpoints_root.parent)
        return RunningTarget(
            profile=profile,
            base_url=url.rstrip("/") + profile.prefix,
            version=None,
            credentials=credentials,
            # A role left unset makes its state n/a, saying which variable to set.
            extra_states={role: why for role, why in missing.items() if role != "other"},
        )

    def _launch(self, profile: TargetProfile) -> Launched:
        name = profile.launcher
        assert name
        # Profiles that differ in options (e.g. another interpreter's Datasette) need their own server.
        key = f"{name} {json.dumps(profile.options, sort_keys=True, default=str)}"
        if key in self._started:
            return self._started[key]
        if name not in self._launchers:
            raise TargetError(f"{profile.source}: no target plugin named {name!r} (see `authcat targets`)")
        cache = self._cache_root / name
        scratch = self._scratch_root / (name if not self._started else f"{name}-{len(self._started)}")
        cache.mkdir(parents=True, exist_ok=True)
        scratch.mkdir(parents=True, exist_ok=True)
        ctx = LaunchContext(name=name, cache_dir=cache, scratch_dir=scratch, options=profile.options, log=self._log)
        launched = self._stack.enter_context(self._launchers[name](ctx))
        self._started[key] = launched
        return launched


def served_by(target: RunningTarget, endpoint: Endpoint) -> bool | None:
    return target.serves(endpoint) if target.serves else None

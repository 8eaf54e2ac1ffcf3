"""The launcher contract: what a target plugin registers (:class:`Launcher`), what it is given
(:class:`LaunchContext`) and what it hands back (:class:`Launched`, :class:`Revocable`), plus the
helpers launchers share (the installed version, the interpreter to run, path shapes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from catalog.model.credentials import Credential, Credentials
from catalog.model.definition import FreshFn
from catalog.model.errors import TargetError


@dataclass
class LaunchContext:
    """What a launcher gets: where to keep cached and scratch files, and its profile options."""

    name: str
    cache_dir: Path  # kept between runs (e.g. a prepared corpus)
    scratch_dir: Path  # exists; removed after the run (never make its parent again: the run may be over)
    options: Mapping[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = lambda message: None


@dataclass
class Revocable:
    """A fresh credential a launcher issued to be revoked, and the call that revokes it."""

    credential: Credential
    revoke: Callable[[], None]
    how: str  # what revoke() does, in words: "POST /logout", "admin API deactivation"


@dataclass
class Launched:
    """A started server. ``credentials`` are read at run time and never written anywhere.

    ``serves(method, path_template)`` answers whether the server implements an operation, where it
    can tell (path parameters are compared by position, not name); None means "probe and see".
    ``unavailable`` names token states the server cannot provide, with the reason.
    ``parameters`` are path parameter values the launcher made (room ids, event ids): fixtures
    that exist only once the server runs. A literal value in the target profile wins.
    ``revocations`` name the ways this server can revoke a token (``logout``, ``deactivate``):
    each call issues a fresh token for ``authcat watch-revocation`` and says how to revoke it.
    ``settings`` are the server's non-default settings that change what is observed, each with
    its value and why it matters (``allow_public_rooms_without_auth``: "true: …"): the run keeps
    them, and every "observed" label and the export show them.
    """

    base_url: str  # e.g. http://127.0.0.1:54321 (the profile's prefix is appended per API)
    version: str | None
    credentials: Credentials
    serves: Callable[[str, str], bool] | None = None
    unavailable: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    revocations: Mapping[str, Callable[[], Revocable]] = field(default_factory=dict)
    settings: Mapping[str, str] = field(default_factory=dict)
    # ``fresh(role)``: a new credential for ``role`` (another login of the same user), so that a
    # destructive probe (a logout) spends its own token, never the one every other cell uses.
    fresh: FreshFn | None = None


StartFn = Callable[[LaunchContext], AbstractContextManager[Launched]]
VersionFn = Callable[[LaunchContext], "str | None"]


@dataclass(frozen=True)
class Launcher:
    """A target plugin's launcher, as registered with ``authcat_register_targets``.

    ``start(ctx)`` returns a context manager that starts the server, yields :class:`Launched` and
    stops the server on exit (also on errors and Ctrl-C). It is called from a worker thread while
    other launchers start beside it, so it must not rely on being in the main thread (no signal
    handlers) and must keep its files under ``ctx.cache_dir`` / ``ctx.scratch_dir``.

    ``version(ctx)``, optional, returns the version the started server would report (e.g. the
    installed distribution's version), *without starting anything*, or None when only a started
    server can tell. It must equal ``Launched.version``: cached cells are keyed on it, and a run
    whose cells are all current for that version starts no server at all.

    A bare callable registered in place of a Launcher is its ``start`` (version unknown until
    started).
    """

    start: StartFn
    version: VersionFn | None = None

    def __call__(self, ctx: LaunchContext) -> AbstractContextManager[Launched]:
        return self.start(ctx)

    @classmethod
    def of(cls, registered: Launcher | StartFn) -> Launcher:
        return registered if isinstance(registered, Launcher) else cls(start=registered)

def installed_version(distribution: str, python: str | None = None) -> str | None:
    """A distribution's installed version, for a launcher's ``version(ctx)``: from this environment,
    or from another interpreter's (``python``, one short subprocess); None when it is not installed."""
    if python is None or python == sys.executable:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            return None
    code = f"from importlib.metadata import version; print(version({distribution!r}))"
    try:
        got = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return (got.stdout.strip() or None) if got.returncode == 0 else None


_PARAM = re.compile(r"{[^}/]+}")


def option_python(options: Mapping[str, Any], plugin: str) -> str:
    """The interpreter a launcher runs its server with: ``options.python`` (another environment's,
    whose server version is then that environment's), else this one."""
    python = options.get("python")
    if not python:
        return sys.executable
    path = Path(os.path.expanduser(str(python)))
    if not path.exists():
        raise TargetError(f"{plugin}: options.python {str(path)!r} does not exist")
    return str(path)


def path_shape(path: str) -> str:
    """``/issue/{issueIdOrKey}`` and ``/issue/{key}`` have the same shape ``/issue/{}``."""
    return _PARAM.sub("{}", path.rstrip("/") or "/")

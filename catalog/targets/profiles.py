"""Turn target profiles into running targets: launch local servers, resolve credential references.

A profile with ``launcher: NAME`` is started by the target plugin registered under NAME; one
launch is shared by every API that names the same launcher (Backlot serves Jira and Confluence).
A profile without a launcher points at a remote server whose URL and credentials come from
environment variables or files; roles whose references are unset are simply not available.

Starting a server costs seconds, so the runner starts one only when a plan has probes (a launcher
that can state its version without starting lets a run whose cells are all current start
nothing), and starts every needed server at once (:meth:`TargetPool.start`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from catalog.model.errors import Problem, TargetError
from catalog.model.vocabulary import Credential, Credentials, RunningTarget, State, TargetProfile
from catalog.secrets import binding
from catalog.targets.process import LaunchScope


@dataclass
class LaunchContext:
    """What a launcher gets: where to keep cached and scratch files, and its profile options."""

    name: str
    cache_dir: Path  # kept between runs (e.g. a prepared corpus)
    scratch_dir: Path  # removed after the run
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
    """

    base_url: str  # e.g. http://127.0.0.1:54321 (the profile's prefix is appended per API)
    version: str | None
    credentials: Credentials
    serves: Callable[[str, str], bool] | None = None
    unavailable: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    revocations: Mapping[str, Callable[[], Revocable]] = field(default_factory=dict)


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


class SecretRefError(ValueError):
    """A secret reference that may not be read (symlink, device, inside the repository, too big)."""


MAX_SECRET_BYTES = 64 * 1024
_FORBIDDEN_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))


def ref_path(ref: Mapping[str, str], base: Path) -> Path:
    path = Path(os.path.expanduser(ref["file"]))
    return path if path.is_absolute() else base / path


def static_ref_problem(ref: Mapping[str, str], base: Path) -> str | None:
    """What is wrong with a ``{file: …}`` reference whatever is on disk (for the lint), or None."""
    path = Path(os.path.normpath(ref_path(ref, base)))
    if any(path == r or r in path.parents for r in _FORBIDDEN_ROOTS):
        return f"{ref['file']} is under /proc, /sys or /dev: a secret is a regular file"
    resolved_base = base.resolve()
    for candidate in (path, Path(os.path.realpath(path))):
        if candidate == resolved_base or resolved_base in candidate.parents or base in candidate.parents:
            return (f"{ref['file']} is inside the repository: a secret file lives outside it "
                    "(the checkout is contributed, untrusted content)")
    return None


def _read_secret_file(ref: Mapping[str, str], base: Path) -> str | None:
    """A regular file outside the repository, read with a size bound; None when it is missing."""
    if why := static_ref_problem(ref, base):
        raise SecretRefError(why)
    path = ref_path(ref, base)
    try:
        # O_NOFOLLOW: a symlink is refused by the kernel, not by a check that could race;
        # O_NONBLOCK: opening a FIFO does not hang (it is then refused as not a regular file).
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SecretRefError(f"{ref['file']} is a symlink: point at the file itself") from None
        raise SecretRefError(f"{ref['file']} cannot be read: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SecretRefError(f"{ref['file']} is not a regular file (a device, FIFO or folder)")
        data = os.read(fd, MAX_SECRET_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_SECRET_BYTES:
        raise SecretRefError(f"{ref['file']} is larger than {MAX_SECRET_BYTES:,} bytes: not a secret")
    return data.decode("utf-8", errors="replace").strip() or None


def resolve_ref(ref: Mapping[str, str] | None, base: Path) -> str | None:
    """The value behind ``{env: NAME}`` or ``{file: path}``, or None when it is unset or missing.

    Raises :class:`SecretRefError` for a file that may not be read (see ``_read_secret_file``).
    """
    if not ref:
        return None
    if "env" in ref:
        return os.environ.get(ref["env"]) or None
    return _read_secret_file(ref, base)


def unsendable(value: str | None, secret: bool) -> bool:
    """A value that cannot go into a header: a control character, or (for a secret) non-ASCII."""
    return value is not None and any(ord(c) < 32 or ord(c) == 127 or (secret and ord(c) > 126) for c in value)


def profile_credentials(profile: TargetProfile, base: Path) -> tuple[Credentials, dict[str, str]]:
    """The credentials a profile's references resolve to, and for each unresolved role, why.

    A reason never shows a character of a secret. Raises :class:`SecretRefError` naming the
    profile's file, line and field for a file reference that may not be read.
    """
    creds = Credentials()
    missing: dict[str, str] = {}
    for role, refs in profile.credentials.items():
        values: dict[str, str | None] = {}
        for part in ("secret", "identity"):
            try:
                values[part] = resolve_ref(refs.get(part), base)
            except SecretRefError as exc:
                where = f"credentials.{role}.{part}"
                raise SecretRefError(f"{profile.source.file}:{profile.lines.get(where, 1)}: {where}: {exc}") from None
        secret = values["secret"] if "secret" in refs else ""
        identity = values["identity"]
        if secret is None or ("secret" not in refs and identity is None):
            unset = [_describe(refs[p]) for p in ("secret", "identity") if refs.get(p) and values[p] is None]
            missing[role] = f"set {' and '.join(unset)}"
            continue
        bad = [_describe(refs[p]) for p in ("secret", "identity") if refs.get(p) and unsendable(values[p], p == "secret")]
        if bad:
            missing[role] = (f"the value of {' and '.join(bad)} has a control or non-ASCII character: "
                             "it cannot be sent in a header")
            continue
        creds.roles[role] = Credential(secret=secret, identity=identity)
    return creds, missing


def _describe(ref: Mapping[str, str]) -> str:
    return ref["env"] if "env" in ref else f"the file {ref['file']}"


def profile_base_url(profile: TargetProfile) -> str | None:
    if profile.base_url_env:
        return os.environ.get(profile.base_url_env) or None
    return profile.base_url


def profile_lint(profile: TargetProfile, base: Path) -> list[Problem]:
    """Every binding or secret-reference rule the profile breaks (``authcat lint`` reports them)."""
    problems = binding.profile_problems(profile, profile.lines)
    for role, part, _ in binding.credential_refs(profile):
        ref = profile.credentials[role][part]
        if "file" in ref and (why := static_ref_problem(ref, base)):
            where = f"credentials.{role}.{part}"
            problems.append(Problem(profile.source.file, profile.lines.get(where, 1), where, why))
    return problems


def profile_problem(profile: TargetProfile, base: Path) -> str | None:
    """The first problem of :func:`profile_lint` as ``file:line: field: message``, or None."""
    problems = profile_lint(profile, base)
    return str(problems[0]) if problems else None


def is_ready(profile: TargetProfile, base: Path) -> tuple[bool, str]:
    """Whether a profile can be probed now, and if not, why (shown by ``authcat targets``)."""
    if problem := profile_problem(profile, base):
        return False, problem
    if profile.launcher:
        return True, f"started locally by the {profile.launcher!r} plugin"
    url = profile_base_url(profile)
    if not url:
        return False, f"set {profile.base_url_env} to the server's URL" if profile.base_url_env else "no base_url"
    if why := binding.runtime_problem(profile, url):
        return False, why
    try:
        creds, missing = profile_credentials(profile, base)
    except SecretRefError as exc:
        return False, str(exc)
    if State.VALID not in creds.roles:
        ref = profile.credentials.get(State.VALID, {}).get("secret", {})
        return False, missing.get(State.VALID) or f"set {ref.get('env') or ref.get('file') or 'a valid credential'}"
    return True, "configured from the environment"


class TargetPool:
    """Starts each launcher at most once per run, several at once, and stops them all at the end.

    ``timings`` records each launch's start time in seconds (the benchmark compares a parallel
    refresh with the slowest single start).
    """

    def __init__(self, launchers: Mapping[str, Launcher | StartFn], cache_root: Path, scratch_root: Path,
                 log: Callable[[str], None] = print):
        self._launchers = {name: Launcher.of(item) for name, item in launchers.items()}
        self._cache_root = cache_root
        self._scratch_root = scratch_root
        self._log = log
        self._stack = contextlib.ExitStack()
        self._started: dict[str, Launched] = {}
        self._contexts: dict[str, LaunchContext] = {}
        self._failed: dict[str, str] = {}  # launcher key -> why it did not start (never retried in a run)
        self._scope = LaunchScope()  # every process the launches start, to cancel them on an interrupt
        self.timings: dict[str, float] = {}

    def __enter__(self) -> TargetPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @staticmethod
    def _key(profile: TargetProfile) -> str:
        # Profiles that differ in options (e.g. another interpreter's Datasette) need their own server.
        return f"{profile.launcher} {json.dumps(profile.options, sort_keys=True, default=str)}"

    def _launcher(self, profile: TargetProfile) -> Launcher:
        if profile.launcher not in self._launchers:
            raise TargetError(f"{profile.source}: no target plugin named {profile.launcher!r} (see `authcat targets`)")
        return self._launchers[profile.launcher]

    def _context(self, profile: TargetProfile) -> LaunchContext:
        key = self._key(profile)
        if key not in self._contexts:
            name = profile.launcher
            assert name
            cache = self._cache_root / name
            n = len(self._contexts)
            scratch = self._scratch_root / (name if not n else f"{name}-{n}")
            cache.mkdir(parents=True, exist_ok=True)
            scratch.mkdir(parents=True, exist_ok=True)
            self._contexts[key] = LaunchContext(name=name, cache_dir=cache, scratch_dir=scratch,
                                                options=profile.options, log=self._log)
        return self._contexts[key]

    def version(self, profile: TargetProfile) -> str | None:
        """The version a launched profile's server has: from the started server if it runs, else
        from the launcher without starting it; None when neither can tell."""
        if not profile.launcher:
            return None
        key = self._key(profile)
        if key in self._started:
            return self._started[key].version
        launcher = self._launcher(profile)
        if launcher.version is None:
            return None
        return launcher.version(self._context(profile))

    def start(self, profiles: Iterable[TargetProfile]) -> None:
        """Start every launcher these profiles need that is not running yet, concurrently.

        Each start runs in a worker thread; the started servers join the pool's exit stack as soon
        as they are up, so a failure (or Ctrl-C) in one still stops all the others. A launcher that
        fails does not stop the others from starting: its error is raised by :meth:`running` for
        its profiles.
        """
        todo: dict[str, TargetProfile] = {}
        for profile in profiles:
            if profile.launcher and self._key(profile) not in self._started and self._key(profile) not in self._failed:
                self._launcher(profile)  # an unknown launcher fails before anything starts
                todo.setdefault(self._key(profile), profile)
        if not todo:
            return
        if len(todo) == 1:
            key, profile = next(iter(todo.items()))
            try:
                self._enter(key, profile)
            except Exception as exc:
                self._fail(key, profile, exc)
            except BaseException:
                self._scope.cancel()
                raise
            return
        with ThreadPoolExecutor(max_workers=len(todo), thread_name_prefix="authcat-launch") as pool:
            futures = {key: pool.submit(self._enter, key, profile) for key, profile in todo.items()}
            try:
                for key, future in futures.items():  # wait for all: a started server must be registered to stop
                    try:
                        future.result()
                    except Exception as exc:  # this launcher's failure; raised when its target is asked for
                        self._fail(key, todo[key], exc)
            except BaseException:
                # Ctrl-C, SIGTERM: stop every start now (their processes are killed, their waits fail),
                # then the exit stack stops the servers already up.
                self._scope.cancel()
                raise

    def _fail(self, key: str, profile: TargetProfile, exc: Exception) -> None:
        """Any launcher fault is this target's failure, never the run's."""
        message = str(exc) if isinstance(exc, TargetError) else f"{type(exc).__name__}: {exc}"
        self._failed[key] = f"the {profile.launcher!r} launcher failed: {message}"

    def _enter(self, key: str, profile: TargetProfile) -> Launched:
        ctx = self._context(profile)
        started = time.perf_counter()
        manager = self._launcher(profile)(ctx)
        with self._scope.entered():
            self._scope.check()
            launched = manager.__enter__()
        # ExitStack is not thread-safe in general; pushing one callback is a single list append.
        self._stack.push(manager.__exit__)
        self.timings[key] = time.perf_counter() - started
        self._started[key] = launched
        return launched

    def running(self, profile: TargetProfile, endpoints_root: Path) -> RunningTarget:
        if problem := profile_problem(profile, endpoints_root.parent):
            raise TargetError(problem)  # defence in depth: selected profiles were checked already
        if profile.launcher:
            key = self._key(profile)
            self.start([profile])
            if key in self._failed:
                raise TargetError(self._failed[key])
            launched = self._started[key]
            base = launched.base_url.rstrip("/") + profile.prefix
            if not binding.same_origin(launched.base_url, base):
                raise TargetError(f"{profile.source}: prefix: would move the launcher's credentials to another origin")
            serves = launched.serves
            return RunningTarget(
                profile=profile,
                base_url=base,
                version=launched.version,
                credentials=launched.credentials,
                serves=(lambda e: serves(e.method, profile.prefix + e.path)) if serves else None,
                unavailable_states=dict(launched.unavailable),
                parameters=dict(launched.parameters),
                revocations=dict(launched.revocations),
            )
        url = profile_base_url(profile)
        if not url:
            raise TargetError(f"{profile.source}: target {profile.name!r} has no base URL")
        if why := binding.runtime_problem(profile, url):
            raise TargetError(f"{profile.source}: {why}")
        try:
            credentials, missing = profile_credentials(profile, endpoints_root.parent)
        except SecretRefError as exc:
            raise TargetError(str(exc)) from None
        return RunningTarget(
            profile=profile,
            base_url=url.rstrip("/") + profile.prefix,
            version=None,
            credentials=credentials,
            # A role left unset makes its state n/a, saying which variable to set.
            unavailable_states={role: why for role, why in missing.items() if role != "other"},
        )

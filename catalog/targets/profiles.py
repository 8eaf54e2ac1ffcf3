"""Turn target profiles into running targets: start local servers once each, or resolve a remote one.

A profile with ``launcher: NAME`` is started by the target plugin registered under NAME; one
launch is shared by every API that names the same launcher (Backlot serves Jira and Confluence).
A profile without a launcher points at a remote server whose URL and credentials come from
environment variables or files; roles whose references are unset are simply not available.
The launcher contract is ``catalog.targets.launchers``, credential references
``catalog.targets.secret_refs``, a profile's readiness ``catalog.targets.readiness``.

Starting a server costs seconds, so the runner starts one only when a plan has probes (a launcher
that can state its version without starting lets a run whose cells are all current start
nothing), and starts every needed server at once (:meth:`TargetPool.start`).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path

from catalog.model.definition import RunningTarget, TargetProfile
from catalog.model.errors import TargetError
from catalog.secrets import binding
from catalog.targets.launchers import LaunchContext, Launched, Launcher, StartFn
from catalog.targets.process import LaunchScope
from catalog.targets.readiness import profile_base_url, profile_problem
from catalog.targets.secret_refs import SecretRefError, profile_credentials


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
        # The launch threads' name: an interrupt can land inside ThreadPoolExecutor.submit after a
        # thread started but before the executor recorded it, and shutdown(wait=True) then does not
        # wait for that one. Its name lets the pool find and wait for it all the same.
        self._thread_prefix = f"authcat-launch-{id(self):x}"
        scratch_root.mkdir(parents=True, exist_ok=True)
        self.timings: dict[str, float] = {}

    def __enter__(self) -> TargetPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            # Ctrl-C or SIGTERM: authcat must end now, and a scratch server's graceful stop
            # protects nothing (its folder is removed next). Every launched process is killed at
            # once, those up and those starting; the exit stack then only reaps them.
            self._scope.cancel()
        self._join_launch_threads()  # before the stack closes: a late start may still register a server
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
            # Never the scratch root itself: a start that outlived its run must not make the run's
            # removed folder again (with a server's secrets in it).
            scratch.mkdir(exist_ok=True)
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

        Several start in worker threads (:meth:`starting`, waited for to the last), one alone in
        this thread; the started servers join the pool's exit stack as soon as they are up, so a
        failure (or Ctrl-C) in one still stops all the others. A launcher that fails does not stop
        the others from starting: its error is raised by :meth:`running` for its profiles.
        """
        todo = self._to_start(profiles)
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
        with self.starting(todo.values()) as ready:
            for _key in ready:  # wait for all: a started server must be registered to stop
                pass

    def _join_launch_threads(self, timeout: float = 30.0) -> None:
        """Wait for every launch thread of this pool, also one its executor lost track of (see
        ``_thread_prefix``), once, as the pool closes: whichever way the run ends, none outlives it.
        Bounded: a cancelled start fails at its next spawn or readiness poll."""
        deadline = time.monotonic() + timeout
        for thread in threading.enumerate():
            if thread.name.startswith(self._thread_prefix) and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    def _to_start(self, profiles: Iterable[TargetProfile]) -> dict[str, TargetProfile]:
        """One profile per launcher key not yet started or failed; an unknown launcher fails
        here, before anything starts."""
        todo: dict[str, TargetProfile] = {}
        for profile in profiles:
            if profile.launcher and self._key(profile) not in self._started and self._key(profile) not in self._failed:
                self._launcher(profile)
                todo.setdefault(self._key(profile), profile)
        return todo

    def key(self, profile: TargetProfile) -> str | None:
        """Which server a launched profile is probed on (profiles that share one share the key);
        None for a remote profile."""
        return self._key(profile) if profile.launcher else None

    @contextlib.contextmanager
    def starting(self, profiles: Iterable[TargetProfile]) -> Iterator[Iterator[str]]:
        """Like :meth:`start`, but the caller gets each launcher's key as soon as that one is up
        (or failed: :meth:`running` then raises its error), so a target can be probed while the
        others still start. Leaving the block waits for every start (a started server must be
        registered to be stopped); leaving it by an exception cancels those still starting."""
        todo = self._to_start(profiles)
        if not todo:
            yield iter(())
            return
        pool = ThreadPoolExecutor(max_workers=len(todo), thread_name_prefix=self._thread_prefix)
        futures: dict[Future[Launched], str] = {}

        def ready() -> Iterator[str]:
            for future in as_completed(futures):
                key = futures[future]
                try:
                    future.result()
                except Exception as exc:  # this launcher's failure; raised when its target is asked for
                    self._fail(key, todo[key], exc)
                yield key

        try:
            # Submitted inside the try: a signal (SIGTERM, Ctrl-C) between two submits must cancel
            # the starts already under way and wait for them, or one runs on after the run's
            # scratch folder is removed, and makes it again.
            for key, profile in todo.items():
                futures[pool.submit(self._enter, key, profile)] = key
            yield ready()
        except BaseException:
            self._scope.cancel()  # Ctrl-C, SIGTERM, a fault: stop every start now
            raise
        finally:
            pool.shutdown(wait=True)
            for future, key in futures.items():  # starts the caller did not wait for
                if key not in self._started and key not in self._failed and future.exception() is not None:
                    exc = future.exception()
                    if isinstance(exc, Exception):
                        self._fail(key, todo[key], exc)

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
        """The profile as a target to probe: its launcher's server (started if it is not yet), or
        the remote server its environment names."""
        if problem := profile_problem(profile, endpoints_root.parent):
            raise TargetError(problem)  # defence in depth: selected profiles were checked already
        if not profile.launcher:
            return remote_target(profile, endpoints_root.parent)
        key = self._key(profile)
        self.start([profile])
        if key in self._failed:
            raise TargetError(self._failed[key])
        return launched_target(profile, self._started[key])


def launched_target(profile: TargetProfile, launched: Launched) -> RunningTarget:
    """A launcher's started server as the profile's target (the profile's prefix on its origin)."""
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
        settings=dict(launched.settings),
        fresh=launched.fresh,
    )


def remote_target(profile: TargetProfile, base: Path) -> RunningTarget:
    """A remote profile's target: the URL and credentials its references resolve to now (``base``
    is the repository, which no secret file may be inside)."""
    url = profile_base_url(profile)
    if not url:
        raise TargetError(f"{profile.source}: target {profile.name!r} has no base URL")
    if why := binding.runtime_problem(profile, url):
        raise TargetError(f"{profile.source}: {why}")
    try:
        credentials, missing = profile_credentials(profile, base)
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

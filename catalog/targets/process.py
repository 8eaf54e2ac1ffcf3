"""Run a local server as a child process and always stop it: on any exit path, however authcat dies.

Every process a launch starts runs under :mod:`catalog.targets.guard` (its own session and process
group, the parent-death signal, a subreaper that kills every descendant when authcat is gone);
scratch folders are kept by a guard too and swept at the next start if that one was killed as
well. A start interrupted by Ctrl-C or SIGTERM is cancelled at once (:class:`LaunchScope`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from catalog.model.errors import ServerStartError
from catalog.secrets.scrub import Scrubber


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


GUARD = Path(__file__).with_name("guard.py")


def guarded(command: Sequence[str], grace: float = 5.0, remove: Sequence[Path] = ()) -> list[str]:
    """``command`` run under the guard (``-I -S``: the guard needs nothing but the standard library)."""
    options = [f"--grace={grace}"] + [f"--remove={folder}" for folder in remove]
    return [sys.executable, "-I", "-S", str(GUARD), *options, "--", *command]


class LaunchScope:
    """The processes one pool's launches started, so that an interrupted start can stop them all.

    A launcher runs in a worker thread that the pool enters into its scope (:meth:`entered`);
    every :func:`spawn` and :class:`ServerProcess` there registers with it. :meth:`cancel` kills
    them at once (the guard's SIGUSR1) and makes any later spawn, or a wait for readiness, fail.
    """

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self._live: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def entered(self) -> Iterator[LaunchScope]:
        previous = getattr(_local, "scope", None)
        _local.scope = self
        try:
            yield self
        finally:
            _local.scope = previous

    def add(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._live.add(proc)
        if self.cancelled.is_set():  # cancelled while this one was being spawned
            _kill_now(proc)

    def discard(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._live.discard(proc)

    def check(self) -> None:
        if self.cancelled.is_set():
            raise ServerStartError("the start was cancelled (interrupted)")

    def cancel(self) -> None:
        self.cancelled.set()
        with self._lock:
            live = list(self._live)
        for proc in live:
            _kill_now(proc)


_local = threading.local()


def current_scope() -> LaunchScope | None:
    return getattr(_local, "scope", None)


def _kill_now(proc: subprocess.Popen) -> None:
    """SIGUSR1 to a guard: it SIGKILLs everything below it (before its handlers, it just dies)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGUSR1)


def spawn(command: Sequence[str], grace: float = 5.0, **popen: Any) -> subprocess.Popen:
    """``subprocess.Popen(command, **popen)`` under the guard, in its own session: the process and
    everything it starts die with authcat (a short helper command of a launcher, like a server).

    ``returncode`` is the command's, ``pid`` the guard's (signals to it reach the command).
    """
    scope = current_scope()
    if scope is not None:
        scope.check()
    popen.setdefault("stdin", subprocess.DEVNULL)
    proc = subprocess.Popen(guarded(command, grace), start_new_session=True, **popen)
    if scope is not None:
        scope.add(proc)
    return proc


def run_command(command: Sequence[str], timeout: float, **popen: Any) -> subprocess.CompletedProcess:
    """:func:`spawn`, then wait for it like ``subprocess.run(capture_output=True, text=True)``."""
    proc = spawn(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        _kill_now(proc)
        proc.wait()
        raise
    finally:
        if (scope := current_scope()) is not None:
            scope.discard(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


_STALE = re.compile(r"^authcat-[a-z]+-(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(root: Path | None = None) -> list[Path]:
    """Remove scratch folders whose authcat process is gone (one killed together with its guard,
    or a kernel without pidfds). Only this user's ``authcat-<kind>-<pid>-…`` folders are touched."""
    removed: list[Path] = []
    folder = Path(root or tempfile.gettempdir())
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _STALE.match(entry.name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if entry.is_dir(follow_symlinks=False) and info.st_uid == os.getuid() and not _alive(int(match.group(1))):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def scratch_folder(kind: str) -> Iterator[Path]:
    """A private temporary folder ``authcat-<kind>-<pid>-…`` removed at the end, also if authcat is
    killed (a guard keeps it: it removes the folder when authcat dies). Stale ones from killed runs
    are swept first."""
    sweep_stale()
    path = Path(tempfile.mkdtemp(prefix=f"authcat-{kind}-{os.getpid()}-"))
    keeper = subprocess.Popen(guarded([], remove=[path]), start_new_session=True, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield path
    finally:
        with contextlib.suppress(ProcessLookupError):
            keeper.terminate()
        remove_folder(path)
        with contextlib.suppress(subprocess.TimeoutExpired):
            keeper.wait(timeout=5)


def remove_folder(path: Path, attempts: int = 20) -> None:
    """``rmtree`` until the folder is gone: a server dying at that moment may still write a file into
    it, and one pass then leaves the folder (with its secrets). Bounded: ``attempts`` × 0.1 s."""
    for _ in range(attempts):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return
        time.sleep(0.1)


class ServerProcess:
    """A context manager around a guarded ``subprocess.Popen`` that stops the server on exit.

    The server gets its own session so Ctrl-C in the terminal does not reach it before we stop it
    in order; on exit it gets SIGTERM, then SIGKILL after ``grace`` seconds (the guard does both, and
    kills whatever the server started too). ``pid`` is the guard's.
    """

    def __init__(self, command: Sequence[str], log_path: Path, env: dict | None = None,
                 secrets: Sequence[str] = (), grace: float = 5.0, cwd: Path | None = None):
        self.command = list(command)
        self.log_path = log_path
        self.env = env
        self.grace = grace
        self.cwd = cwd
        self.scrub = Scrubber(secrets)
        self.proc: subprocess.Popen | None = None
        self._scope: LaunchScope | None = None

    # A launcher's helper commands (a corpus import, a token minted by the server's own CLI) run
    # guarded too: ``LocalServer.spawn(...)`` / ``LocalServer.run_command(...)``.
    spawn = staticmethod(spawn)
    run_command = staticmethod(run_command)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        try:
            self.proc = spawn(self.command, self.grace, stdout=self._log, stderr=subprocess.STDOUT,
                              env=self.env, cwd=self.cwd)
        except BaseException:
            self._close_log()
            raise
        self._scope = current_scope()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            if proc is not None and self._scope is not None:
                self._scope.discard(proc)
            self._close_log()
            return
        try:
            proc.send_signal(signal.SIGTERM)  # the guard passes it on, and SIGKILLs after its grace
            proc.wait(timeout=self.grace + 5)
        except subprocess.TimeoutExpired:
            _kill_now(proc)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # a guard that does not answer: its whole group
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        except ProcessLookupError:  # already gone
            pass
        finally:
            if self._scope is not None:
                self._scope.discard(proc)
        self._close_log()

    def _close_log(self) -> None:
        log = getattr(self, "_log", None)
        if log and not log.closed:
            log.close()

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return self.scrub("\n".join(text.splitlines()[-lines:]))

    def wait_http(self, url: str, timeout: float = 30.0) -> None:
        """Poll ``url`` until it answers 2xx; fail early, with the log tail, if the process dies."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        delay = 0.05
        while time.monotonic() < deadline:
            if self._scope is not None:
                self._scope.check()
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"{os.path.basename(self.command[0])} exited with {self.proc.returncode} before "
                    f"answering {url}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if 200 <= resp.status < 300:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)  # a refused connect costs little; a late one costs up to this
        raise ServerStartError(f"no answer from {url} within {timeout:.0f} s:\n{self.log_tail()}")


class LocalServer(ServerProcess):
    """A target plugin's server on a free 127.0.0.1 port, the launchers' common start.

    ``command`` is a function of the port (a server's config may need it too); ``port`` and
    ``base_url`` are known from construction, ``ready(path)`` waits for a 2xx there and says
    which plugin's server did not start. ``started`` (default: now) is when the launch began,
    for the "ready in" figure the launcher logs.
    """

    def __init__(self, name: str, command: Callable[[int], Sequence[str]], log_path: Path,
                 started: float | None = None, **kwargs: Any):
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.started = time.monotonic() if started is None else started
        super().__init__(command(self.port), log_path, **kwargs)

    def __enter__(self) -> LocalServer:
        super().__enter__()
        return self

    def ready(self, path: str, timeout: float) -> float:
        """Seconds since ``started`` once ``base_url + path`` answers 2xx."""
        try:
            self.wait_http(self.base_url + path, timeout=timeout)
        except ServerStartError as err:
            raise ServerStartError(f"{self.name} did not start: {err}") from None
        return time.monotonic() - self.started

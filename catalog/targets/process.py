"""Run a local server as a child process and always stop it: by its own PID, on any exit path."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from catalog.model.errors import ServerStartError
from catalog.secrets.scrub import Scrubber


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """A context manager around ``subprocess.Popen`` that stops the process on exit.

    The child gets its own session so Ctrl-C in the terminal does not reach it before we stop it
    in order; on exit it gets SIGTERM, then SIGKILL after ``grace`` seconds.
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

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=self.env, cwd=self.cwd, start_new_session=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            self._close_log()
            return
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=self.grace)
        except ProcessLookupError:  # already gone
            pass
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
            delay = min(delay * 1.5, 0.5)
        raise ServerStartError(f"no answer from {url} within {timeout:.0f} s:\n{self.log_tail()}")


class LocalServer(ServerProcess):
    """A target plugin's server on a free 127.0.0.1 port, the launchers' common start.

    ``command`` is a function of the port (a server's config may need it too); ``port`` and
    ``base_url`` are known from construction, ``ready(path)`` waits for a 2xx there and says
    which plugin's server did not start. ``started`` (default: now) is when the launch began,
    for the "ready in" figure the launcher logs.
    """

    def __init__(self, name: str, command: Callable[[int], Sequence[str]], log_path: Path,
                 started: float | None = None, **kwargs):
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

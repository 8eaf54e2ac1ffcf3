"""A guard between authcat and each process it launches: nothing a launch starts outlives authcat.

Run as a script by :mod:`catalog.targets.process` (``python -I -S guard.py [options] -- COMMAND``,
standard library only, nothing of authcat imported, so it starts in milliseconds):

* the command runs as the guard's child, with ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: if the guard
  dies, however, so does the command;
* the guard is a child subreaper (``PR_SET_CHILD_SUBREAPER``): every process the command starts
  that loses its parent (Synapse's workers, a token-minting subprocess, a process that left the
  session) becomes the guard's child, so the guard can always find and kill it;
* the guard watches authcat through a pidfd. The parent-death signal is not used for that: it
  fires when the *thread* that forked the child ends, and launchers start in worker threads that
  end once their server is up. When authcat is gone — SIGKILL included — the guard SIGKILLs
  every descendant and removes the ``--remove`` folders (scratch files hold server secrets);
* SIGTERM, SIGINT or SIGHUP to the guard is passed to the command; after ``--grace`` seconds, or
  when the command exits, every descendant left is SIGKILLed. SIGUSR1 kills everything at once
  (a start cancelled by Ctrl-C or SIGTERM).

The guard exits as the command did (its exit code, or the same signal). With no command it only
keeps the ``--remove`` folders: removed when authcat dies, left to authcat on SIGTERM.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import shutil
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
KILL_NOW = signal.SIGUSR1
MAX_ROUNDS = 200  # rounds of "kill every child": each round takes one generation of orphans


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children(*known: int | None) -> list[int]:
    """The guard's child processes (orphans adopted included); ``known`` where /proc cannot tell."""
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN: read every process's parent
        kids = []
        try:
            entries = os.listdir("/proc")
        except OSError:  # no /proc (not Linux): the command itself is all the guard can name
            return [pid for pid in known if pid]
        for entry in entries:
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        stat = f.read()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                    kids.append(int(entry))
        return kids


class Guard:
    def __init__(self, command: list[str], grace: float, remove: list[str]):
        self.command, self.grace, self.remove = command, grace, remove
        self.child: int | None = None
        self.status: int | None = None  # the command's wait status, once reaped

    def spawn(self) -> None:
        pid = os.fork()
        if pid == 0:
            try:
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                if os.getppid() != self.me:  # the guard died between fork and prctl
                    os._exit(1)
                for sig in (*FORWARDED, KILL_NOW, signal.SIGCHLD):
                    signal.signal(sig, signal.SIG_DFL)
                os.execvp(self.command[0], self.command)
            except OSError as exc:
                os.write(2, f"cannot run {self.command[0]}: {exc.strerror}\n".encode())
            os._exit(127)
        self.child = pid

    def reap(self, pid: int, block: bool) -> bool:
        try:
            got, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return True
        if got == 0:
            return False
        if got == self.child:
            self.status = status
        return True

    def kill_all(self) -> None:
        """SIGKILL every descendant: orphans come to the subreaper, so a few rounds reach them all."""
        for _ in range(MAX_ROUNDS):
            kids = _children(self.child if self.status is None else None)
            if not kids:
                return
            for kid in kids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(kid, signal.SIGKILL)
            for kid in kids:
                self.reap(kid, block=True)

    def remove_folders(self) -> None:
        for folder in self.remove:
            for _ in range(50):  # a dying server may still write a file into it: try again
                shutil.rmtree(folder, ignore_errors=True)
                if not os.path.lexists(folder):
                    break
                time.sleep(0.1)

    def finish(self) -> None:
        self.kill_all()
        status = self.status
        if status is None:
            sys.exit(0 if self.child is None else 1)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig not in (signal.SIGKILL, signal.SIGSTOP):  # these two have no handler to reset
                signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
            sys.exit(128 + sig)
        sys.exit(os.waitstatus_to_exitcode(status))

    def run(self) -> None:
        self.me = os.getpid()
        parent = os.getppid()
        try:
            parent_fd: int | None = os.pidfd_open(parent)
        except (OSError, AttributeError):
            parent_fd = None  # no pidfd (Linux < 5.3): poll the parent id below
        if parent == 1 or os.getppid() != parent:  # authcat is already gone: start nothing
            self.remove_folders()
            return
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        for sig in (*FORWARDED, KILL_NOW, signal.SIGCHLD):
            signal.signal(sig, lambda *_: None)  # handled through the wakeup pipe
        if self.command:
            self.spawn()
        assert self.child is None or self.child > 0
        child_fd = os.pidfd_open(self.child) if self.child and parent_fd is not None else None
        deadline: float | None = None
        while True:
            fds = [wake_r, *(fd for fd in (parent_fd, child_fd) if fd is not None)]
            waits = [0.5] if parent_fd is None else []  # without a pidfd, look at the parent twice a second
            if deadline is not None:
                waits.append(max(0.0, deadline - time.monotonic()))
            wait = min(waits) if waits else None
            ready, _, _ = select.select(fds, [], [], wait)
            if wake_r in ready:
                signums = os.read(wake_r, 64)
                # Before any other: signals pending together have their handlers run newest frame
                # first (SIGTERM's before SIGUSR1's), which would pass a SIGTERM on before the kill.
                if KILL_NOW in signums:
                    self.finish()
                for signum in signums:
                    if signum in FORWARDED:
                        if self.child is None:
                            return  # keeping folders only: authcat removes them itself
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(self.child, signum)
                        if deadline is None:
                            deadline = time.monotonic() + self.grace
            gone = parent_fd in ready if parent_fd is not None else os.getppid() != parent
            if gone:  # authcat died: nothing it launched may stay, nor the secrets in its folders
                self.kill_all()
                self.remove_folders()
                sys.exit(1)
            if self.child is not None and (child_fd in ready or (child_fd is None and self.reap(self.child, False))):
                self.reap(self.child, block=True)
                self.finish()
            if deadline is not None and time.monotonic() >= deadline:
                self.finish()


def main(argv: list[str]) -> None:
    grace, remove = 5.0, []
    while argv and argv[0] != "--":
        option, _, value = argv.pop(0).partition("=")
        if option == "--grace":
            grace = float(value)
        elif option == "--remove":
            remove.append(value)
        else:
            sys.exit(f"guard: unknown option {option}")
    Guard(argv[1:], grace, remove).run()  # argv[0] is "--"


if __name__ == "__main__":
    main(sys.argv[1:])

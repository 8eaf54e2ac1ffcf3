"""Every failure authcat expects, as one exception tree with an exit code.

The CLI catches :class:`AuthcatError` in one place (``catalog.cli.CatalogGroup``), prints its
message on one line (a :class:`DefinitionError` first prints each problem as
``file:line: field: message``) and exits with ``exit_code``. Anything else that escapes is a bug
and keeps its traceback. Messages never hold a credential: raise with a scrubbed text.

::

    AuthcatError                 exit 1   an expected failure; the message says what to do
    ├── InputError               exit 2   bad input: a file a contributor can change, or CLI arguments
    │   └── DefinitionError      exit 2   problems in YAML / a spec, each with file, line and field
    ├── PluginError              exit 1   a plugin contributed something authcat cannot use
    ├── TargetError              exit 1   a target could not be prepared (configuration, credentials)
    │   └── ServerStartError     exit 1   a local server did not start or answer in time
    ├── TargetsFailed            exit 3   ``run``/``probe``: some targets failed, the others were written
    │   └── TargetsUnreachable   exit 1   ``run``/``probe``: no probe of a target got an answer (and no
    │                                     target failed otherwise); the others were written
    ├── WatchError               exit 1   ``watch-revocation`` cannot start or go on
    ├── RegressionsFound         exit 1   ``check``: a bad credential that was refused is now served
    ├── WriteFailed              exit 1   a full or read-only disk: names the file; nothing half-written
    ├── ProjectBusy              exit 75  another run/probe/build holds the project's lock (EX_TEMPFAIL)
    └── Interrupted              exit 130 Ctrl-C / SIGINT: servers stopped, finished work kept
        └── Terminated           exit 143 SIGTERM: the same clean stop

Plugins raise these too (they are in :mod:`catalog.api`): a plugin's ``InputError`` reaches the
user exactly like the core's.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

__all__ = [
    "AuthcatError",
    "DefinitionError",
    "InputError",
    "Interrupted",
    "PluginError",
    "Problem",
    "ProjectBusy",
    "RegressionsFound",
    "ServerStartError",
    "TargetError",
    "TargetsFailed",
    "TargetsUnreachable",
    "Terminated",
    "WatchError",
    "WriteFailed",
]


class AuthcatError(Exception):
    """The root: an expected failure with a one-line message and the process exit code."""

    exit_code = 1

    def lines(self) -> list[str]:
        """What the CLI prints before its ``error:`` line (nothing, except for definitions)."""
        return []


class InputError(AuthcatError):
    """Bad input: an argument, a file or a value the user or a contributor controls."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, reported as ``file:line: field: message``."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field or '(file)'}: {self.message}"


class DefinitionError(InputError):
    """One or more problems in input files; ``str()`` lists them one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

    def summary(self) -> str:
        return f"{len(self.problems)} problem(s) in the definitions; nothing was written"


class PluginError(AuthcatError):
    """A plugin contributed something authcat cannot use; the message names it."""


class TargetError(AuthcatError):
    """A target could not be prepared (server failed to start, configuration missing)."""


class ServerStartError(TargetError):
    """A local server process did not start, or did not answer its health URL in time."""


class TargetsFailed(AuthcatError):
    """Some targets failed while the others were probed and written (their own exit code, so a
    scheduled run can tell "partly updated" from "nothing written")."""

    exit_code = 3

    def __init__(self, failures: list[tuple[str, str]]):
        self.failures = failures
        super().__init__(f"{len(failures)} target(s) failed; their previous observations are kept, "
                         "the other targets' were written")

    def lines(self) -> list[str]:
        return [f"{where}: {message}" for where, message in self.failures]


class TargetsUnreachable(TargetsFailed):
    """Every probe of some targets failed at the transport level (DNS, refused, TLS, timeouts):
    nothing was recorded for them, their previous observations stay byte for byte."""

    exit_code = 1

    def __init__(self, failures: list[tuple[str, str]]):
        self.failures = failures
        if len(failures) == 1:
            message = f"{failures[0][1]}; its previous observations were kept"
        else:
            message = f"{len(failures)} targets unreachable; their previous observations were kept"
        AuthcatError.__init__(self, message)

    def lines(self) -> list[str]:
        return [] if len(self.failures) == 1 else super().lines()


class WatchError(AuthcatError):
    """The watch cannot start or go on (the message never holds the token)."""


class RegressionsFound(AuthcatError):
    """``authcat check`` found cells that moved from refused to served."""


class Interrupted(AuthcatError):
    """The run was interrupted (Ctrl-C, SIGINT); local servers were stopped."""

    exit_code = 130


class Terminated(Interrupted):
    """The run got SIGTERM (CI cancelling, ``timeout``) and stopped as it does on Ctrl-C."""

    exit_code = 143


class ProjectBusy(AuthcatError):
    """Another authcat process holds the project's lock (``catalog.runs.lock``)."""

    exit_code = 75  # EX_TEMPFAIL: try again later
    holder = "another authcat process"  # who holds it, e.g. "`authcat run` (pid 4242, since …)"


class WriteFailed(AuthcatError):
    """A write failed (full disk, read-only folder). Every write is atomic: what was there stays."""

    @classmethod
    def from_os_error(cls, exc: OSError) -> WriteFailed:
        code = errno.errorcode.get(exc.errno or 0, "")
        what = exc.strerror or type(exc).__name__
        # A copy's error names its source first and its destination second: the write is the second.
        file = exc.filename2 or exc.filename
        where = f" {file}" if file else ""
        return cls(f"cannot write{where}: {what}{f' ({code})' if code else ''}; "
                   "files already there were left as they were")

"""Contributed regular expressions (``version_from.pattern``, an envelope rule's ``pattern``) run
in linear time: compiled by RE2 (google-re2), which has no backtracking, so a pattern like
``(a+)+$`` cannot hold the event loop on a hostile answer. A pattern RE2 cannot compile
(backreferences, lookaround) is a lint error; it never falls back to Python's ``re``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error is reported once, as file:line: field, by the caller
_OPTIONS.max_mem = 8 << 20  # a pattern whose automaton needs more memory is refused, not run


class PatternError(ValueError):
    """A pattern RE2 cannot compile (the message says why)."""


@lru_cache(maxsize=512)
def compile_linear(pattern: str) -> Any:
    """The compiled pattern (``search``, ``groups`` as in ``re``), or raise :class:`PatternError`."""
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"not a regular expression RE2 can run in linear time ({reason}); "
                           "backreferences and lookaround are not supported") from None

"""Compiled templates kept between builds: authcat's own and the installed theme's, never a contributed one.

Every build compiled the templates it renders from source again — a fixed cost of about a quarter
CPU second, a sixth of building one small API's site. Jinja's bytecode cache keeps a compiled
template (a marshalled code object) under a key made of its name and file, with the checksum of
the source it was compiled from: an edited template is compiled again. Code read back from disk
runs, so:

- only environments whose loaders read installed folders use it: :func:`catalog.site.build.core_env`
  (this package's templates) and the :class:`~catalog.site.guard.ThemeEnvironment` (the installed
  theme's). A sandbox, which loads contributed templates, never does; its compiled code also
  differs from an unsandboxed environment's for the same file;
- the folder is the user's own cache (``$XDG_CACHE_HOME/authcat/templates``, by default
  ``~/.cache/authcat/templates``), never inside a project, and one that others could write is not
  used; each entry is sealed with an HMAC under the folder's random key, as accepted definitions
  are (``catalog.definitions.sealed``): a forged, copied, cut short or corrupt entry is ignored
  and the template compiled;
- each environment's options (class, extensions, delimiters, whitespace and escaping rules) and
  the Jinja and Python versions name a folder of their own: code compiled under other rules is
  never found;
- a cache that cannot be read or written (a full disk, a read-only home) only means compiling.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from catalog.definitions.sealed import folder_key, owned, read_sealed, user_folder, write_sealed


def _rules(env: jinja2.Environment) -> str | None:
    """What decides the code a template compiles to, besides its source; None: not cacheable
    (an escaping rule that is a function of the name cannot be written down)."""
    if not isinstance(env.autoescape, bool):
        return None
    parts = (
        f"{type(env).__module__}.{type(env).__qualname__}", jinja2.__version__, sys.version,
        *sorted(f"{type(e).__module__}.{type(e).__qualname__}" for e in env.extensions.values()),
        env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
        env.comment_start_string, env.comment_end_string, str(env.line_statement_prefix),
        str(env.line_comment_prefix), env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
        env.keep_trailing_newline, env.optimized, env.autoescape, env.is_async, env.sandboxed,
        env.finalize is not None,
    )
    return "\0".join(map(str, parts))


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates in ``directory``, each sealed with ``key``; quiet when the disk refuses
    (a template is then compiled, as without the cache)."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory, self.key = directory, key

    def load_bytecode(self, bucket: Bucket) -> None:
        body = read_sealed(self.directory, self.key, bucket.key)
        if body is None:
            return  # absent, or not sealed with this key: compiled
        try:  # Jinja's own checks then: its format and the source's checksum (an edited template)
            bucket.bytecode_from_string(body)
        except Exception:
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            write_sealed(self.directory, self.key, bucket.key, bucket.bytecode_to_string())


def keep_compiled(env: jinja2.Environment) -> jinja2.Environment:
    """``env`` with a bytecode cache of its own, when its rules allow one and the folder is the
    user's own. Only for an environment whose loader reads installed templates alone."""
    rules, base = _rules(env), user_folder("templates")
    if rules is None or base is None or env.sandboxed:
        return env
    where = base / hashlib.sha256(rules.encode()).hexdigest()[:32]
    try:
        key = folder_key(base)
        if key is None:
            return env
        where.mkdir(mode=0o700, exist_ok=True)
        if not owned(where):
            return env
    except OSError:
        return env
    env.bytecode_cache = CompiledTemplates(where, key)
    return env

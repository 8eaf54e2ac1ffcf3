"""Building the site is running contributed code: what the build may see, run and publish.

Templates (``site/templates``, theme overrides), ``site/mkdocs.yml`` and everything under
``site/docs`` arrive in pull requests. So:

* :func:`mkdocs_problems` checks ``mkdocs.yml`` before MkDocs reads it: no ``hooks:``, no
  ``INHERIT:``, no YAML tag (``!ENV`` reads the environment, ``!relative`` and ``!!python/…``
  reach paths and code), plugins and Markdown extensions only from an allow-list (the operator may
  allow more by name), snippet paths only inside ``site/docs``, the theme's ``custom_dir`` only
  inside ``site/`` — each problem as ``file:line: field: message``;
* :class:`SandboxedTheme` hands MkDocs a :class:`ThemeEnvironment` for the theme: its overrides
  render in a :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`, as contributed page templates
  do — no template reaches an object's internals (``__globals__``, ``os.environ``) or changes what
  it is given — and the installed theme's own templates render unsandboxed;
* :func:`build_environ` is the environment the build runs in — a child process
  (``catalog.site.child``) — without any variable a target profile references, any ``AUTHCAT_``
  variable but a few named settings, or any name that looks like a secret: the build holds no
  secret even if a template escaped its sandbox;
* :func:`publishable` copies a contributed folder for publishing: a symlink (even one that stays
  inside the project, ``site/docs/x.txt -> ../../.git/config``) is refused; dotfiles, anything under
  ``.git/`` and git-ignored files are left out.
"""

from __future__ import annotations

import os
import subprocess
import traceback
from io import IOBase
from pathlib import Path, PurePath
from types import ModuleType
from typing import Any

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, PluginCollection, event_priority
from mkdocs.theme import Theme

from catalog.model.errors import InputError, Problem
from catalog.site.compiled import keep_compiled

# The mkdocs.yml checks and the build's environment import no MkDocs: they live apart, for `lint`.
from catalog.site.mkdocs_yml import (  # noqa: F401 - re-exported
    AUTHCAT_SETTINGS,
    MARKDOWN_EXTENSIONS,
    MAX_CONFIG_BYTES,
    PLUGINS,
    REFUSED_KEYS,
    SECRET_NAME,
    THEMES,
    build_environ,
    check_mkdocs,
    mkdocs_problems,
)

# --- Templates ------------------------------------------------------------------------------------

# Objects a template may hold but never use: their attributes and methods read files, compile
# unsandboxed templates or reach the process (a Path in the data, an Environment's from_string(),
# a module) — and objects it may read but whose methods it may not call (MkDocs' config, and its
# theme, whose get_env() hands out the unsandboxed environment).
_NO_ATTRIBUTES: tuple[type, ...] = (ModuleType, PurePath, IOBase, jinja2.Environment, jinja2.Template, jinja2.BaseLoader)
_NO_CALLS: tuple[type, ...] = (*_NO_ATTRIBUTES, Theme, MkDocsConfig, BasePlugin, PluginCollection)
_OFF_LIMITS_CALLS = frozenset({open, eval, exec, compile, getattr, setattr, delattr, vars, globals, locals,
                               __import__, breakpoint, input, type, object})


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, narrowed, with its attribute verdicts remembered per (type, name).

    Narrowed: no way to files or code through what a template is given — nothing of a Path, a
    module, a file, a Jinja environment or template (``publication.data.data_dir.read_text()``),
    no method of MkDocs' config, theme or plugins (``config.theme.get_env().from_string(…)``), and
    none of the builtins that reach the process.

    Remembered: Jinja decides whether ``obj.attr`` may be read from ``type(obj)`` and ``attr`` alone
    (no ``_`` names, no function, frame or generator internals, no method that changes a list, dict
    or set), but works it out again at every access: 750,000 times, most of the rendering, for a
    1,000-endpoint catalog. That verdict is computed once; the narrowing (which looks at the value
    too) is checked every time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._verdicts: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, _NO_ATTRIBUTES) or isinstance(value, (ModuleType, jinja2.Environment, jinja2.BaseLoader)):
            return False
        key = (type(obj), attr)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = super().is_safe_attribute(obj, attr, value)
        return verdict

    def is_safe_callable(self, obj: Any) -> bool:
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, _NO_CALLS) or _is_off_limits_call(obj):
            return False
        return super().is_safe_callable(obj)


def _is_off_limits_call(obj: Any) -> bool:
    try:
        return obj in _OFF_LIMITS_CALLS
    except TypeError:  # unhashable
        return False


def _copy(env: jinja2.Environment, cls: type[jinja2.Environment], loader: jinja2.BaseLoader | None) -> Any:
    """An environment of class ``cls`` like ``env`` (options, filters, tests, globals), with ``loader``."""
    copy = cls(
        loader=loader, autoescape=env.autoescape, extensions=list(env.extensions),
        undefined=env.undefined, trim_blocks=env.trim_blocks, lstrip_blocks=env.lstrip_blocks,
        keep_trailing_newline=env.keep_trailing_newline,
        auto_reload=False,  # one build: no file's date need be checked at every include
    )
    copy.filters.update(env.filters)
    copy.tests.update(env.tests)
    copy.globals.update(env.globals)
    copy.policies.update(env.policies)
    return copy


def sandboxed(env: jinja2.Environment) -> ImmutableSandboxedEnvironment:
    """A sandboxed copy of ``env``: same loader, options, filters, tests and globals."""
    sandbox: ImmutableSandboxedEnvironment = _copy(env, Sandbox, env.loader)
    return sandbox


class ThemeEnvironment(jinja2.Environment):
    """The theme's environment: the installed theme's own templates unsandboxed, every contributed
    one (the theme's ``custom_dir``, a copy inside ``site/``) in the sandbox.

    Its own loader reads the installed theme's folders only. A template name the contributed
    folder holds is loaded by :attr:`sandbox` instead — the sandbox's loader reads every folder,
    contributed first, as MkDocs' does — and whatever that template extends, includes or imports
    is loaded by the sandbox too. So contributed code only ever runs sandboxed; what runs
    unsandboxed is the installed package (reviewed as the code it is, like MkDocs itself). An
    unsandboxed macro a contributed template calls (Material's ``lang.t``) reads the attributes
    its own code names, never one the caller chooses, and returns text. The sandbox checks every
    attribute read and call: rendering Material's pages in it cost about half of their rendering.
    """

    sandbox: ImmutableSandboxedEnvironment
    contributed: frozenset[str]

    def _load_template(self, name: str, globals: Any) -> jinja2.Template:
        if "/".join(split_template_path(name)) in self.contributed:
            return self.sandbox.get_template(name, globals=globals)
        return super()._load_template(name, globals)


class InstalledTheme(jinja2.FileSystemLoader):
    """The installed theme's folders, listed without their hidden folders. MkDocs lists the theme's
    files at every build to copy the static ones, and leaves out every name under a hidden folder
    (``.*``, ``*/.*``); Material keeps ~14,000 icons in ``.icons`` (its emoji extension reads them
    from its package, not through the theme), and walking them cost ~0.05 CPU s of each build.
    Templates are loaded by name as before, wherever they are."""

    def list_templates(self) -> list[str]:
        found: set[str] = set()
        for top in self.searchpath:
            for folder, subfolders, files in os.walk(top, followlinks=self.followlinks):
                subfolders[:] = [d for d in subfolders if not d.startswith(".")]
                where = os.path.relpath(folder, top).replace(os.path.sep, "/")
                found.update(name if where == "." else f"{where}/{name}" for name in files)
        return sorted(found)


def theme_environment(env: jinja2.Environment, dirs: list[str], site: Path) -> ThemeEnvironment:
    """``env`` (MkDocs' for the theme, over ``dirs``) as a :class:`ThemeEnvironment`: a folder
    inside ``site`` is contributed, any other is the installed theme's (or MkDocs')."""
    root = site.resolve()
    contributed = [d for d in dirs if Path(d).resolve().is_relative_to(root)]
    installed = [d for d in dirs if d not in contributed]
    theme: ThemeEnvironment = _copy(env, ThemeEnvironment, InstalledTheme(installed))
    theme.sandbox = _copy(env, Sandbox, jinja2.FileSystemLoader(dirs))
    theme.contributed = frozenset(jinja2.FileSystemLoader(contributed).list_templates()) if contributed else frozenset()
    keep_compiled(theme)  # its loader reads the installed theme only (its sandbox keeps nothing)
    return theme


def guard_theme(theme: Theme, site: Path) -> None:
    """Make ``theme.get_env()`` hand out the :class:`ThemeEnvironment`, to MkDocs and to every
    plugin alike: Material's search plugin renders ``partials/language.html`` from it, a name the
    contributed ``custom_dir`` may override, and MkDocs' own environment would run that template
    unsandboxed."""
    unguarded = theme.get_env

    def get_env() -> jinja2.Environment:
        return theme_environment(unguarded(), list(theme.dirs), site)

    theme.get_env = get_env  # type: ignore[method-assign]


class SandboxedTheme(BasePlugin):
    """MkDocs renders the theme with a :class:`ThemeEnvironment`: its overrides (``custom_dir``,
    contributed) sandboxed. Runs first, so plugins that render templates as the environment is
    handed round (Material's tags listings) render with it, and last again, so no other plugin
    hands MkDocs another environment after it."""

    def __init__(self, site: Path) -> None:
        super().__init__()
        self.site = site

    def on_env(self, env: jinja2.Environment, config: Any, files: Any) -> jinja2.Environment:
        if isinstance(env, ThemeEnvironment):  # a plugin between the two may have added a filter
            env.sandbox.filters.update(env.filters)
            env.sandbox.tests.update(env.tests)
            env.sandbox.globals.update(env.globals)
            return env
        return theme_environment(env, list(config.theme.dirs), self.site)


class SandboxedThemeFirst(SandboxedTheme):
    @event_priority(1000)
    def on_env(self, env: jinja2.Environment, config: Any, files: Any) -> jinja2.Environment:
        return super().on_env(env, config, files)


class SandboxedThemeLast(SandboxedTheme):
    @event_priority(-1000)
    def on_env(self, env: jinja2.Environment, config: Any, files: Any) -> jinja2.Environment:
        return super().on_env(env, config, files)


def refused(exc: Exception, project: Path) -> InputError:
    """The error for a template the sandbox stopped, naming the template and line it ran."""
    where = "a template"
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".j2", ".html", ".md", ".xml", ".js")):
            try:
                shown = str(Path(frame.filename).resolve().relative_to(project.resolve()))
            except ValueError:
                shown = Path(frame.filename).name
            where = f"{shown}:{frame.lineno}"
            break
    return InputError(f"{where}: refused: {exc} (templates are contributed code and run sandboxed: "
                      "no object's internals, no changes to what they are given)")


# --- What is published ----------------------------------------------------------------------------

def _ignored(root: Path, files: list[Path]) -> set[Path]:
    """The files git ignores (none when ``root`` is in no git work tree, or git is missing)."""
    if not files:
        return set()
    try:
        proc = subprocess.run(["git", "-C", str(root), "check-ignore", "-z", "--stdin"],
                              input="\0".join(str(f) for f in files) + "\0", capture_output=True, text=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return set()
    if proc.returncode not in (0, 1):  # 128: not a work tree
        return set()
    return {Path(p) for p in proc.stdout.split("\0") if p}


def publishable(src: Path, project: Path) -> tuple[list[Path], list[Problem]]:
    """The files under ``src`` that may be published, and a problem for each symlink.

    Left out: dotfiles and dot-folders (``.git/``, ``.env``), and files git ignores."""
    problems: list[Problem] = []
    files: list[Path] = []
    if src.is_symlink():
        return [], [_link_problem(src, project)]
    for here, dirs, names in os.walk(src, followlinks=False):
        base = Path(here)
        for name in list(dirs):
            if (base / name).is_symlink():
                problems.append(_link_problem(base / name, project))
                dirs.remove(name)
            elif name.startswith("."):
                dirs.remove(name)
        for name in names:
            path = base / name
            if path.is_symlink():
                problems.append(_link_problem(path, project))
            elif not name.startswith(".") and path.is_file():
                files.append(path)
    ignored = _ignored(project, files)
    return sorted(f for f in files if f not in ignored), sorted(problems, key=lambda p: p.file)


def _link_problem(path: Path, project: Path) -> Problem:
    try:
        shown = str(path.relative_to(project))
    except ValueError:
        shown = str(path)
    return Problem(shown, 0, "(file)", "is a symlink: nothing is published through a link, even one inside the project")

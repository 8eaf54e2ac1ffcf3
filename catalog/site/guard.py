"""Building the site is running contributed code: what the build may see, run and publish.

Templates (``site/templates``, theme overrides), ``site/mkdocs.yml`` and everything under
``site/docs`` arrive in pull requests. So:

* :func:`mkdocs_problems` checks ``mkdocs.yml`` before MkDocs reads it: no ``hooks:``, no
  ``INHERIT:``, no YAML tag (``!ENV`` reads the environment, ``!relative`` and ``!!python/…``
  reach paths and code), plugins and Markdown extensions only from an allow-list (the operator may
  allow more by name), snippet paths only inside ``site/docs``, the theme's ``custom_dir`` only
  inside ``site/`` — each problem as ``file:line: field: message``;
* :class:`SandboxedTheme` hands MkDocs a :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`
  for the theme and its overrides, as authcat's own page templates use one: no template reaches an
  object's internals (``__globals__``, ``os.environ``) or changes what it is given;
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
import re
import subprocess
import traceback
from collections.abc import Iterable, Mapping
from io import IOBase
from pathlib import Path, PurePath
from types import ModuleType
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, PluginCollection, event_priority
from mkdocs.theme import Theme

from catalog.model.errors import DefinitionError, InputError, Problem

# Plugins and Markdown extensions a contributed mkdocs.yml may name: the ones that only render
# Markdown or index it, read no file outside the docs and run no configured code.
PLUGINS = frozenset({"search", "offline", "tags"})
MARKDOWN_EXTENSIONS = frozenset({
    "abbr", "admonition", "attr_list", "def_list", "footnotes", "md_in_html", "tables", "toc",
    "sane_lists", "smarty", "fenced_code", "meta", "nl2br", "wikilinks", "legacy_attrs",
    "markdown.extensions.abbr", "markdown.extensions.admonition", "markdown.extensions.attr_list",
    "markdown.extensions.def_list", "markdown.extensions.footnotes", "markdown.extensions.md_in_html",
    "markdown.extensions.tables", "markdown.extensions.toc", "markdown.extensions.sane_lists",
    "markdown.extensions.fenced_code",
    "pymdownx.details", "pymdownx.superfences", "pymdownx.tabbed", "pymdownx.tasklist", "pymdownx.mark",
    "pymdownx.tilde", "pymdownx.caret", "pymdownx.keys", "pymdownx.smartsymbols", "pymdownx.betterem",
    "pymdownx.inlinehilite", "pymdownx.highlight", "pymdownx.critic", "pymdownx.escapeall",
    "pymdownx.snippets",  # only with its paths inside site/docs (checked below)
})
MAX_CONFIG_BYTES = 256 * 1024
THEMES = frozenset({"material", "mkdocs", "readthedocs"})
# Keys whose value MkDocs reads as a path or code: refused outright.
REFUSED_KEYS = {
    "hooks": "runs contributed Python files at build time",
    "INHERIT": "reads another configuration file, wherever it is",
    "watch": "names folders outside the docs",
}
# AUTHCAT_ variables the build may keep: settings, none of them a secret.
AUTHCAT_SETTINGS = frozenset({"AUTHCAT_LOAD_PLUGINS", "AUTHCAT_SITE_URL", "AUTHCAT_DEBUG", "AUTHCAT_NO_PROGRESS"})
# A name that looks like it holds a secret.
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|PASSPHRASE|KEY|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|SIGNATURE|_PAT$|^PAT_|"
                         r"CERT|API_?ID|CLIENT_ID|DSN|WEBHOOK|ACCESS",
                         re.IGNORECASE)


def _bad_tag(node: yaml.Node) -> str | None:
    tag = node.tag or ""
    if tag.startswith(("!", "tag:yaml.org,2002:python/")):
        return tag
    return None


class _Alias(Exception):
    def __init__(self, node: yaml.Node, path: tuple):
        self.node, self.path = node, path


def _walk(node: yaml.Node, path: tuple, seen: set[int] | None = None) -> Iterable[tuple[yaml.Node, tuple]]:
    """Every node once; a node met twice is an alias (a "billion laughs" file expands them)."""
    seen = set() if seen is None else seen
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        if id(node) in seen:
            raise _Alias(node, path)
        seen.add(id(node))
    yield node, path
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _walk(value, (*path, getattr(key, "value", "?")), seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, (*path, i), seen)


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _entries(node: yaml.Node | None) -> list[tuple[str, yaml.Node, yaml.Node | None]]:
    """(name, node of the name, node of its options) for a plugins/markdown_extensions list."""
    out: list[tuple[str, yaml.Node, yaml.Node | None]] = []
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                out.append((str(item.value), item, None))
            elif isinstance(item, yaml.MappingNode):
                out += [(str(k.value), k, v) for k, v in item.value]
    elif isinstance(node, yaml.MappingNode):
        out += [(str(k.value), k, v) for k, v in node.value]
    return out


def _option(options: yaml.Node | None, name: str) -> yaml.Node | None:
    if isinstance(options, yaml.MappingNode):
        for key, value in options.value:
            if key.value == name:
                return value
    return None


def _inside(value: str, base: Path, folder: Path) -> bool:
    target = (base / value).resolve()
    return target == folder.resolve() or folder.resolve() in target.parents


def mkdocs_problems(config: Path, display: str = "site/mkdocs.yml", allow: Iterable[str] = ()) -> list[Problem]:
    """Every reason ``config`` may not be built with, as problems naming its line. ``allow`` names
    plugins or Markdown extensions the operator allows beyond the built-in list."""
    allowed = set(allow)
    if config.stat().st_size > MAX_CONFIG_BYTES:
        return [Problem(display, 1, "", f"is over {MAX_CONFIG_BYTES:,} bytes")]
    text = config.read_text(encoding="utf-8", errors="replace")
    problems: list[Problem] = []

    def problem(node: yaml.Node, path: tuple, message: str) -> None:
        problems.append(Problem(display, node.start_mark.line + 1, _dotted(path), message))

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [Problem(display, mark.line + 1 if mark else 1, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(root, yaml.MappingNode):
        return [Problem(display, 1, "", "must be a mapping")]
    try:
        for node, path in _walk(root, ()):
            if tag := _bad_tag(node):
                problem(node, path, f"the YAML tag {tag} is refused: a tag reads the build's environment, "
                        "a path or code (set site_url with AUTHCAT_SITE_URL or --site-url)")
            if isinstance(node, yaml.MappingNode) and any(_bad_tag(k) for k, _ in node.value):
                problem(node, path, "a YAML tag on a key is refused")
    except _Alias as alias:
        return [Problem(display, alias.node.start_mark.line + 1, _dotted(alias.path),
                        "YAML anchors and aliases are refused (a file of nested aliases expands past any memory)")]
    top = {str(k.value): (k, v) for k, v in root.value}
    for key, why in REFUSED_KEYS.items():
        if key in top:
            problem(top[key][0], (key,), f"is refused: it {why}")
    site = config.parent
    if "plugins" in top:
        for name, node, _ in _entries(top["plugins"][1]):
            if name not in PLUGINS and name not in allowed:
                problem(node, ("plugins", name), f"the plugin {name!r} is not in the allow-list "
                        f"({', '.join(sorted(PLUGINS))}); an operator may allow it with --allow-mkdocs {name}")
    if "markdown_extensions" in top:
        for name, node, options in _entries(top["markdown_extensions"][1]):
            where = ("markdown_extensions", name)
            if name not in MARKDOWN_EXTENSIONS and name not in allowed:
                problem(node, where, f"the Markdown extension {name!r} is not in the allow-list; an operator "
                        f"may allow it with --allow-mkdocs {name}")
            if name == "pymdownx.snippets" and name not in allowed:
                restrict = _option(options, "restrict_base_path")
                if restrict is not None and str(restrict.value).lower() in ("false", "no", "off", "0"):
                    problem(restrict, (*where, "restrict_base_path"), "must stay true: snippets come from site/docs only")
                base = _option(options, "base_path")
                bases = base.value if isinstance(base, yaml.SequenceNode) else ([base] if base is not None else [])
                if base is None:
                    problem(node, where, "needs base_path inside site/docs (its default is the working folder)")
                for item in bases:
                    if not isinstance(item, yaml.ScalarNode) or not _inside(str(item.value), site, site / "docs"):
                        problem(item, (*where, "base_path"), "is outside site/docs: snippets come from site/docs only")
                for option in ("url_download", "auto_append"):
                    value = _option(options, option)
                    if value is not None and str(value.value).lower() not in ("false", "no", "off", "0", "[]"):
                        problem(value, (*where, option), "is refused: it fetches or adds content from outside site/docs")
    theme = top.get("theme")
    if theme is not None:
        theme_node = theme[1]
        name_node = _option(theme_node, "name") if isinstance(theme_node, yaml.MappingNode) else theme_node
        if isinstance(name_node, yaml.ScalarNode) and str(name_node.value) not in THEMES | allowed:
            problem(name_node, ("theme", "name"), f"the theme {name_node.value!r} is not in the allow-list "
                    f"({', '.join(sorted(THEMES))})")
        custom = _option(theme_node, "custom_dir")
        if custom is not None and not (isinstance(custom, yaml.ScalarNode) and _inside(str(custom.value), site, site)):
            problem(custom, ("theme", "custom_dir"), "must be a folder inside site/")
    for key in ("docs_dir", "site_dir"):
        if key in top and isinstance(top[key][1], yaml.ScalarNode) and not _inside(str(top[key][1].value), site, site):
            problem(top[key][1], (key,), "must be a folder inside site/")
    return problems


def check_mkdocs(config: Path, allow: Iterable[str] = ()) -> None:
    """Raise a :class:`DefinitionError` naming every problem of ``mkdocs.yml``."""
    if problems := mkdocs_problems(config, allow=allow):
        raise DefinitionError(problems)


# --- The environment of the build -------------------------------------------------------------------

def build_environ(environ: Mapping[str, str], referenced: Iterable[str]) -> dict[str, str]:
    """``environ`` without the variables the profiles reference, ``AUTHCAT_`` variables other than
    :data:`AUTHCAT_SETTINGS`, and names that look like secrets (:data:`SECRET_NAME`)."""
    dropped = set(referenced)
    out = {}
    for name, value in environ.items():
        if name in dropped or SECRET_NAME.search(name):
            continue
        if name.startswith("AUTHCAT_") and name not in AUTHCAT_SETTINGS:
            continue
        out[name] = value
    return out


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


def sandboxed(env: jinja2.Environment) -> ImmutableSandboxedEnvironment:
    """A sandboxed copy of ``env``: same loader, options, filters, tests and globals."""
    copy = Sandbox(
        loader=env.loader, autoescape=env.autoescape, extensions=list(env.extensions),
        undefined=env.undefined, trim_blocks=env.trim_blocks, lstrip_blocks=env.lstrip_blocks,
        keep_trailing_newline=env.keep_trailing_newline,
    )
    copy.filters.update(env.filters)
    copy.tests.update(env.tests)
    copy.globals.update(env.globals)
    copy.policies.update(env.policies)
    return copy


class SandboxedTheme(BasePlugin):
    """MkDocs renders the theme and its overrides (``custom_dir``, contributed) with this sandbox.
    Runs last, so no other plugin hands MkDocs another environment after it."""

    @event_priority(-100)
    def on_env(self, env: jinja2.Environment, config: Any, files: Any) -> jinja2.Environment:
        return sandboxed(env)


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

"""What ``site/mkdocs.yml`` may say, and the environment the build may see: pure checks that
import no MkDocs (``authcat lint`` runs them; ``catalog.site.guard`` explains why and adds the
template sandbox and the publishing copy, which do need MkDocs and Jinja).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from catalog.model.errors import DefinitionError, Problem

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
    # MkDocs renders each listed docs file with a bare jinja2.Template: no sandbox at all.
    "extra_templates": "renders files of the docs as Jinja templates outside the sandbox",
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

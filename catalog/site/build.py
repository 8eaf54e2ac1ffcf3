"""Build the static site: plugins render pages from Jinja templates, MkDocs turns them into HTML.

Hand-written pages live in ``site/docs``; generated pages are written beside copies of them in
``site/generated`` (never committed), and MkDocs builds that folder into ``site/build``. The nav
lists the overview pages only: endpoint groups stay out of it, which keeps MkDocs fast as the
catalog grows (design.md: 53 s for 1,000 pages in the nav, 11 s out of it).
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import time
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup
from mkdocs.plugins import BasePlugin

from catalog.answers.publication import Publication, publication_of
from catalog.definitions.containment import symlinks_out
from catalog.definitions.yamlfile import DefinitionError
from catalog.hooks.manager import Hooks
from catalog.model.errors import AuthcatError
from catalog.model.vocabulary import Outcome, Verdict, slug
from catalog.runs.results import CatalogData, SitePage
from catalog.site.compiled import keep_compiled
from catalog.site.deferred import Deferred, PutBack, inline
from catalog.site.export_beside import ExportBeside
from catalog.site.guard import (
    Sandbox,
    SandboxedThemeFirst,
    SandboxedThemeLast,
    guard_theme,
    publishable,
    refused,
)
from catalog.site.parallel import render_in_two
from catalog.site.paths import SitePaths
from catalog.site.publish import publish
from catalog.site.report import BuildReport
from catalog.site.search_beside import SearchBeside

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md_text(value: Any) -> str:
    """Escape text for a Markdown context: HTML-escaped and with Markdown syntax neutralised."""
    # Markup: already escaped, so autoescape must not escape it again ("&lt;" shown as text).
    return Markup(_MD_SPECIAL.sub(r"\\\1", html.escape(str(value if value is not None else ""), quote=True)))


_CODE_SPAN = re.compile(r"`([^`\n]{1,200})`")


def prose(value: Any) -> str:
    """Contributed prose for an HTML context: escaped whole, then its `code spans` shown as code.

    The spans are made from the escaped text, so nothing a contributor writes becomes markup."""
    escaped = html.escape(str(value if value is not None else ""), quote=True)
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped))


def _esc(value: Any) -> str:
    """``markupsafe.escape(value)``'s text, without a Markup object per value: that object's
    Python-level ``__new__``, once per escaped value, was the largest single cost of writing a
    20,000-endpoint matrix (escaping is per character, so escaped parts join to the escaped whole)."""
    if type(value) is not str and hasattr(value, "__html__"):
        return value.__html__()
    return (str(value).replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


def swatch_html(outcome: Any) -> Markup:
    """``swatch(outcome)`` of ``_macros.j2``, the same bytes."""
    return Markup(_swatch(outcome))


def _swatch(outcome: Any) -> str:
    text = str(outcome)
    return f'<span class="legend-swatch o-{_esc(text.replace("/", ""))}">{_esc(text)}</span>'


def cell_html(c: Any, href: Any, id: Any, state: Any = "") -> Markup:
    """``cell(c, href, id, state)`` of ``_macros.j2``, the same bytes: one cell as :func:`row_html`
    writes it.

    authcat's own templates call :func:`row_html` and :func:`state_rows_html` instead of the macros
    when they render unsandboxed (``core_env``): a macro call per cell — 240,000 cells at 20,000
    endpoints — was the largest part of rendering the API and group pages. Contributed templates,
    and authcat's own once a contributed ``_macros.j2`` shadows them, keep the macros."""
    return Markup(_cell(c, _esc(href), _esc(id), _esc(state)))


def _cell(c: Any, href: str, id: str, state: str) -> str:
    """:func:`cell_html` from ``href``, ``id`` and ``state`` escaped already."""
    if c is None:
        return f'<td class="cell o-na" id="{id}" data-state="{state}">—</td>'
    outcome, status = str(c.outcome), c.status
    said = _esc(status) if status is not None else "no answer"
    note = f" ({_esc(c.note)})" if c.note else ""
    shown = ("n/a" if c.outcome == Outcome.NOT_AVAILABLE
             else f"<b>{_esc(status) if status is not None else '—'}</b> <small>{_esc(outcome)}</small>")
    return (f'<td class="cell o-{_esc(outcome.replace("/", ""))}" id="{id}" data-state="{state}" '
            f'data-outcome="{_esc(outcome)}"><a href="{href}" aria-label="{_esc(c.state)}: {said} '
            f'{_esc(outcome)}{note}">{shown}</a></td>')


def row_html(row: Any, columns: Any, run: Any) -> Markup:
    """``matrix_row(row, columns, run)`` of ``_macros.j2``, the same bytes, for the API page's
    matrix: a row's cells share its escaped link and id prefixes instead of joining and escaping
    five parts per cell (20,000 rows of 12 cells at 20,000 endpoints)."""
    e, cells = row.endpoint, row.result.cells
    rid = slug(e.id)
    erid, verdict, method, path = _esc(rid), _esc(row.verdict), _esc(e.method), _esc(e.path)
    search = _esc(f"{e.method} {e.path} {e.id} {e.summary}").lower()
    by_state = "".join(f"{_esc(st)}={_esc(c.outcome)} " for st, c in cells.items())
    hidden = " data-unobserved hidden" if row.verdict in (Verdict.NOT_SERVED, Verdict.NOT_PROBED) else ""
    out = [(f'<tr id="row-{erid}" data-verdict="{verdict}" data-search="{search}" data-cells="{by_state}"{hidden}>\n'
           f'<th class="endpoint" scope="row"><a class="permalink" href="#row-{erid}" aria-label="Link to the row '
           f'{method} {path}">#</a> <a href="{_esc(row.href)}"><span class="method">{method}</span> '
           f'<code>{path.replace("/", "/<wbr>")}</code></a><span class="verdict verdict-inline v-{verdict}">'
           f'{verdict}</span></th>\n<td class="verdict-col"><span class="verdict v-{verdict}">{verdict}</span></td>\n')]
    if cells:
        href, id = _esc(f"{row.href}--{slug(run.target)}--"), _esc(f"cell-{rid}--")
        for _family, _label, states in columns:
            for st in states:
                est = _esc(st)
                out.append(_cell(cells.get(st), href + est, id + est, est))
    else:
        out.append(f'<td colspan="{len(run.states)}" class="note">{_esc(row.result.reason)}</td>\n')
    out.append("</tr>\n")
    return Markup("".join(out))


# The answer headers a group page's state table shows (the ``state_rows`` macro reads them too).
NOTABLE_HEADERS = ("www-authenticate", "x-seraph-loginreason", "x-aaccountid")


def state_rows_html(e: Any, run: Any, cells: Any, hist: Any) -> Markup:
    """``state_rows(e, run, cells, hist)`` of ``_macros.j2``, the same bytes: the body of a group
    page's table of one endpoint's states on one target (240,000 rows at 20,000 endpoints)."""
    prefix = f"{_esc(slug(e.id))}--{_esc(slug(run.target))}--"
    out = []
    for state, c in cells.items():
        obs, h, st = c.observation, hist.get(state), _esc(state)
        since = ""
        if h and h.get("since"):
            since = (f"at least since {_esc(h['since'][:10])}" if h.get("at_least")
                     else f"{_esc(h['since'][:10])} (was {_esc(h.get('before') or 'absent')})")
        status = _esc(c.status) if c.status is not None else "—"
        count = _esc(obs.count) if obs and obs.count is not None else ""
        headers = "".join(f"<code>{_esc(k)}: {_esc(v)}</code> " for k, v in obs.headers.items()
                          if k in NOTABLE_HEADERS) if obs else ""
        error = _esc(obs.error) if obs and obs.error else ""
        out.append(f'<tr id="{prefix}{st}"><td>{st}</td><td>{status}</td><td>{_swatch(c.outcome)}</td>'
                   f'<td>{since}</td><td>{count}</td>\n<td>{headers}</td>\n<td>{_esc(c.note)}{error}</td></tr>\n')
    return Markup("".join(out))


# authcat's own page templates: shipped in this package (reviewed as code, like the modules that
# fill them), not contributed. The group and API pages, most of a build's rendering, use them.
CORE_TEMPLATES = Path(__file__).parent / "templates"


def _configure(env: jinja2.Environment, deferred: Deferred | None) -> jinja2.Environment:
    env.filters["md"] = md_text
    env.filters["prose"] = prose
    env.filters["slug"] = slug
    env.filters["defer"] = deferred or inline  # see catalog.site.deferred: big tables skip Markdown
    env.filters["skip_markdown"] = deferred.skip_markdown if deferred else inline  # finished HTML, still searched
    env.globals["notable_headers"] = NOTABLE_HEADERS
    return env


_OPTIONS: dict[str, Any] = {
    "autoescape": True,  # every contributed string is escaped unless a template says otherwise
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}


def jinja_env(paths: SitePaths, hooks: Hooks, deferred: Deferred | None = None) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment: contributed templates first (``site/templates``, then plugins'),
    authcat's own last, so a contributed page may import its macros."""
    search = [str(paths.templates), *hooks.template_dirs(), str(CORE_TEMPLATES)]
    # Sandboxed: templates are contributed code (a template reaching ``os.environ`` through an
    # object's globals is refused, and nothing it is given can be changed).
    return _configure(Sandbox(loader=jinja2.FileSystemLoader(search), **_OPTIONS), deferred)  # type: ignore[return-value]


def core_env(deferred: Deferred | None = None) -> jinja2.Environment:
    """authcat's own templates, unsandboxed: its loader reads this package's folder only, so every
    template it renders, and every one those import, is authcat's (the sandbox cost more than half
    of the rendering: it checks every attribute read and call)."""
    env = _configure(jinja2.Environment(loader=jinja2.FileSystemLoader(str(CORE_TEMPLATES)), **_OPTIONS), deferred)
    keep_compiled(env)  # this package's templates only: compiled once, not at every build
    env.globals.update(row_html=row_html, state_rows_html=state_rows_html)
    return env


def shadowed(paths: SitePaths, hooks: Hooks) -> list[str]:
    """authcat's own template names that a contributed or plugin folder also has. Such a template
    wins, as it always did, and then every page renders sandboxed: a contributor never gets a
    template of theirs run unsandboxed by naming it like one of authcat's."""
    return sorted(name for folder in (paths.templates, *map(Path, hooks.template_dirs()))
                  for name in core_names() if (folder / name).exists())


def core_names() -> set[str]:
    return {p.name for p in CORE_TEMPLATES.glob("*.j2")}


class Render:
    """``render(template, **context)`` as the ``authcat_site_pages`` hook gets it, and ``many(jobs,
    weights)`` for authcat's own pages: a list of (template, context) rendered in two processes
    when every template is authcat's own and unshadowed (``catalog.site.parallel``)."""

    def __init__(self, paths: SitePaths, hooks: Hooks, deferred: Deferred | None) -> None:
        self.paths, self.deferred = paths, deferred
        self.env = jinja_env(paths, hooks, deferred)
        self.core = None if shadowed(paths, hooks) else core_env(deferred)
        self.own = core_names()

    def __call__(self, template: str, **context: Any) -> str:
        if self.core is not None and template in self.own:
            return self.core.get_template(template).render(**context)
        try:
            return self.env.get_template(template).render(**context)
        except SecurityError as exc:
            raise refused(exc, self.paths.root.parent) from None

    def many(self, jobs: list[tuple[str, dict[str, Any]]], weights: list[int]) -> list[str]:
        core, deferred = self.core, self.deferred
        if core is None or deferred is None or any(template not in self.own for template, _ in jobs):
            return [self(template, **context) for template, context in jobs]
        return render_in_two(lambda template, context: core.get_template(template).render(**context),
                             jobs, weights, deferred)


def render_pages(publication: Publication, paths: SitePaths, hooks: Hooks,
                 deferred: Deferred | None = None) -> list[SitePage]:
    render = Render(paths, hooks, deferred)
    pages = [p if isinstance(p, SitePage) else SitePage(*p) for p in hooks.site_pages(publication, render)]
    seen: set[str] = set()
    for page in pages:
        rel = page.path
        if rel in seen or rel.startswith(("/", "..")) or "/../" in rel:
            raise AuthcatError(f"a site_pages plugin gave the page path {rel!r}, which is duplicated or unsafe")
        seen.add(rel)
    return pages


def plugin_nav(pages: list[SitePage]) -> list[dict[str, list[dict[str, str]]]]:
    """The nav sections plugin pages asked for (``SitePage.nav``), in the order first named."""
    sections: dict[str, list[dict[str, str]]] = {}
    for page in pages:
        if page.nav is not None:
            section, title = page.nav
            sections.setdefault(section, []).append({title: page.path})
    return [{section: entries} for section, entries in sections.items()]


def build_site(data: CatalogData, paths: SitePaths, hooks: Hooks, nav: list | None = None,
               site_url: str | None = None) -> BuildReport:
    """Render every page, then run MkDocs from Python. The previous build is replaced whole.

    ``site_url`` (the published address, e.g. under a sub-path) overrides mkdocs.yml's.
    """
    t0 = time.perf_counter()
    check_contained(paths)  # before anything is read or copied: a link out is refused, not followed
    # The answers feed the pages (guide, explanations) and the export alike: computed once, with
    # every signal plugin, and handed over frozen.
    publication = publication_of(data, hooks.auth_signals)
    staging = paths.generated
    export = ExportBeside(publication, paths.root)
    try:
        # catalog.json is written by a second process from here on: it needs the publication
        # alone, and the second core is otherwise idle until the pages render in two processes.
        export.start()
        deferred = Deferred()
        pages = render_pages(publication, paths, hooks, deferred)
        if staging.exists():
            shutil.rmtree(staging)
        # No symlink (in the project or out), dotfile, .git/ or git-ignored file is published.
        _copy_tree(paths.docs, staging, paths.root.parent)
        for page in pages:
            _write(staging / page.path, page.text)
        t1 = time.perf_counter()
        built = _run_mkdocs(paths, staging, inert_nav(nav or default_nav(data, plugin_nav(pages))), deferred, site_url)
        t2 = time.perf_counter()
        # The export goes into the finished build *before* the swap: the published site is never
        # one without its catalog.json (catalog.site.publish).
        export.finish(built)
        publish(built, paths.build)
    except BaseException:
        # A failed build (a full disk, a plugin's error, Ctrl-C) leaves no staging behind: a few
        # megabytes that would keep a full disk full. The published site is untouched.
        export.stop()
        for folder in (staging, paths.root / STAGING, paths.root / OVERRIDES):
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return BuildReport(pages=len(pages), render_s=t1 - t0, mkdocs_s=t2 - t1)


STAGING = ".build-staging"  # MkDocs builds here, beside site/build, before the swap
OVERRIDES = ".build-overrides"  # the publishable copy of the theme's custom_dir, for one build


def named(exc: OSError, path: Path | str) -> OSError:
    """``exc`` naming the file it is about: its destination when it has two (a copy's ``filename2``),
    ``path`` when it names none (a ``write`` to a full disk says no file)."""
    if exc.filename2:
        return OSError(exc.errno, exc.strerror, exc.filename2)
    if exc.filename:
        return exc
    return OSError(exc.errno, exc.strerror, str(path))


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise named(exc, path) from exc


def _copy_tree(source: Path, dest: Path, project: Path) -> None:
    """Copy what may be published from ``source`` (``catalog.site.guard.publishable``: a symlink is
    an error; dotfiles, ``.git/`` and git-ignored files are left out). A failure is the OSError of
    the file it was writing (copytree gathered them into one ``shutil.Error`` of strings)."""
    files, problems = publishable(source, project)
    if problems:
        raise DefinitionError(problems)
    for path in files:
        target = dest / path.relative_to(source)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        except OSError as exc:
            raise named(exc, target) from exc


def check_contained(paths: SitePaths) -> None:
    """Raise a :class:`DefinitionError` naming every symlink in the site's contributed sources
    (mkdocs.yml, docs, templates, theme overrides, data): out of the project, or inside it (a link
    to ``.git/config`` stays inside and would publish the checkout's token)."""
    folders = (paths.config, paths.docs, paths.templates, paths.root / "overrides", paths.root / "data")
    problems = [p for folder in folders for p in symlinks_out(folder, paths.root.parent)]
    problems += [p for folder in folders for p in publishable(folder, paths.root.parent)[1]
                 if folder.exists() and p.file not in {q.file for q in problems}]
    if problems:
        raise DefinitionError(problems)


def inert_nav(nav: Any) -> Any:
    """The nav with every label HTML-escaped. MkDocs themes print nav labels (and the page titles
    they become) as HTML, and labels come from contributed text such as an API's ``title``; every
    plugin's nav entries pass here, so none can forget."""
    if isinstance(nav, list):
        return [inert_nav(item) for item in nav]
    if isinstance(nav, dict):
        return {html.escape(str(label), quote=True): inert_nav(value) for label, value in nav.items()}
    return nav


class InertTitles(BasePlugin):
    """Escape a page title MkDocs took from the page itself (its first heading, or front matter).

    MkDocs reads the first H1's *text* — the entities a template wrote are decoded again — and
    themes print ``page.title`` unescaped into ``<title>``, so a group named
    ``</title><script>…`` would run. Nav labels are escaped by :func:`inert_nav` instead.
    """

    def on_page_content(self, html_text: str, page: Any, config: Any, files: Any) -> str:
        if page._title_from_render:
            page._title_from_render = html.escape(page._title_from_render, quote=True)
        if isinstance(page.meta.get("title"), str):
            page.meta["title"] = html.escape(page.meta["title"], quote=True)
        return html_text

    def on_post_page(self, output: str, page: Any, config: Any) -> str:
        # Material prints ``<title>{{ page.title | striptags }}``, and striptags decodes the
        # entities again: write that element as escaped text instead (found exactly, never by
        # searching for "</title>", which the title itself may contain).
        # A front-matter title is printed as it is (escaped above); only the striptags one is not.
        if page.meta.get("title") or not page.title:
            return output
        site = config.get("site_name") or ""
        title = Markup(str(page.title)).striptags()
        printed = f"<title>{title} - {site}</title>"
        return output.replace(printed, f"<title>{html.escape(f'{title} - {site}')}</title>", 1)


def default_nav(data: CatalogData, sections: list | None = None) -> list:
    apis = [{c.definition.api.title: f"apis/{name}/index.md"} for name, c in sorted(data.apis.items())]
    return [
        {"Home": "index.md"},
        {"APIs": apis},
        *(sections or []),
        {"Methodology": "methodology.md"},
        {"Security": "security.md"},
        {"Probe your own Jira site": "probe-your-own-jira.md"},
        {"Changes": "changes.md"},
        {"Contributing": "contributing.md"},
        {"Writing plugins": "plugins.md"},
        {"Performance": "performance.md"},
    ]


def _run_mkdocs(paths: SitePaths, docs_dir: Path, nav: list, deferred: Deferred | None = None,
                site_url: str | None = None) -> Path:
    """Build into a staging folder beside ``site/build`` and return it (nothing is published)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    # MkDocs logs every page left out of the nav at INFO; that is by design here.
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    staging_build = paths.root / STAGING
    if staging_build.exists():
        shutil.rmtree(staging_build)
    overrides: dict[str, Any] = {"docs_dir": str(docs_dir), "site_dir": str(staging_build), "nav": nav}
    if site_url is not None:
        overrides["site_url"] = site_url
    cfg = load_config(config_file=str(paths.config), **overrides)
    custom_dir = cfg.theme.custom_dir
    overrides_copy = paths.root / OVERRIDES
    if overrides_copy.exists():
        shutil.rmtree(overrides_copy)
    if custom_dir:  # the theme's overrides are contributed too: only what may be published
        _copy_tree(Path(custom_dir), overrides_copy, paths.root.parent)
        cfg.theme.dirs[cfg.theme.dirs.index(custom_dir)] = str(overrides_copy)
    guard_theme(cfg.theme, paths.root)  # the environment plugins ask the theme for is guarded too
    cfg.plugins["authcat-sandboxed-theme"] = SandboxedThemeFirst(paths.root)
    cfg.plugins["authcat-sandboxed-theme-last"] = SandboxedThemeLast(paths.root)
    if deferred is not None:
        cfg.plugins["authcat-deferred"] = PutBack(deferred)
    cfg.plugins["authcat-inert-titles"] = InertTitles()
    cfg.plugins["authcat-search-beside"] = SearchBeside()
    writing = cfg.plugins["authcat-writing"] = Writing(staging_build)
    cfg.plugins.on_startup(command="build", dirty=False)
    try:
        build(cfg)
    except OSError as exc:
        raise named(exc, writing.current) from exc
    except SecurityError as exc:
        raise refused(exc, paths.root.parent) from None
    finally:
        cfg.plugins.on_shutdown()
        shutil.rmtree(overrides_copy, ignore_errors=True)
    return staging_build


class Writing(BasePlugin):
    """Which file MkDocs is writing, so that a disk error can name it (MkDocs' own write of a page
    to a full disk raises an error that names no file). The build folder when it cannot tell."""

    def __init__(self, site_dir: Path):
        self.site_dir = site_dir
        self.current: Path = site_dir

    def on_pre_page(self, page: Any, config: Any, files: Any) -> Any:
        self.current = self.site_dir
        return page

    def on_post_page(self, output: str, page: Any, config: Any) -> str:
        self.current = Path(page.file.abs_dest_path)  # written right after this event
        return output

    def on_post_template(self, output_content: str, template_name: str, config: Any) -> str:
        self.current = self.site_dir / template_name
        return output_content

    def on_post_build(self, config: Any) -> None:
        self.current = self.site_dir

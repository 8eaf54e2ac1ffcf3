"""A real browser for the site's tests and for ``scripts/screenshot``.

Chromium comes from Debian (``scripts/ensure-system-deps``), never from ``playwright install``:
that downloads, and the machines that run these tests cannot.
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from tests.servers.base import serve_in_thread
from tests.support.project import (
    copy_project,  # also the one project copy the browser tests use
    run_cli,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # No name but the loopback resolves: a request off the origin fails at once instead of
    # leaving the machine, and the tests see it through watch_origin() without routing (a
    # Playwright route disables the HTTP cache, which tripled the crawl of the site).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
REPO = Path(__file__).resolve().parents[2]


def chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (the Debian one) driven by Playwright; closed on exit."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed: run scripts/ensure-system-deps")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@asynccontextmanager
async def async_chromium() -> AsyncIterator[object]:
    """:func:`chromium` for Playwright's async API: one browser driving several tabs at once."""
    from playwright.async_api import async_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed: run scripts/ensure-system-deps")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def watch_origin(context, base: str, off_origin: set[str]) -> None:
    """Record in ``off_origin`` every request of ``context`` that does not start with ``base``."""

    def request(r) -> None:
        if not r.url.startswith((base, "data:", "blob:")):
            off_origin.add(r.url)

    context.on("request", request)


class Tab:
    """One browser context and page that a module's tests take in turn (:meth:`use`).

    A new context and page cost ~1 CPU s each (Playwright's set-up of the page, a renderer
    process, the site's scripts and styles compiled cold); a navigation in a page already open
    ~0.3 s. Each use starts on ``about:blank`` at ``viewport`` with nothing in the site's storage,
    and :attr:`off_origin` holds the requests off ``base`` made during it (:func:`watch_origin`).
    """

    def __init__(self, browser, base: str, viewport: dict):
        self.base = base
        self.viewport = viewport
        self.context = browser.new_context(viewport=viewport)
        self.off_origin: set[str] = set()
        watch_origin(self.context, base, self.off_origin)
        self.page = self.context.new_page()

    @contextmanager
    def use(self, viewport: dict | None = None) -> Iterator[object]:
        """The page, for one test (at ``viewport``, else the tab's own); left on ``about:blank``
        (its timers and workers stopped)."""
        page = self.page
        self.off_origin.clear()
        page.set_viewport_size(viewport or self.viewport)
        try:
            yield page
        finally:
            if page.url.startswith(self.base):
                page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
            page.goto("about:blank")

    def close(self) -> None:
        self.context.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def serve_dir(directory: Path) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = serve_in_thread(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def build_site(root: Path) -> None:
    """``authcat --root <root> build`` in a subprocess, exactly as a maintainer runs it."""
    done = run_cli(root, "build", timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"authcat build failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def committed_site(folder: Path) -> Path:
    """A copy of the project with the committed catalog built, made once in ``folder`` and shared.

    Every pytest-xdist worker of one run passes the same ``folder`` (the run's temporary root): the
    first to take the lock copies and builds, the others wait and get the same copy. Nothing may
    write to it: a test that changes the project or rebuilds makes its own copy.
    """
    folder.mkdir(parents=True, exist_ok=True)
    root = folder / "committed-site" / "project"
    done = folder / "committed-site.built"
    with open(folder / "committed-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even if the build raises
        if not done.exists():
            shutil.rmtree(root.parent, ignore_errors=True)  # what a failed attempt left
            copy_project(root)
            build_site(root)
            done.touch()
    return root


def run_folder(tmp_path_factory) -> Path:
    """The temporary folder of this whole test run: shared by its xdist workers, new each run."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base

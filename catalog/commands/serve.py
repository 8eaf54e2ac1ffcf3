"""``authcat serve``: a live preview of the site.

Builds once, serves ``site/build`` on 127.0.0.1, and rebuilds when a file under ``endpoints/``,
``site/templates/``, ``site/docs/`` or ``site/data/`` changes. Changes come from the operating
system's file events through ``watchfiles`` (``WATCHFILES_FORCE_POLLING=1`` polls instead, for
filesystems without events), gathered over ``--interval`` seconds into one rebuild. A failed
rebuild is printed and the last good build keeps being served (``build_site`` swaps a finished
build in whole). Each build holds the project lock (``catalog.runs.lock``) like ``build`` and ``run``:
while another command holds it the changes are kept and the rebuild is tried again every interval
(the first build waits for the lock), so a preview never builds into the staging folder a
concurrent build is using. Open pages
reload themselves after a rebuild: the server adds a few lines of script to each HTML page it
serves, which ask for the build number once a second.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from catalog.cli import Context
from catalog.hooks.specs import hookimpl
from catalog.model.errors import AuthcatError, DefinitionError, ProjectBusy
from catalog.pipeline import build
from catalog.runs.lock import project_lock

HOST = "127.0.0.1"  # a preview is for the person at this machine, never the network
WATCHED = ("endpoints", "site/templates", "site/docs", "site/data")
BUILD_ID_PATH = "/__authcat/build"
RELOAD_SCRIPT = (
    "<script>(function(){var b=null;setInterval(function(){fetch('" + BUILD_ID_PATH + "',{cache:'no-store'})"
    ".then(function(r){return r.text()}).then(function(t){if(b===null)b=t;else if(t!==b)location.reload()})"
    ".catch(function(){})},1000)})();</script>"
)


def watched(root: Path, path: str) -> bool:
    """Whether a changed file is one the site is built from: under the watched folders, not an
    editor's temporary file (``.x.swp``, ``x~``, ``#x#``) and not the build's own output."""
    try:
        rel = Path(path).relative_to(root)
    except ValueError:
        return False
    name = rel.name
    if name.startswith((".", "#")) or name.endswith(("~", ".swp", ".tmp")):
        return False
    return any(rel.is_relative_to(folder) for folder in WATCHED)


class PreviewServer:
    """A threaded static server over the build folder, plus the build number pages poll."""

    def __init__(self, build_dir: Path, port: int):
        self.build_dir = build_dir
        self.build_id = 0
        preview = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(preview.build_dir), **kwargs)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def end_headers(self) -> None:
                self.send_header("Cache-Control", "no-store")  # a preview must never show a stale page
                super().end_headers()

            def do_GET(self) -> None:
                if self.path == BUILD_ID_PATH:
                    return self._send(b"%d" % preview.build_id, "text/plain")
                # The build folder is swapped whole after a rebuild: wait out that instant.
                for _ in range(40):
                    if preview.build_dir.is_dir():
                        break
                    time.sleep(0.05)
                url_path = self.path.split("?", 1)[0].split("#", 1)[0]
                target = Path(self.translate_path(self.path))
                if url_path.endswith("/") and target.is_dir():
                    target = target / "index.html"
                if target.suffix == ".html" and target.is_file():
                    html = target.read_bytes().replace(b"</body>", RELOAD_SCRIPT.encode() + b"</body>", 1)
                    return self._send(html, "text/html; charset=utf-8")
                return super().do_GET()

            def _send(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer((HOST, port), Handler)
        self.httpd.daemon_threads = True
        # stop() returns within poll_interval: the default half second delayed every Ctrl-C.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="authcat-serve",
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.httpd.server_address[1]}/"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, DefinitionError):
        return "\n".join(str(p) for p in exc.problems)
    return f"{type(exc).__name__}: {exc}"


def files(root: Path) -> dict[str, tuple[int, int]]:
    """Each watched file's (mtime in ns, size), by its path under ``root``."""
    root = root.resolve()
    seen: dict[str, tuple[int, int]] = {}
    for folder in WATCHED:
        for dirpath, _dirs, names in os.walk(root / folder):
            for name in names:
                path = os.path.join(dirpath, name)
                if watched(root, path):
                    with contextlib.suppress(OSError):
                        st = os.stat(path)
                        seen[Path(path).relative_to(root).as_posix()] = (st.st_mtime_ns, st.st_size)
    return seen


def watch(root: Path, rebuild: Callable[[list[str]], bool], stop: threading.Event, interval: float = 1.0,
          since: dict[str, tuple[int, int]] | None = None) -> None:
    """Call ``rebuild(changed_files)`` after changes under the watched folders, until ``stop``.
    A rebuild that returns False did not happen (the project was busy): the changes are kept and
    tried again after ``interval`` seconds, with whatever changed meanwhile. ``since``: the files
    as they were before the first build (:func:`files`); what changed between then and the moment
    the watch began (during that build, or while the server started) is rebuilt too, as file
    events only tell of changes made once the watch is set up."""
    import watchfiles  # only `serve` watches: not loaded by every `authcat` start

    root = root.resolve()  # the events name absolute paths
    folders = [root / folder for folder in WATCHED if (root / folder).is_dir()]
    pending: set[str] = set()
    for changes in watchfiles.watch(
        *folders, watch_filter=lambda _change, path: watched(root, path), stop_event=stop,
        debounce=int(interval * 1000), rust_timeout=int(interval * 1000), yield_on_timeout=True,
    ):
        pending |= {Path(path).relative_to(root).as_posix() for _change, path in changes}
        if since is not None:  # the first yield: the watch is set up, so nothing falls between
            now = files(root)
            pending |= {path for path in since.keys() | now.keys() if since.get(path) != now.get(path)}
            since = None
        if pending and rebuild(sorted(pending)):
            pending.clear()


@click.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option("--interval", type=click.FloatRange(min=0.2), default=1.0, show_default=True,
              help="Seconds to gather changed files into one rebuild (and between retries while the project is busy).")
@click.pass_obj
def serve_cmd(ctx: Context, port: int, interval: float) -> None:
    """Build the site, serve it on 127.0.0.1 and rebuild when definitions, templates, docs or data change."""

    project = ctx.project
    out = click.echo
    busy = [False]  # say "busy" once per wait, not at every poll

    def rebuild(reason: str, wait: bool = False) -> bool | None:
        """True when built, False when the build failed, None when the project was busy."""
        start = time.perf_counter()
        try:
            with project_lock(project.root, "serve", wait=wait):
                busy[0] = False
                report = build(project, ctx.hooks, isolated=True)
        except ProjectBusy as exc:
            if not busy[0]:
                click.echo(f"{project.root} is busy: {exc.holder} holds the project lock; "
                           "the preview rebuilds when it is free", err=True)
            busy[0] = True
            return None
        except Exception as exc:
            click.echo(f"rebuild failed ({reason}); still serving the last good build:\n{describe_error(exc)}", err=True)
            return False
        out(f"built {report.pages} pages in {time.perf_counter() - start:.1f} s ({reason})")
        return True

    has_previous = (project.site.build / "index.html").is_file()
    before = files(project.root)  # an edit during the first build must not go unseen
    try:
        ok = rebuild("start")
        if ok is None:  # another command holds the project: wait for it (Ctrl-C stops the wait)
            ok = rebuild("start", wait=True)
    except KeyboardInterrupt:
        return
    if not ok and not has_previous:
        raise AuthcatError("the first build failed and there is no earlier build to serve")

    server = PreviewServer(project.site.build, port)
    server.build_id = 1
    server.start()
    out(f"serving {server.url} — watching {', '.join(w + '/' for w in WATCHED)} (Ctrl-C to stop)")

    def on_change(files: list[str]) -> bool:
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        done = rebuild(shown)
        if done:
            server.build_id += 1
        return done is not None

    stop = threading.Event()
    # A terminate (as from a supervisor or a test) stops as cleanly as Ctrl-C.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        watch(project.root, on_change, stop, interval, since=before)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        out("stopped")


@hookimpl(trylast=True)
def authcat_register_commands(cli: click.Group) -> None:
    cli.add_command(serve_cmd)

"""The ``jupyter-server`` target: a local Jupyter Server with one generated token.

In the run's scratch directory this plugin makes a root folder with a notebook, a text file and
a sub-folder, and private Jupyter config/data/runtime folders (nothing from the user's own
``~/.jupyter`` is read). It starts ``python -m jupyter_server`` (see ``MAIN``) on a free loopback port with a
fresh random token passed through ``JUPYTER_TOKEN`` (never on the command line), waits for
``/api``, reads the version from it, and stops the server by its PID when the run ends, also on
errors and Ctrl-C.

Jupyter Server takes its token as ``Authorization: token <t>`` (``Bearer`` too, any case) or as
``?token=<t>``; a refused token gets ``403``. One token with every right is all there is:

* ``valid``: the token;
* ``expired``, ``revoked``, ``forged``, ``unprivileged``, ``deactivated``: not available, each with
  the reason below (never faked).

Options (``options:`` in the target profile): ``python``, the interpreter of another environment
whose Jupyter Server to run (the version is read from the server); ``startup_timeout`` in seconds
(default 60).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from catalog.api import (
    Credential,
    Credentials,
    LaunchContext,
    Launched,
    Launcher,
    LocalServer,
    State,
    TargetError,
    hookimpl,
    installed_version,
    option_python,
)

from .without_iri_grammar import run_module

UNAVAILABLE: dict[str, str] = {
    State.EXPIRED: "Jupyter Server's token has no expiry: it is valid until the server stops",
    State.REVOKED: "Jupyter Server has one token set at start; it cannot be revoked without a restart",
    State.FORGED: "Jupyter Server's token is an opaque shared secret, not a signed token",
    State.UNPRIVILEGED: "Jupyter Server has one token with every right: there is no unprivileged user",
    State.DEACTIVATED: "Jupyter Server has no user accounts to deactivate",
}

NOTEBOOK = {
    "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# authcat fixture"]}],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}


def make_token() -> str:
    """A fresh token whose raw, URL-encoded and JSON forms differ (``~ + / =`` and upper case):
    the run's scrubbing is exercised by the bundled target itself."""
    return f"Jt~{secrets.token_urlsafe(24)}+/A="


def _root(scratch: Path) -> Path:
    root = scratch / "root"
    (root / "notes").mkdir(parents=True, exist_ok=True)
    (root / "analysis.ipynb").write_text(json.dumps(NOTEBOOK))
    (root / "readme.txt").write_text("Files served by the authcat jupyter-server target.\n")
    (root / "notes" / "todo.txt").write_text("probe every endpoint under every token state\n")
    return root


def _env(scratch: Path, token: str) -> dict[str, str]:
    """Private Jupyter folders and the token; nothing of the operator's own Jupyter setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    for name in ("config", "data", "runtime"):
        (scratch / f"jupyter-{name}").mkdir(exist_ok=True)
    env.update({
        "JUPYTER_TOKEN": token,
        "JUPYTER_CONFIG_DIR": str(scratch / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(scratch / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "jupyter-runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "HOME": str(scratch),
    })
    return env


def jupyter_version(ctx: LaunchContext) -> str | None:
    """The version ``/api`` will state, without starting the server: the installed distribution's
    (``jupyter_server.__version__`` is read from it), or with ``options.python`` that interpreter's."""
    return installed_version("jupyter-server", option_python(ctx.options, "jupyter-server"))


def _version(base_url: str) -> str | None:
    with urllib.request.urlopen(f"{base_url}/api", timeout=10) as resp:  # loopback only
        body = json.load(resp)
    version = body.get("version") if isinstance(body, dict) else None
    return str(version) if version else None


def _accepts(base_url: str, token: str) -> bool:
    request = urllib.request.Request(f"{base_url}/api/status", headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status == 200
    except OSError:
        return False


MAIN = run_module("jupyter_server")  # python -m jupyter_server, a start without an unused grammar


@contextlib.contextmanager
def launch_jupyter(ctx: LaunchContext) -> Iterator[Launched]:
    python = option_python(ctx.options, "jupyter-server")
    timeout = float(ctx.options.get("startup_timeout", 60))
    scratch = ctx.scratch_dir
    scratch.mkdir(exist_ok=True)
    root = _root(scratch)
    token = make_token()

    def command(port: int) -> list[str]:
        return [
            python, "-c", MAIN, "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0", "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}",
            # CI runs as root; the server refuses that unless told. It serves 127.0.0.1 only.
            "--ServerApp.allow_root=True",
        ]

    with LocalServer("jupyter-server", command, scratch / "jupyter-server.log", env=_env(scratch, token),
                     secrets=[token]) as server:
        took = server.ready("/api", timeout)
        base_url = server.base_url
        version = _version(base_url)
        if not _accepts(base_url, token):
            raise TargetError("jupyter-server: the generated token is not accepted (/api/status)")
        ctx.log(f"jupyter-server {version} on {base_url} (pid {server.pid}), ready in {took:.1f} s")
        yield Launched(
            base_url=base_url,
            version=version,
            credentials=Credentials(roles={State.VALID: Credential(secret=token)}),
            serves=None,
            unavailable=dict(UNAVAILABLE),
        )


@hookimpl(trylast=True)
def authcat_register_targets(register):
    register("jupyter-server", Launcher(start=launch_jupyter, version=jupyter_version))

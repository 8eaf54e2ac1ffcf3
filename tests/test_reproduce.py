"""Reproduce a cell: the curl and httpx snippets run as pasted (placeholders exported) against a
real HTTP server on 127.0.0.1 and send exactly what the state means; the group page carries them
with a copy button's markup, and never a secret."""

from __future__ import annotations

import base64
import http.server
import os
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest

from catalog.answers.recipe import ClientAuth
from catalog.answers.reproduce import snippet
from catalog.hooks.manager import Hooks
from catalog.model.vocabulary import Endpoint
from catalog.pipeline import load_publication
from catalog.site.build import render_pages

ENDPOINT = Endpoint(api="x", id="getCurrentUser", method="GET", path="/rest/api/3/myself", group="Myself")
ENV = {"API_USER": "Me+You@Example.com", "API_TOKEN": "tok/EN=~@+", "API_REVOKED_TOKEN": "REV/oked=+",
       "API_OTHER_USER": "other@example.com"}


@contextmanager
def recording_server():
    seen: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def basic(user: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


EXPECTED = {
    "valid": basic(ENV["API_USER"], ENV["API_TOKEN"]),
    "revoked": basic(ENV["API_USER"], ENV["API_REVOKED_TOKEN"]),
    "wrong-identity": basic(ENV["API_OTHER_USER"], ENV["API_TOKEN"]),
    "scheme-case": "basic " + basic(ENV["API_USER"], ENV["API_TOKEN"]).split(" ", 1)[1],
    "wrong-scheme": "Bearer " + ENV["API_TOKEN"],
    "malformed": "Basic !!!",
    "anonymous": None,
}


@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_the_httpx_snippet_runs_as_pasted_and_sends_the_state(state):
    code = snippet(ENDPOINT, state, ClientAuth("basic")).python
    with recording_server() as (base, seen):
        done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **ENV, "API_BASE_URL": base},
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("200")
    assert seen == [{"path": ENDPOINT.path, "authorization": EXPECTED[state]}]


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_the_curl_snippet_runs_as_pasted_and_sends_the_state(state):
    command = snippet(ENDPOINT, state, ClientAuth("basic")).curl
    with recording_server() as (base, seen):
        done = subprocess.run(["bash", "-c", command], env={**os.environ, **ENV, "API_BASE_URL": base},
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert seen == [{"path": ENDPOINT.path, "authorization": EXPECTED[state]}]


def test_a_bearer_api_gets_bearer_snippets():
    bearer = ClientAuth("header", "Authorization", "Bearer")
    assert 'Authorization: Bearer \'"$API_REVOKED_TOKEN"' in snippet(ENDPOINT, "revoked", bearer).curl
    assert "'bearer '" in snippet(ENDPOINT, "scheme-case", bearer).python


def test_group_pages_carry_the_snippets_and_no_secret(project):
    hooks = Hooks()
    pages = {p.path: p.text for p in render_pages(load_publication(project, hooks), project.site, hooks)}
    page = pages["apis/jira-cloud/projects.md"]
    block = page.split('id="searchprojects--reproduce"')[1].split("</details>")[0]
    assert 'id="searchprojects--unknown-token-curl"' in block
    assert 'id="searchprojects--valid-curl"' in block and 'id="searchprojects--valid-httpx"' in block
    assert "$API_TOKEN" in block and "os.environ[&#39;API_TOKEN&#39;]" in block
    # Only placeholders: no token value from the Backlot corpus or the observations.
    assert "ATATT" not in page and "dstok_" not in page

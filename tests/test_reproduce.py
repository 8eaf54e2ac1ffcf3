"""Reproduce a cell: the curl and httpx snippets are generated from the cell's request record
alone, run as pasted (placeholders exported) against a real HTTP server on 127.0.0.1, send exactly
what was recorded, and stop when a placeholder is unset instead of sending an empty credential."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys

import pytest

from catalog.answers.reproduce import cell_snippet, snippet
from catalog.model.credentials import Credential, Credentials, Presentation
from catalog.runs.results import Cell
from catalog.secrets.record import credential_names, request_record
from tests.servers.recorder import RecordingServer

ENV = {"EMAIL": "Me+You@Example.com", "API_TOKEN": "tok/EN=~@+", "REVOKED_TOKEN": "REV/oked=+x"}
CREDS = Credentials({"valid": Credential(ENV["API_TOKEN"], ENV["EMAIL"]),
                     "revoked": Credential(ENV["REVOKED_TOKEN"], ENV["EMAIL"])})
NAMES = credential_names(CREDS)
BASE = "http://127.0.0.1:1"


def basic(user: str, token: str, word: str = "Basic") -> str:
    return f"{word} " + base64.b64encode(f"{user}:{token}".encode()).decode()


# state -> (what the prober sent, the Authorization header the snippet must send)
SENT = {
    "valid": Presentation({"Authorization": basic(ENV["EMAIL"], ENV["API_TOKEN"])}),
    "revoked": Presentation({"Authorization": basic(ENV["EMAIL"], ENV["REVOKED_TOKEN"])}),
    "scheme-case": Presentation({"Authorization": basic(ENV["EMAIL"], ENV["API_TOKEN"], "basic")}),
    "wrong-scheme": Presentation({"Authorization": "Bearer " + ENV["API_TOKEN"]}),
    "malformed": Presentation({"Authorization": "Basic !!!"}),
    "anonymous": Presentation(),
    "query-parameter": Presentation(query={"token": ENV["API_TOKEN"]}),
}


def record(state: str) -> dict:
    return request_record("GET", BASE + "/rest/api/3/myself?expand=groups", BASE, SENT[state],
                          {"Accept": "application/json"}, state, NAMES)


def test_records_hold_placeholders_never_values():
    assert record("valid")["headers"] == [["Accept", "application/json"],
                                          ["Authorization", "Basic {base64:{EMAIL}:{API_TOKEN}}"]]
    assert record("scheme-case")["headers"][1] == ["Authorization", "basic {base64:{EMAIL}:{API_TOKEN}}"]
    assert record("malformed")["headers"][1] == ["Authorization", "Basic !!!"]  # the literal sent
    assert record("query-parameter")["url"] == "{API_BASE_URL}/rest/api/3/myself?expand=groups&token={API_TOKEN}"
    assert record("revoked")["placeholders"]["REVOKED_TOKEN"] == {"kind": "credential", "means": "a revoked token"}
    text = repr([record(s) for s in SENT])
    assert ENV["API_TOKEN"] not in text and ENV["EMAIL"] not in text and "REV/oked" not in text


def _expected(state: str) -> tuple[str | None, str]:
    return SENT[state].headers.get("Authorization"), ""


@pytest.mark.parametrize("state", sorted(SENT))
def test_the_httpx_snippet_runs_as_pasted_and_sends_the_record(state):
    code = snippet(record(state), state).python
    with RecordingServer() as server:
        done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **ENV, "API_BASE_URL": server.url},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        seen = server.requests
    assert len(seen) == 1
    auth, _query = _expected(state)
    assert seen[0]["headers"].get("authorization") == auth
    assert seen[0]["path"].startswith("/rest/api/3/myself?expand=groups")
    if SENT[state].query:
        assert "token=" in seen[0]["path"] and seen[0]["query"]["token"] == [ENV["API_TOKEN"]]


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
@pytest.mark.parametrize("state", sorted(SENT))
def test_the_curl_snippet_runs_as_pasted_and_sends_the_record(state):
    command = snippet(record(state), state).curl
    assert "-w0" not in command
    if state == "valid":
        assert '-u "${EMAIL:?set EMAIL}":"${API_TOKEN:?set API_TOKEN}"' in command
    with RecordingServer() as server:
        done = subprocess.run(["bash", "-c", command], env={**os.environ, **ENV, "API_BASE_URL": server.url},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        seen = server.requests
    assert len(seen) == 1
    assert seen[0]["headers"].get("authorization") == _expected(state)[0]
    if SENT[state].query:
        assert seen[0]["query"]["token"] == [ENV["API_TOKEN"]]


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
def test_an_unset_placeholder_stops_the_snippet_before_anything_is_sent():
    sn = snippet(record("revoked"), "revoked")
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    with RecordingServer() as server:
        env["API_BASE_URL"] = server.url
        env["EMAIL"] = ENV["EMAIL"]
        curl = subprocess.run(["bash", "-c", sn.curl], env=env, capture_output=True, text=True, timeout=60)
        python = subprocess.run([sys.executable, "-c", sn.python], env=env, capture_output=True, text=True, timeout=60)
        assert server.requests == []
    assert curl.returncode != 0 and "set REVOKED_TOKEN" in curl.stderr
    assert python.returncode != 0 and "set REVOKED_TOKEN" in python.stderr


def test_a_cell_without_a_request_has_no_snippet_but_its_reason():
    sn = cell_snippet(Cell("revoked", "n/a", "the target offers no revoked credential"))
    assert (sn.curl, sn.python) == ("", "") and sn.note == "the target offers no revoked credential"


def test_group_pages_carry_snippets_from_the_committed_records(project):
    """The committed Jupyter observations carry their request records: the Server group page shows
    each state's curl and httpx (tabs) with the expected answer; the query-parameter presentation
    sends Jupyter's own ?token=, the scheme-case one differs from the valid one, an n/a state has
    no snippet but its reason, and no token value is on the page."""
    import html

    from catalog.hooks.manager import Hooks
    from catalog.pipeline import load_publication
    from catalog.site.build import render_pages

    hooks = Hooks()
    pages = {p.path: p.text for p in render_pages(load_publication(project, hooks), project.site, hooks)}
    page = html.unescape(pages["apis/jupyter-server/server.md"])
    block = page.split('id="me--reproduce"')[1].split("</details>")[0]
    assert 'class="tabbed-set tabbed-alternate"' in block and ">curl</label>" in block and ">httpx</label>" in block
    assert "expected: <strong>200 as-valid</strong>" in block and "expected: <strong>403 forbidden</strong>" in block

    def curl(state: str) -> str:
        return block.split(f'id="me--local--{state}-curl"')[1].split("</code>")[0]

    assert "--data-urlencode token=" in curl("query-parameter") and "access_token" not in curl("query-parameter")
    assert "'Authorization: TOKEN '" in curl("scheme-case") and "'Authorization: token '" in curl("valid")
    assert '"${API_TOKEN:?set API_TOKEN}"' in curl("valid") and "'Authorization: token !!!'" in curl("malformed")
    assert 'id="me--local--revoked-curl"' not in block and "No request: " in block
    assert "Jt~" not in page  # every token the launcher makes starts so

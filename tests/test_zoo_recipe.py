"""The guide's recipe, pasted and run against real zoo servers: the script presents the token as
each API's scheme says (Bearer, an API-key header, a query parameter), reads the declared
envelope, and tells an accepted token from a refused one; its curl equivalent sends the same."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys

import pytest

from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, load_publication
from catalog.site.build import render_pages
from tests.servers.zoo import ZooServer
from tests.servers.zoo_project import run_zoo

SCRIPT = re.compile(r'<code class="language-python authcat-recipe" data-target="zoo">(.*?)</code>', re.S)
CURL = re.compile(r'<code class="language-shell authcat-curl" data-target="zoo">(.*?)</code>', re.S)


def _guide(root) -> str:
    hooks = Hooks()
    pages = {p.path: p.text for p in render_pages(load_publication(Project(root), hooks), Project(root).site, hooks)}
    return pages["apis/zoo/guide.md"]


@pytest.mark.parametrize(("behaviour", "sent"), [
    ("bearer-only", "-H 'Authorization: Bearer '"),
    ("envelope", "-H 'Authorization: Bearer '"),
    ("key-header", "-H 'X-Api-Key: '"),
    ("key-query", "--get --data-urlencode api_key="),
])
def test_recipe_runs_as_pasted_against_the_server(tmp_path, behaviour, sent):
    zoo = run_zoo(tmp_path / "p", behaviour)
    page = _guide(zoo.root)
    script = tmp_path / "recipe.py"
    script.write_text(html.unescape(SCRIPT.search(page).group(1)))
    curl = html.unescape(CURL.search(page).group(1))
    assert sent in curl
    clean = {k: v for k, v in os.environ.items() if not k.startswith("API_")}
    pasted = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=clean)
    assert pasted.returncode == 2 and "set API_BASE_URL and API_TOKEN first" in pasted.stderr
    with ZooServer(behaviour, zoo.tokens["valid"], expired=zoo.tokens["expired"], other=zoo.tokens["unprivileged"]) as server:
        def run(token: str) -> str:
            env = {**clean, "API_BASE_URL": server.url, "API_TOKEN": token}
            done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
            assert done.returncode == 0, done.stderr
            return done.stdout
        good, bad = run(zoo.tokens["valid"]), run("Zoo~never+issued/AB=")
        assert "token check: accepted" in good and "token check: rejected" in bad
        # The second line: the request where the status code does not tell, judged by the rules
        # (a 401 no rule was recommended for stays "unknown": the token check above said it).
        assert good.splitlines()[-1].endswith(" accepted") and not bad.splitlines()[-1].endswith(" accepted")
        if behaviour == "envelope":  # every answer was a 200: only the declared envelope tells
            assert " 200 rejected" in bad
        env = {**clean, "API_BASE_URL": server.url, "API_TOKEN": zoo.tokens["valid"]}
        shown = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=60, env=env)
        assert shown.returncode == 0 and shown.stdout.startswith("HTTP/1.0 200")


def test_the_guide_says_nothing_that_did_not_happen(tmp_path):
    """With no bad credential probed, no sentence claims one was refused or served."""
    zoo = run_zoo(tmp_path / "p", "bearer-only", api={"states": ["valid", "anonymous"]})
    assert {r.verdict for r in zoo.run.endpoints.values()} <= {"inconclusive", "public"}
    page = _guide(zoo.root)
    assert "No bad credential was available on this target" in page
    text = page.lower()
    for claim in ("a bad credential was refused", "every bad state is refused", "the bad credentials got"):
        assert claim not in text
    assert zoo.target.token_check.candidates == []


def test_the_guide_of_an_unrecognised_target_offers_no_recipe(tmp_path):
    zoo = run_zoo(tmp_path / "p", "ignores")
    page = _guide(zoo.root)
    assert "The valid credential was never recognised here." in page
    assert SCRIPT.search(page) is None and CURL.search(page) is None

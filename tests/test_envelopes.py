"""Auth-failure envelopes (rule alternatives, field conditions, non-auth errors) on the zoo's
`200`-envelope server, and lint of api.yaml / profiles: envelopes that can never match, headers
that would carry or steer a credential — each problem as ``file:line: field: message``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from catalog.definitions.loader import load_api
from catalog.definitions.yamlfile import DefinitionError
from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, build
from tests.servers.zoo_project import ENDPOINTS, run_zoo
from tests.support.project import run_cli

ENVELOPE = {
    "scheme": "bearer",
    "auth_failure": [
        {"name": "missing-credential", "when": {"/ok": False, "/error": "not_authed"}},
        {"name": "refused", "when": {"/ok": {"equals": False},
                                     "/error": {"one_of": ["invalid_auth", "token_expired"], "pattern": "^(invalid|token)_"}}},
    ],
    "other_errors": [{"name": "not-found", "when": {"/ok": False, "/error": {"pattern": "_not_found$"}}}],
}
MISSING = {"id": "missingChannel", "method": "GET", "path": "/api/missing"}


def test_envelope_rules_name_the_refusal_and_keep_non_auth_errors_apart(tmp_path):
    zoo = run_zoo(tmp_path / "p", "envelope", api=ENVELOPE, endpoints=[*ENDPOINTS, MISSING])
    items = zoo.run.endpoints["listItems"].cells
    assert items["valid"].outcome == "as-valid"
    assert items["anonymous"].outcome == "rejected-in-body"
    assert items["anonymous"].note.endswith("(rule missing-credential)")
    for state in ("malformed", "unknown-token", "expired"):
        assert items[state].outcome == "rejected-in-body", state
        assert items[state].observation is not None and items[state].observation.fields["auth-failure"] == "refused"
    assert zoo.run.endpoints["listItems"].verdict == "fails-closed"  # on the old main: falls-open
    # The valid caller's non-auth error in the same envelope is no refusal, and no data either.
    missing = zoo.run.endpoints["missingChannel"]
    assert missing.cells["valid"].outcome == "client-error"
    assert missing.cells["valid"].note == "200 whose body is a non-auth error (rule not-found)"
    assert missing.verdict == "inconclusive" and "non-auth error" in missing.reason
    stored = json.loads((tmp_path / "p" / "site" / "data" / "observations" / "zoo" / "zoo.json").read_text())
    assert stored["endpoints"]["listItems"]["states"]["expired"]["fields"]["auth-failure"] == "refused"
    # The site says which rule matched, on the cell.
    build(Project(tmp_path / "p"), Hooks())
    page = (tmp_path / "p" / "site" / "build" / "apis" / "zoo" / "index.html").read_text()
    assert "the body is the API&#39;s auth-failure envelope (rule refused)" in page
    # And which presentations of the valid secret this target accepts, apart from the verdicts.
    section = page[page.find('class="authcat-presentations"'):][:3000]
    assert "accepts the scheme word in another case" in section, section
    assert "refuses the secret under Basic too" in section, section


def _api_dir(tmp_path: Path, api_yaml: str, target_yaml: str | None = None) -> Path:
    folder = tmp_path / "endpoints" / "demo"
    (folder / "targets").mkdir(parents=True)
    (folder / "api.yaml").write_text(textwrap.dedent(api_yaml))
    (folder / "things.yaml").write_text("group: Things\nendpoints:\n- {id: one, method: GET, path: /one}\n")
    if target_yaml:
        (folder / "targets" / "local.yaml").write_text(textwrap.dedent(target_yaml))
    return folder


def _problems(folder: Path) -> list[str]:
    with pytest.raises(DefinitionError) as exc:
        load_api(folder, folder.parent)
    return [str(p) for p in exc.value.problems]


def test_lint_refuses_envelopes_that_can_never_match(tmp_path):
    folder = _api_dir(tmp_path, """\
        name: demo
        title: Demo
        auth_failure:
        - name: listed
          when:
            /error: [invalid_auth, not_authed]
        - name: empty
          when:
            /error: {one_of: []}
        - name: contradiction
          when:
            /error: {equals: expired, one_of: [invalid_auth]}
        - name: absent-and-equal
          when:
            /ok: {present: false, equals: false}
        - name: broken-regex
          when:
            /error: {pattern: "(unclosed"}
        - name: listed
          when:
            /ok: false
        """)
    assert _problems(folder) == [
        ("endpoints/demo/api.yaml:6: auth_failure[0].when./error: a list never equals a field here; "
         "write `{one_of: [...]}` for alternatives"),
        "endpoints/demo/api.yaml:9: auth_failure[1].when./error.one_of: an empty one_of can never match",
        "endpoints/demo/api.yaml:12: auth_failure[2].when./error: equals 'expired' is not in one_of: the rule can never match",
        "endpoints/demo/api.yaml:15: auth_failure[3].when./ok: `present: false` with a value test can never match",
        ("endpoints/demo/api.yaml:18: auth_failure[4].when./error.pattern: not a regular expression RE2 can run in linear time "
         "(missing ): (unclosed); backreferences and lookaround are not supported"),
        "endpoints/demo/api.yaml:19: auth_failure[5].name: rule name 'listed' is used twice (first at line 4)",
    ]


def test_lint_refuses_headers_that_carry_or_steer_credentials(tmp_path):
    folder = _api_dir(tmp_path, """\
        name: demo
        title: Demo
        scheme: {header: X-Api-Key}
        headers:
          Authorization: Bearer abc
          X-API-KEY: abc
          Proxy-Authorization: x
          X-Api-Version: "2"
        """, """\
        name: local
        base_url: http://127.0.0.1:9
        headers:
          cookie: a=b
          Host: evil.example
        options:
          headers: {X-Api-Version: "2"}
        """)
    problems = _problems(folder)
    denied = ("may not be set from a file: it carries or steers credentials (denied: Authorization, Cookie, Host, "
              "Proxy-*, Content-Length, Transfer-Encoding, Connection)")
    assert problems[:3] == [
        f"endpoints/demo/api.yaml:5: headers.Authorization: 'Authorization' {denied}",
        "endpoints/demo/api.yaml:6: headers.X-API-KEY: 'X-API-KEY' is the API's auth scheme header: the token states set it",
        f"endpoints/demo/api.yaml:7: headers.Proxy-Authorization: 'Proxy-Authorization' {denied}",
    ]
    assert [p.split(": ")[0:2] for p in problems[3:]] == [
        ["endpoints/demo/targets/local.yaml:4", "headers.cookie"],
        ["endpoints/demo/targets/local.yaml:5", "headers.Host"],
        ["endpoints/demo/targets/local.yaml:7", "options.headers"],
    ]
    assert "static headers go in `headers:`" in problems[5]


def test_lint_refuses_a_query_value_in_the_schemes_own_parameter(tmp_path):
    folder = _api_dir(tmp_path, """\
        name: demo
        title: Demo
        scheme: {keyword: token, query_parameter: token}
        query: {token: abc, api-version: "7.1"}
        """)
    assert _problems(folder) == [
        "endpoints/demo/api.yaml:4: query.token: 'token' is where the API's scheme sends the secret: the token states set it",
    ]


def test_lint_cli_names_file_line_and_field_without_a_traceback(tmp_path):
    _api_dir(tmp_path, """\
        name: demo
        title: Demo
        scheme: {keyword: SSWS, value: "{secret}-{user}"}
        other_errors:
        - {name: gone, when: {/ok: {}}}
        """)
    (tmp_path / "site").mkdir()
    done = run_cli(tmp_path, "lint")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "endpoints/demo/api.yaml:3: scheme.value: only {identity} and {secret} may appear in braces" in done.stderr
    assert "endpoints/demo/api.yaml:5: other_errors[0].when./ok: no test: give one of equals, one_of, pattern, present" in done.stderr
    unknown = _api_dir(tmp_path / "b", "name: demo\ntitle: Demo\nscheme: hmac\n")
    (tmp_path / "b" / "site").mkdir()
    done = run_cli(tmp_path / "b", "lint")
    assert done.returncode == 2 and "endpoints/demo/api.yaml:3: scheme: no auth scheme named 'hmac'" in done.stderr
    assert unknown.is_dir()


def test_a_changed_envelope_is_probed_again_not_served_from_the_cache(tmp_path, monkeypatch):
    """Envelope rules are matched while probing (bodies are not kept): editing them must not
    leave cells judged by the old rule."""
    from catalog.engine.runner import RunOptions
    from catalog.pipeline import probe
    from tests.servers.zoo import ZooServer
    from tests.support.project import make_project

    token = "Env~tok@+/=XY"
    with ZooServer("envelope", token) as server:
        profile = {"name": "zoo", "base_url_env": "ENV_ZOO_URL", "timeout": 5, "retries": 0,
                   "credentials": {"valid": {"secret": {"env": "ENV_ZOO_TOKEN"}}}}
        make_project(tmp_path, "zoo", ENDPOINTS[:1], profile, ENVELOPE)
        monkeypatch.setenv("ENV_ZOO_URL", server.url)
        monkeypatch.setenv("ENV_ZOO_TOKEN", token)

        def once():
            [run], _ = probe(Project(tmp_path), Hooks(), RunOptions(log=lambda m: None))
            return run

        first = once()
        assert first.endpoints["listItems"].cells["malformed"].note.endswith("(rule refused)")
        assert once().meta["reused"] == 1  # nothing changed: the cached cells are reused
        api_yaml = tmp_path / "endpoints" / "zoo" / "api.yaml"
        api_yaml.write_text(api_yaml.read_text().replace("name: refused", "name: bad-token"))
        again = once()
    assert again.meta["reused"] == 0
    assert again.endpoints["listItems"].cells["malformed"].note.endswith("(rule bad-token)")

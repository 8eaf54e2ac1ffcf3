"""The change log (``site/data/changes.json``) and the site's Changes page.

``pipeline.record`` appends every cell that moved, with the run's date and the target versions
before and after; a run that moves nothing appends nothing; the page groups entries by run,
newest first, links each endpoint to its section and marks regressions.
"""

from __future__ import annotations

import json

from catalog.hooks.manager import Hooks
from catalog.pipeline import load_publication, read_changes, record
from catalog.runs.store import Store
from catalog.site.build import render_pages
from tests.support.runs import make_run

D1, D2, D3 = "2025-01-01T10:00:00Z", "2025-02-01T11:30:00Z", "2025-03-01T09:15:00Z"
ACTOR = "/-/actor.json"


def _run(version: str, date: str, expired: tuple[str, int], forged: tuple[str, int] = ("rejected", 401)):
    return make_run("datasette", "local", version, date, {
        "actor": {"valid": ("as-valid", 200), "expired": expired, "forged": forged},
    }, path_of=lambda e: ACTOR)


def test_first_run_logs_nothing_then_each_moved_cell_once(empty_project):
    project = empty_project
    assert record(project, [_run("1.0a41", D1, ("rejected", 401))]) == []
    assert not project.changes_file.exists()

    changes = record(project, [_run("1.0a35", D2, ("as-anonymous", 200))])
    assert [str(c) for c in changes] == [f"GET {ACTOR}  expired: rejected → as-anonymous"]
    (entry,) = read_changes(project)
    assert entry == {
        "date": D2, "previous_date": D1, "api": "datasette", "target": "local",
        "target_version": "1.0a35", "previous_version": "1.0a41",
        "endpoint": "actor", "method": "GET", "path": ACTOR, "state": "expired",
        "before": "rejected", "after": "as-anonymous", "before_status": 401, "after_status": 200,
        "regression": True, "cause": "server",
    }
    # The replaced file is kept for `authcat diff`.
    assert Store(project.data).read("datasette", "local", previous=True).version == "1.0a41"

    # Same outcomes again (new date): nothing appended, the log is not even rewritten.
    before = project.changes_file.read_bytes()
    assert record(project, [_run("1.0a35", D3, ("as-anonymous", 200))]) == []
    assert project.changes_file.read_bytes() == before


def test_log_keeps_history_in_order_and_stays_credential_free(empty_project):
    project = empty_project
    record(project, [_run("1.0a41", D1, ("rejected", 401))])
    record(project, [_run("1.0a35", D2, ("as-anonymous", 200), ("as-anonymous", 200))])
    record(project, [_run("1.0a41", D3, ("rejected", 401))])
    log = read_changes(project)
    assert [(e["date"], e["state"], e["before"], e["after"]) for e in log] == [
        (D2, "expired", "rejected", "as-anonymous"),
        (D2, "forged", "rejected", "as-anonymous"),
        (D3, "expired", "as-anonymous", "rejected"),
        (D3, "forged", "as-anonymous", "rejected"),
    ]
    assert [e["regression"] for e in log] == [True, True, False, False]
    text = project.changes_file.read_text()
    assert json.loads(text) == log and text.endswith("\n")
    assert "dstok_" not in text and "Authorization" not in text


def _changes_page(project) -> str:
    hooks = Hooks()
    pages = {page.path: page.text for page in render_pages(load_publication(project, hooks), project.site, hooks)}
    return pages["changes.md"]


def test_changes_page_groups_runs_newest_first_with_versions(empty_project):
    project = empty_project
    record(project, [_run("1.0a41", D1, ("rejected", 401))])
    record(project, [_run("1.0a35", D2, ("as-anonymous", 200), ("as-anonymous", 200))])
    record(project, [_run("1.0a41", D3, ("rejected", 401))])
    page = _changes_page(project)
    newest = page.index("2025\\-03\\-01 09:15:00 UTC")
    older = page.index("2025\\-02\\-01 11:30:00 UTC")
    assert newest < older
    assert "datasette on local (1.0a35 → 1.0a41)" in page
    assert "datasette on local (1.0a41 → 1.0a35)" in page
    assert "Compared with the run of 2025\\-01\\-01 10:00:00 UTC." in page
    # Within a run the logged order is kept: expired before forged.
    section = page[older:]
    assert section.index("<code>expired</code>") < section.index("<code>forged</code>")
    assert page.count('class="regression"') == 2 and "<strong>regression</strong>" in page
    assert "rejected (401)" in page and "as-anonymous (200)" in page
    # Each endpoint links to its section on the group page (the page lives at /changes.html).
    assert f'<a href="apis/datasette/instance-and-introspection.html#actor"><code>GET {ACTOR}</code></a>' in page


def test_changes_page_reads_older_log_entries_and_an_empty_log(empty_project):
    project = empty_project
    assert "No change has been recorded yet." in _changes_page(project)
    # An entry written before versions-before were logged, for an endpoint since removed.
    project.changes_file.write_text(json.dumps([{
        "api": "datasette", "target": "local", "endpoint": "gone", "method": "GET", "path": "/gone<b>.json",
        "state": "expired", "before": "as-anonymous", "after": "rejected", "before_status": 200,
        "after_status": 401, "date": D1, "target_version": "1.0a41",
    }]))
    page = _changes_page(project)
    assert "datasette on local (1.0a41)" in page
    assert "<code>GET /gone&lt;b&gt;.json</code>" in page  # escaped, and not linked
    assert 'class="regression"' not in page and "<strong>regression</strong>" not in page


def _killed_after_the_log(project, monkeypatch, run):
    """``record`` dies right after writing the change log, before any observation file."""
    def die(self, run):
        raise KeyboardInterrupt("killed between the log and the observations")
    with monkeypatch.context() as m:
        m.setattr(Store, "write", die)
        try:
            record(project, [run])
        except KeyboardInterrupt:
            pass
        else:
            raise AssertionError("record did not reach Store.write")


def test_a_run_killed_between_log_and_observations_leaves_no_duplicate(empty_project, monkeypatch):
    project = empty_project
    record(project, [_run("1.0a41", D1, ("rejected", 401))])
    _killed_after_the_log(project, monkeypatch, _run("1.0a35", D2, ("as-anonymous", 200)))
    assert [e["date"] for e in read_changes(project)] == [D2], "the killed run logged its move"
    assert Store(project.data).read("datasette", "local").meta["date"] == D1, "but its observations never landed"

    # The next run sees the same move from the same stored run: it is logged once, with its date.
    record(project, [_run("1.0a35", D3, ("as-anonymous", 200))])
    assert [(e["date"], e["previous_date"], e["after"]) for e in read_changes(project)] == [(D3, D1, "as-anonymous")]


def test_a_killed_runs_entry_is_withdrawn_when_the_next_run_sees_no_move(empty_project, monkeypatch):
    project = empty_project
    record(project, [_run("1.0a41", D1, ("rejected", 401))])
    _killed_after_the_log(project, monkeypatch, _run("1.0a35", D2, ("as-anonymous", 200)))
    # The stored observations still say `rejected`: a log saying it moved would contradict them.
    assert record(project, [_run("1.0a41", D3, ("rejected", 401))]) == []
    assert read_changes(project) == []

"""``authcat collect`` refuses what is not a user's own tenant, with one clear line and exit 2."""

from __future__ import annotations

from tests.support.project import copy_project, run_cli


def test_collect_says_what_is_wrong_and_writes_nothing(tmp_path):
    root = copy_project(tmp_path / "p", with_data=False)
    out = tmp_path / "x.json"
    cases = {
        ("jira-cloud", "backlot"): "started locally by the 'backlot' plugin",  # a launched target is no tenant
        ("jira-cloud", "nowhere"): "jira-cloud has no target 'nowhere'",
        ("no-such-api", "my-site"): "no API named 'no-such-api'",
        ("jira-cloud", "my-site"): "set JIRA_BASE_URL",  # not ready: the URL comes from the environment
    }
    for (api, target), said in cases.items():
        done = run_cli(root, "collect", "--api", api, "--target", target, "--out", str(out), env={"JIRA_BASE_URL": ""})
        assert done.returncode == 2, done.stderr
        assert said in done.stderr and "Traceback" not in done.stderr
        assert not out.exists()


def test_a_broken_submission_stops_the_build_naming_the_file(tmp_path):
    root = copy_project(tmp_path / "p", with_data=False)
    folder = root / "site" / "data" / "submissions" / "jira-cloud"
    folder.mkdir(parents=True)
    for name, text in (("tenant-0000000000000000.json", "{not json"), ("tenant-1111111111111111.json", '{"api": 1}')):
        path = folder / name
        path.write_text(text)
        done = run_cli(root, "build")
        assert done.returncode == 2, done.stderr
        assert str(path) in done.stderr and "authcat lint" in done.stderr and "Traceback" not in done.stderr
        assert not (root / "site" / "build").exists()
        path.unlink()

"""The probe run's progress display: a bar per target in a terminal, plain lines in a log or CI."""

from __future__ import annotations

import io

from rich.console import Console

from catalog.cli import probe_progress
from catalog.engine.runner import RunOptions


def _show(console: Console, targets: dict[str, int]) -> str:
    options = RunOptions(log=lambda m: None)
    with probe_progress(options, console):
        assert options.track is not None
        for label, total in targets.items():
            advance = options.track(label, total)
            for _ in range(total):
                advance(1)
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def test_without_a_terminal_each_long_target_says_its_quarters_in_plain_lines(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    shown = _show(Console(file=io.StringIO(), force_terminal=False, width=200), {"jira-cloud on backlot": 200, "small on x": 12})
    assert shown.splitlines() == [f"jira-cloud on backlot: {n}/200 probes" for n in (50, 100, 150, 200)]


def test_in_ci_a_terminal_gets_plain_lines_too(monkeypatch):
    monkeypatch.setenv("CI", "true")
    shown = _show(Console(file=io.StringIO(), force_terminal=True, width=200), {"matrix on synapse": 100})
    assert "matrix on synapse: 100/100 probes" in shown.splitlines()
    assert "\x1b[" not in shown  # no cursor movement in a CI log


def test_a_terminal_gets_a_bar_per_target(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    options = RunOptions(log=lambda m: None)
    with probe_progress(options, console):
        assert options.track is not None
        first, second = options.track("jira-cloud on backlot", 10), options.track("confluence-cloud on backlot", 4)
        first(10)
        second(2)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    # Its last drawing before the bars are cleared away (the summary lines follow them).
    assert "jira-cloud on backlot" in shown and "confluence-cloud on backlot" in shown
    assert "10/10" in shown and "2/4" in shown

"""Machine-readable reports of a comparison between two runs: JUnit XML and SARIF 2.1.0.

``authcat check`` compares a fresh run with a baseline run of the same API. CI systems read the
result as JUnit (one testcase per endpoint × state compared, a failure per regression) and code
scanning tools as SARIF (a rule per kind of regression, a result per regression located at the
endpoint's definition in ``endpoints/<api>/…yaml``).
"""

from __future__ import annotations

import contextlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from catalog import __version__
from catalog.model.definition import Source
from catalog.model.judgement import OUTCOMES, SERVED_2XX
from catalog.model.vocabulary import Outcome
from catalog.runs.diff import Change, ComparedCell, changes_in, compared_cells
from catalog.runs.results import TargetRun
from catalog.runs.store import atomic_write

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/authcat/authcat"

# Locates an endpoint's definition: (api, endpoint id) -> file and line, or None when unknown.
Locator = Callable[[str, str], "Source | None"]


@dataclass
class Comparison:
    """A run compared with an earlier (or baseline) run of the same API."""

    old: TargetRun
    new: TargetRun
    cells: list[ComparedCell] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.regression]

    @property
    def title(self) -> str:
        return f"{self.new.api}: {describe(self.old)} → {describe(self.new)}"


def describe(run: TargetRun) -> str:
    """``local (1.0a41, 2025-11-27T18:44:00Z)``: which target, which version, when."""
    facts = [f for f in (run.version, run.meta.get("date")) if f]
    return f"{run.target} ({', '.join(facts)})" if facts else run.target


def compare(old: TargetRun, new: TargetRun) -> Comparison:
    cells = compared_cells(old, new)
    return Comparison(old, new, [c for c in cells if c.observed], changes_in(new, cells))


# Regression kinds: what a bad state that used to be refused gets now.
RULES: dict[str, tuple[str, str]] = {
    Outcome.AS_ANONYMOUS: ("RejectedNowServedAsAnonymous", "A bad credential that was refused is now served what anonymous callers get."),
    Outcome.IGNORED: ("RejectedNowServedLikeEveryone", "A bad credential that was refused is now served the answer everybody gets."),
    Outcome.AS_VALID: ("RejectedNowServedAsValid", "A bad credential that was refused now gets the valid credential's answer."),
    Outcome.EMPTY: ("RejectedNowServedEmpty", "A bad credential that was refused now gets a 2xx with an empty collection."),
    Outcome.PARTIAL: ("RejectedNowServedPartial", "A bad credential that was refused now gets a 2xx that differs from both baselines."),
}
assert set(RULES) == SERVED_2XX


def rule_id(change: Change) -> str:
    return f"regression/{change.after}"


def _status(status: int | None) -> str:
    return f" ({status})" if status is not None else ""


def regression_message(change: Change, comparison: Comparison) -> str:
    return (
        f"{change.api} {change.endpoint} ({change.method} {change.path}), state {change.state}: "
        f"{change.before}{_status(change.before_status)} on {describe(comparison.old)} → "
        f"{change.after}{_status(change.after_status)} on {describe(comparison.new)}"
    )


def _relative(file: str, root: Path | None) -> str:
    """The definition file relative to the project root (the loader already gives it so)."""
    path = Path(file)
    if root is not None and path.is_absolute():
        with contextlib.suppress(ValueError):
            path = path.resolve().relative_to(root.resolve())
    return path.as_posix()


# --- JUnit XML --------------------------------------------------------------------------------


def junit_xml(comparisons: list[Comparison], locate: Locator | None = None, root: Path | None = None) -> str:
    """One ``testsuite`` per comparison; a ``testcase`` per endpoint × state; a ``failure`` per regression."""
    suites = ET.Element("testsuites", name="authcat check")
    total = failures = 0
    for comparison in comparisons:
        by_cell = {(c.endpoint, c.state): c for c in comparison.changes}
        suite = ET.SubElement(suites, "testsuite", name=comparison.title)
        props = ET.SubElement(suite, "properties")
        for name, run in (("baseline", comparison.old), ("run", comparison.new)):
            ET.SubElement(props, "property", name=f"{name}.target", value=run.target)
            ET.SubElement(props, "property", name=f"{name}.target_version", value=str(run.version or ""))
            ET.SubElement(props, "property", name=f"{name}.date", value=str(run.meta.get("date") or ""))
        suite_failures = 0
        for cell in comparison.cells:
            case = ET.SubElement(
                suite, "testcase", classname=f"{comparison.new.api}.{cell.endpoint}",
                name=f"{cell.method} {cell.path} [{cell.state}]",
            )
            source = locate(comparison.new.api, cell.endpoint) if locate else None
            if source is not None:
                case.set("file", _relative(source.file, root))
                if source.line:
                    case.set("line", str(source.line))
            change = by_cell.get((cell.endpoint, cell.state))
            if change is None:
                continue
            text = regression_message(change, comparison)
            if change.regression:
                suite_failures += 1
                failure = ET.SubElement(case, "failure", type=rule_id(change), message=text)
                failure.text = f"{text}\n{RULES[change.after][1]}"  # type: ignore[index]
            else:
                ET.SubElement(case, "system-out").text = f"changed (not a regression): {text}"
        suite.set("tests", str(len(comparison.cells)))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total += len(comparison.cells)
        failures += suite_failures
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    suites.set("errors", "0")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# --- SARIF 2.1.0 ------------------------------------------------------------------------------


def sarif(comparisons: list[Comparison], locate: Locator | None = None, root: Path | None = None) -> dict:
    """A SARIF 2.1.0 log: one run of the ``authcat`` tool, a rule per regression kind used."""
    regressions = [(c, comparison) for comparison in comparisons for c in comparison.regressions]
    used = sorted({c.after for c, _ in regressions if c.after})
    rules = [
        {
            "id": f"regression/{after}",
            "name": RULES[after][0],
            "shortDescription": {"text": RULES[after][1]},
            "fullDescription": {
                "text": f"{RULES[after][1]} Outcome {after}: {OUTCOMES[after][0]} "
                        "A client can no longer tell a dead credential from an accepted one by the status code."
            },
            "helpUri": f"{INFO_URI}#outcomes",
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["security", "authentication"]},
        }
        for after in used
    ]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for change, comparison in regressions:
        source = locate(change.api, change.endpoint) if locate else None
        location: dict = {
            "logicalLocations": [{
                "name": change.endpoint, "fullyQualifiedName": f"{change.api}/{change.endpoint}", "kind": "resource",
            }],
        }
        if source is not None:
            physical: dict = {"artifactLocation": {"uri": _relative(source.file, root), "uriBaseId": "%SRCROOT%"}}
            if source.line:
                physical["region"] = {"startLine": source.line}
            location["physicalLocation"] = physical
        results.append({
            "ruleId": rule_id(change),
            "ruleIndex": index[rule_id(change)],
            "level": "error",
            "message": {"text": regression_message(change, comparison)},
            "locations": [location],
            "partialFingerprints": {"authcat/cell/v1": f"{change.api}/{change.endpoint}/{change.state}"},
            "properties": {
                "api": change.api, "endpoint": change.endpoint, "method": change.method, "path": change.path,
                "state": change.state, "before": change.before, "after": change.after,
                "before_status": change.before_status, "after_status": change.after_status,
                "baseline_target": comparison.old.target, "baseline_version": comparison.old.version,
                "target": comparison.new.target, "target_version": comparison.new.version,
            },
        })
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "authcat", "version": __version__, "informationUri": INFO_URI, "rules": rules,
            }},
            "invocations": [{"executionSuccessful": True}],
            "results": results,
        }],
    }


def write_junit(path: Path, comparisons: list[Comparison], locate: Locator | None = None, root: Path | None = None) -> None:
    atomic_write(path, junit_xml(comparisons, locate, root))


def write_sarif(path: Path, comparisons: list[Comparison], locate: Locator | None = None, root: Path | None = None) -> None:
    atomic_write(path, json.dumps(sarif(comparisons, locate, root), indent=2, ensure_ascii=False) + "\n")

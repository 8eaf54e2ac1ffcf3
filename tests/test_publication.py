"""The answers are computed once per API, as a frozen value handed to every site-page plugin: no
page recomputes them, and a third-party signal plugin is always consulted (the committed data of
this repository, no server started)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from catalog.answers.publication import ApiAnswers, Publication
from catalog.answers.signals import ACCEPTED, Signal
from catalog.hooks.manager import Hooks, get_plugin_manager
from catalog.hooks.specs import hookimpl
from catalog.pipeline import Project, load_publication
from catalog.site.build import render_pages

REPO = Path(__file__).resolve().parents[1]
MARKER = "x-third-party-marker"


class ThirdParty:
    """A signal plugin (counting its calls) and a page plugin that keeps what it was handed."""

    def __init__(self) -> None:
        self.calls = 0
        self.seen: list[Publication] = []

    @hookimpl
    def authcat_auth_signals(self, api, endpoints):
        self.calls += 1
        return [Signal("header-present", MARKER, None, ACCEPTED, checked=1, correct=1, carried=1)]

    @hookimpl
    def authcat_site_pages(self, publication, render):
        self.seen.append(publication)
        return []


@pytest.fixture(scope="module")
def published():
    plugin = ThirdParty()
    pm = get_plugin_manager(load_external=False)
    pm.register(plugin, name="third-party")
    hooks = Hooks(pm)
    publication = load_publication(Project(REPO), hooks)
    computed = plugin.calls
    pages = {page.path: page.text for page in render_pages(publication, Project(REPO).site, hooks)}
    return plugin, publication, computed, pages


def test_the_answers_are_computed_once_and_handed_to_the_page_plugins(published):
    plugin, publication, computed, _ = published
    runs = sum(len(api.runs) for api in publication.data.apis.values() if api.runs)
    assert computed == runs > 0  # once per (API, target), when the publication was made
    assert plugin.calls == computed  # rendering every page recomputed nothing
    assert plugin.seen == [publication]  # the very value, not a copy or a fresh one


def _assign(value: object, name: str, new: object) -> None:
    setattr(value, name, new)  # by name: the type checker rightly refuses assigning a frozen field


def test_the_publication_and_its_answers_are_frozen(published):
    _, publication, _, _ = published
    with pytest.raises(dataclasses.FrozenInstanceError):
        _assign(publication, "answers", {})
    answers = next(iter(publication.answers.values()))
    assert isinstance(answers, ApiAnswers)
    with pytest.raises(dataclasses.FrozenInstanceError):
        _assign(answers, "summary", None)
    assert isinstance(answers.targets, tuple) and all(isinstance(t.signals, tuple) for t in answers.targets)
    with pytest.raises(TypeError):  # its mappings are read-only views
        answers.explanations["x/y"] = "changed"  # type: ignore[index]
    assert not hasattr(publication.data, "answers") and not hasattr(publication.data, "questions")


def test_a_third_party_signal_reaches_the_answers_and_the_guide(published):
    _, publication, _, pages = published
    recognised = [(name, t) for name, a in publication.answers.items() for t in a.targets if t.recognition.recognised]
    assert recognised and all(any(s.name == MARKER for s in t.signals) for _, t in recognised)
    name = recognised[0][0]
    assert MARKER in pages[f"apis/{name}/guide.md"]

"""Compiled templates kept between builds (``catalog.site.compiled``): only for environments that
load installed templates, in the user's own folder, and never trusted beyond what Jinja checks."""

from __future__ import annotations

import os
from typing import Any

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from catalog.site.build import core_env
from catalog.site.compiled import CompiledTemplates, keep_compiled
from catalog.site.guard import theme_environment


@pytest.fixture()
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "authcat" / "templates"


def entries(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_template_compiled_once_renders_the_same_from_the_cache(tmp_path, cache_home):
    (tmp_path / "t.j2").write_text("{% for x in xs %}<{{ x }}>{% endfor %}\n")

    def env():
        return keep_compiled(jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)), autoescape=True))

    first = env()
    assert isinstance(first.bytecode_cache, CompiledTemplates)
    assert first.get_template("t.j2").render(xs=["a", "&"]) == "<a><&amp;>"
    [entry] = [p for p in entries(cache_home) if p.name != "key"]
    assert entry.parent.stat().st_mode & 0o777 == 0o700
    second = env()
    second.compile = lambda *a, **k: pytest.fail("compiled again")
    assert second.get_template("t.j2").render(xs=["a", "&"]) == "<a><&amp;>"
    # An edited template is compiled again (Jinja checks the source's checksum).
    (tmp_path / "t.j2").write_text("{{ xs | length }}\n")
    assert env().get_template("t.j2").render(xs=[1, 2]) == "2"


def test_other_rules_never_find_code_compiled_under_these(tmp_path, cache_home):
    (tmp_path / "t.j2").write_text("{{ x }}\n")
    loader = jinja2.FileSystemLoader(str(tmp_path))
    assert keep_compiled(jinja2.Environment(loader=loader, autoescape=True)).get_template("t.j2").render(x="<") == "&lt;"
    # The same file under another escaping rule: its own folder, its own compiled code.
    assert keep_compiled(jinja2.Environment(loader=loader, autoescape=False)).get_template("t.j2").render(x="<") == "<"
    assert len({p.parent for p in entries(cache_home) if p.name != "key"}) == 2


def test_a_sandbox_keeps_nothing(tmp_path, cache_home):
    sandbox = keep_compiled(ImmutableSandboxedEnvironment(loader=jinja2.FileSystemLoader(str(tmp_path))))
    assert sandbox.bytecode_cache is None
    assert not cache_home.exists()


def test_the_theme_caches_its_installed_templates_and_its_sandbox_nothing(tmp_path, cache_home):
    from mkdocs.theme import Theme

    site = tmp_path / "site"
    overrides = site / "overrides"
    overrides.mkdir(parents=True)
    (overrides / "own.html").write_text("{{ 1 + 1 }}")
    theme = Theme("material", custom_dir=str(overrides))
    env = theme_environment(theme.get_env(), list(theme.dirs), site)
    assert isinstance(env.bytecode_cache, CompiledTemplates)
    assert env.sandbox.bytecode_cache is None
    assert env.get_template("own.html").render() == "2"
    assert [p.name for p in entries(cache_home)] == ["key"]  # the contributed template was compiled by the sandbox, and not kept


def test_a_folder_others_can_write_is_not_used(tmp_path, cache_home):
    cache_home.mkdir(parents=True)
    os.chmod(cache_home, 0o777)
    assert keep_compiled(jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)))).bytecode_cache is None


def test_a_corrupt_entry_is_compiled_again(tmp_path, cache_home):
    env = core_env()
    assert isinstance(env.bytecode_cache, CompiledTemplates)
    macros: Any = env.get_template("_macros.j2").module
    text = macros.swatch("rejected")
    for entry in (p for p in entries(cache_home) if p.name != "key"):
        entry.write_bytes(entry.read_bytes()[:40])  # cut short
    again: Any = core_env().get_template("_macros.j2").module
    assert again.swatch("rejected") == text
    assert "legend-swatch o-rejected" in text


def test_no_usable_home_means_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setenv("HOME", "also-relative")
    assert keep_compiled(jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)))).bytecode_cache is None


def test_an_entry_not_sealed_with_this_folders_key_is_not_run(tmp_path, cache_home):
    (tmp_path / "t.j2").write_text("{{ x }}")

    def env():
        return keep_compiled(jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path))))

    assert env().get_template("t.j2").render(x=1) == "1"
    [entry] = [p for p in entries(cache_home) if p.name != "key"]
    seal, _, body = entry.read_bytes().partition(b"\n")
    compiled: list[str] = []

    def counting():
        e = env()
        real = e.compile

        def compile(*args: Any, **kwargs: Any) -> Any:
            compiled.append("again")
            return real(*args, **kwargs)

        e.compile = compile
        return e

    for forged in (b"0" * 64 + b"\n" + body, body, seal + b"\n" + body[:20] + bytes([body[20] ^ 1]) + body[21:]):
        entry.write_bytes(forged)
        assert counting().get_template("t.j2").render(x=2) == "2"
    assert len(compiled) == 3
    # A copied key folder's entries: another key, so none of them is taken.
    entry.write_bytes(seal + b"\n" + body)
    (cache_home / "key").write_bytes(b"f" * 64)
    assert counting().get_template("t.j2").render(x=3) == "3"
    assert len(compiled) == 4

"""The theme's environment (``catalog.site.guard.ThemeEnvironment``): the installed theme's own
templates compile unsandboxed, every template of the contributed ``custom_dir`` — and everything
it loads — in the sandbox, also when the theme's own template is the one including it."""

from __future__ import annotations

from pathlib import Path

import material  # type: ignore[import-untyped]
import pytest
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from mkdocs.theme import Theme

from catalog.site.guard import ThemeEnvironment, theme_environment

MATERIAL = str(Path(material.__file__).parent / "templates")


@pytest.fixture()
def theme(tmp_path):
    site = tmp_path / "site"
    overrides = site / "overrides"
    (overrides / "partials").mkdir(parents=True)
    (overrides / "partials" / "footer.html").write_text("{{ lipsum.__globals__['os'].environ }}")
    (overrides / "own.html").write_text('{% include "partials/copyright.html" %}')
    (overrides / "outer.html").write_text('{% include "partials/footer.html" %}')
    mkdocs_theme = Theme("material", custom_dir=str(overrides))
    return theme_environment(mkdocs_theme.get_env(), list(mkdocs_theme.dirs), site)


def test_the_installed_theme_renders_unsandboxed_and_the_overrides_sandboxed(theme):
    assert isinstance(theme, ThemeEnvironment) and not isinstance(theme, SandboxedEnvironment)
    assert not isinstance(theme.get_template("base.html").environment, SandboxedEnvironment)
    for name in ("partials/footer.html", "./partials/footer.html", "own.html"):
        assert isinstance(theme.get_template(name).environment, SandboxedEnvironment), name
    # What a contributed template loads is the sandbox's too, the theme's own partials included.
    own = theme.get_template("own.html")
    assert isinstance(own.environment.get_template("partials/copyright.html").environment, SandboxedEnvironment)


def test_an_override_the_theme_includes_is_stopped_by_the_sandbox(theme):
    with pytest.raises(SecurityError):
        theme.get_template("outer.html").render()
    # Included from a template compiled unsandboxed: still the contributed one, still sandboxed.
    host = theme.from_string('{% include "partials/footer.html" %}')
    with pytest.raises(SecurityError):
        host.render()


def test_the_unsandboxed_loader_reads_no_contributed_folder(theme):
    assert MATERIAL in theme.loader.searchpath and not any("overrides" in p for p in theme.loader.searchpath)

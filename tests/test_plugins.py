"""The plugin system: built-ins are ordinary plugins, third-party ones come from entry points."""

from __future__ import annotations

import pytest

from catalog.hooks import specs as hookspecs
from catalog.hooks.manager import DEFAULT_PLUGINS, LOAD_ENV, Hooks, PluginError, get_plugin_manager
from catalog.hooks.specs import hookimpl
from catalog.model.credentials import NotAvailable, Presentation, TokenState
from catalog.model.vocabulary import StateFamily
from tests.support.project import REPO, run_cli

HOOK_NAMES = sorted(n for n in dir(hookspecs) if n.startswith("authcat_"))


def test_every_builtin_is_registered_by_name():
    pm = get_plugin_manager(load_external=False)
    assert [name for name, _ in pm.list_name_plugin()] == list(DEFAULT_PLUGINS)


def test_every_hook_is_documented_where_declared():
    for name in HOOK_NAMES:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert doc.strip(), name
        assert ":param" in doc or ":return" in doc, name


def test_design_states_are_provided():
    states = Hooks(get_plugin_manager(load_external=False)).states
    for name in ("valid", "anonymous", "malformed", "unknown-token", "wrong-identity", "wrong-scheme",
                 "scheme-case", "expired", "revoked", "forged", "unprivileged", "deactivated"):
        assert name in states


class OverridingPlugin:
    """A third-party plugin that replaces a built-in state and adds one of its own."""

    @hookimpl
    def authcat_register_states(self, register):
        register(TokenState("malformed", "plugin's malformed", lambda s, c: Presentation({"Authorization": "x"}), order=10,
                            family=StateFamily.BAD))
        register(TokenState("empty-password", "plugin state", lambda s, c: NotAvailable("demo"), order=50,
                            family=StateFamily.BAD))


def test_a_plugin_overrides_a_builtin_state_and_adds_one():
    pm = get_plugin_manager(load_external=False)
    pm.register(OverridingPlugin(), name="demo")
    states = Hooks(pm).states
    assert states["malformed"].description == "plugin's malformed"
    assert "empty-password" in states
    assert states["valid"].description.startswith("The working credential")


def test_a_state_without_a_family_is_refused_by_name():
    class NoFamily:
        @hookimpl
        def authcat_register_states(self, register):
            register(TokenState("odd-state", "no family", lambda s, c: NotAvailable("demo")))

    pm = get_plugin_manager(load_external=False)
    pm.register(NoFamily(), name="no-family")
    with pytest.raises(PluginError, match="'odd-state' declares no family"):
        _ = Hooks(pm).states


def test_every_builtin_state_declares_its_family():
    states = Hooks(get_plugin_manager(load_external=False)).states
    families = {name: state.family.value for name, state in states.items()}
    assert families == {
        "valid": "legitimate", "anonymous": "legitimate", "unprivileged": "legitimate",
        "scheme-case": "presentation", "wrong-scheme": "presentation", "query-parameter": "presentation",
        "malformed": "bad", "unknown-token": "bad", "wrong-identity": "bad", "expired": "bad",
        "revoked": "bad", "forged": "bad", "deactivated": "bad",
    }


def test_env_var_turns_external_plugins_off(monkeypatch):
    calls = []
    monkeypatch.setattr("pluggy.PluginManager.load_setuptools_entrypoints", lambda self, group, name=None: calls.append((group, name)))
    monkeypatch.setenv(LOAD_ENV, "")
    get_plugin_manager()
    assert calls == []
    monkeypatch.setenv(LOAD_ENV, "one,two")
    get_plugin_manager()
    assert calls == [("authcat", "one"), ("authcat", "two")]
    monkeypatch.delenv(LOAD_ENV)
    calls.clear()
    get_plugin_manager()
    assert calls == [("authcat", None)]


def test_misspelt_hook_is_an_error():
    class Typo:
        @hookimpl
        def authcat_register_stats(self, register):  # not a hook
            pass

    pm = get_plugin_manager(load_external=False)
    pm.register(Typo())
    from pluggy import PluginValidationError

    with pytest.raises(PluginValidationError):
        pm.check_pending()


def test_plugins_command_lists_hooks_per_plugin():
    result = run_cli(REPO, "plugins")
    assert result.returncode == 0
    assert "authcat_plugins.states" in result.output
    assert "authcat_register_states" in result.output


def test_states_command_lists_every_state():
    result = run_cli(REPO, "states")
    assert result.returncode == 0 and "wrong-identity" in result.output

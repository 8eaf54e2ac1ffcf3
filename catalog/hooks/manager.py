"""The plugin manager: built-ins from one list, third-party plugins from entry points.

``AUTHCAT_LOAD_PLUGINS`` controls external plugins: unset loads every installed one, an empty
string loads none, a comma-separated list loads only those (by entry-point name). Built-ins always
load; a plugin overrides one by registering a state or launcher of the same name.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pluggy

from catalog.hooks import specs as hookspecs
from catalog.model.credentials import AuthScheme, TokenState
from catalog.model.definition import Api
from catalog.model.errors import PluginError
from catalog.model.vocabulary import BUILTIN_FAMILIES, StateFamily
from catalog.targets.launchers import Launcher

if TYPE_CHECKING:  # annotations only
    import click

    from catalog.answers.publication import Publication
    from catalog.answers.signals import Signal
    from catalog.model.judgement import Judgement
    from catalog.runs.results import EndpointResult, SitePage

DEFAULT_PLUGINS = (
    "authcat_plugins.schemes",
    "authcat_plugins.states",
    "authcat_plugins.classifier",
    "authcat_plugins.backlot_target",
    "authcat_plugins.datasette_target",
    "authcat_plugins.jupyter_target",
    "authcat_plugins.synapse_target",
    "catalog.site.pages.site_pages",
    "catalog.importers.openapi.importer",
    "catalog.commands.drift",
    "catalog.commands.contribute",
    "catalog.commands.watch_revocation",
    "catalog.commands.collect",
    "catalog.commands.serve",
    "catalog.commands.shards",
    "authcat_plugins.auth_signals",
    "catalog.site.pages.guide_pages",
    "catalog.site.pages.reference_pages",
)

ENTRY_POINT_GROUP = "authcat"


LOAD_ENV = "AUTHCAT_LOAD_PLUGINS"


def get_plugin_manager(load_external: bool = True) -> pluggy.PluginManager:
    """Build a fresh plugin manager: built-ins, then entry-point plugins unless disabled."""
    pm = pluggy.PluginManager("authcat")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if load_external:
        wanted = os.environ.get(LOAD_ENV)
        if wanted is None:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        elif wanted.strip():
            for ep_name in (n.strip() for n in wanted.split(",") if n.strip()):
                pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=ep_name)
    pm.check_pending()  # a misspelt hook name in a plugin is an error, not a silent no-op
    return pm


@dataclass
class Hooks:
    """A typed facade over ``pm.hook`` so callers never juggle untyped hook calls."""

    pm: pluggy.PluginManager = field(default_factory=get_plugin_manager)

    def _collect(self, hook: Callable[..., Any]) -> dict[str, Any]:
        """Call a ``register`` hook; the first registration of a name wins.

        pluggy calls later-registered plugins first and built-ins are ``trylast``, so a
        third-party plugin that registers a name a built-in also registers overrides it.
        """
        found: dict[str, Any] = {}

        def register(name_or_item: Any, item: Any = None) -> None:
            if item is None:
                name_or_item, item = name_or_item.name, name_or_item
            found.setdefault(name_or_item, item)

        hook(register=register)
        return found

    @cached_property
    def states(self) -> dict[str, TokenState]:
        found = self._collect(self.pm.hook.authcat_register_states)
        for name, state in found.items():
            # Verdicts judge only bad credentials, so a state of unknown family cannot be judged.
            if not isinstance(state.family, StateFamily):
                families = ", ".join(f.value for f in StateFamily)
                raise PluginError(f"token state {name!r} declares no family (family=StateFamily.…: {families})")
        return dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))

    def family(self, state: str) -> StateFamily | None:
        found = self.states.get(state)
        return found.family if found is not None else BUILTIN_FAMILIES.get(state)

    @cached_property
    def schemes(self) -> dict[str, AuthScheme]:
        return self._collect(self.pm.hook.authcat_register_schemes)

    @cached_property
    def launchers(self) -> dict[str, Launcher]:
        return {name: Launcher.of(item) for name, item in self._collect(self.pm.hook.authcat_register_targets).items()}

    @cached_property
    def importers(self) -> dict[str, Callable[..., str]]:
        return self._collect(self.pm.hook.authcat_register_importers)

    def classify(self, **kwargs: Any) -> Judgement:
        """``authcat_classify``: the first plugin's judgement (the built-in one runs last)."""
        judged = self.pm.hook.authcat_classify(**kwargs)
        if judged is None:  # the built-in classifier answers everything: it must have been blocked
            raise PluginError("no authcat_classify plugin judged the observation (is authcat_plugins.classifier blocked?)")
        return judged

    def auth_signals(self, api: Api, endpoints: list[EndpointResult]) -> list[Signal]:
        return [s for result in self.pm.hook.authcat_auth_signals(api=api, endpoints=endpoints) for s in result or ()]

    def site_pages(self, publication: Publication, render: Callable[..., str]) -> list[SitePage | tuple[str, str]]:
        pages = self.pm.hook.authcat_site_pages(publication=publication, render=render)
        return [page for result in reversed(pages) for page in result or ()]

    def template_dirs(self) -> list[str]:
        return [str(d) for result in self.pm.hook.authcat_template_dirs() for d in result or ()]

    def register_commands(self, cli: click.Group) -> None:
        self.pm.hook.authcat_register_commands(cli=cli)

    def describe(self) -> list[tuple[str, list[str]]]:
        """Each loaded plugin with the hooks it implements, for ``authcat plugins``."""
        rows = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or ())
            rows.append((name, hooks))
        return rows

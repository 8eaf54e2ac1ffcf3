"""The public plugin API: the nouns a plugin author meets in hook signatures and launchers.

Plugins — the built-in ones in ``authcat_plugins`` included — import only from here
(``from catalog.api import hookimpl, TokenState, ...``); every other ``catalog`` module is
internal and may change. The product's own features (commands, site pages, the OpenAPI importer)
are core modules and import internals directly, as pytest's built-ins import ``_pytest``.

``tests/test_api.py`` pins ``__all__`` (at most 45 names), and checks that every name has a
docstring and an entry on the "Writing plugins" page; the hooks themselves are documented in
:mod:`catalog.hooks.specs` and on that page.

Importing this module has no side effect: it loads no plugin, builds no plugin manager, and
loads neither the command line, MkDocs nor an HTTP server.
Each name is imported from its module when it is first used (every `authcat` start
loads every built-in plugin, most of which need only a few of these names).
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:  # the names as the type checker sees them; at run time, _FROM below
    from catalog.answers.publication import ApiAnswers, Publication
    from catalog.answers.signals import Signal, SignalMeaning, find_signals
    from catalog.hooks.specs import hookimpl
    from catalog.model.credentials import AuthScheme, Credential, Credentials, Location, NotAvailable, Presentation, TokenState
    from catalog.model.definition import Api, Endpoint
    from catalog.model.errors import AuthcatError, DefinitionError, InputError, PluginError, ServerStartError, TargetError
    from catalog.model.judgement import Judgement, default_judge
    from catalog.model.observation import Observation
    from catalog.model.vocabulary import Outcome, State, StateFamily, Verdict
    from catalog.runs.results import ApiCatalog, CatalogData, EndpointResult, SitePage, TargetRun
    from catalog.secrets.scrub import Scrubber
    from catalog.targets.launchers import LaunchContext, Launched, Launcher, Revocable, installed_version, option_python, path_shape
    from catalog.targets.process import LocalServer

# Each name is imported from its module when first used: a plugin that needs a launcher's nouns
# does not load the answers and runs layers (every `authcat` start loads every built-in plugin).
_FROM = {  # module -> the names it gives the API
    "catalog.answers.publication": ("ApiAnswers", "Publication"),
    "catalog.answers.signals": ("Signal", "SignalMeaning", "find_signals"),
    "catalog.hooks.specs": ("hookimpl",),
    "catalog.model.credentials": ("AuthScheme", "Credential", "Credentials", "Location", "NotAvailable", "Presentation", "TokenState"),
    "catalog.model.definition": ("Api", "Endpoint"),
    "catalog.model.errors": ("AuthcatError", "DefinitionError", "InputError", "PluginError", "ServerStartError", "TargetError"),
    "catalog.model.judgement": ("Judgement", "default_judge"),
    "catalog.model.observation": ("Observation",),
    "catalog.model.vocabulary": ("Outcome", "State", "StateFamily", "Verdict"),
    "catalog.runs.results": ("ApiCatalog", "CatalogData", "EndpointResult", "SitePage", "TargetRun"),
    "catalog.secrets.scrub": ("Scrubber",),
    "catalog.targets.launchers": ("LaunchContext", "Launched", "Launcher", "Revocable", "installed_version", "option_python", "path_shape"),
    "catalog.targets.process": ("LocalServer",),
}

_WHERE = {name: module for module, names in _FROM.items() for name in names}


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'catalog.api' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once
    return value


__all__ = [  # noqa: RUF022  (grouped by what a plugin does, sorted within each group)
    # Hooks (declared and documented in catalog.hooks.specs)
    "hookimpl",
    # Token states and auth schemes (authcat_register_states, authcat_register_schemes)
    "AuthScheme", "Credential", "Credentials", "Location", "NotAvailable", "Presentation", "State",
    "StateFamily", "TokenState",
    # Judging an answer (authcat_classify) and finding signals (authcat_auth_signals)
    "Api", "Endpoint", "EndpointResult", "Judgement", "Observation", "Outcome", "Signal", "SignalMeaning",
    "Verdict", "default_judge", "find_signals",
    # Targets (authcat_register_targets)
    "LaunchContext", "Launched", "Launcher", "LocalServer", "Revocable", "Scrubber", "installed_version",
    "option_python", "path_shape",
    # Site pages (authcat_site_pages)
    "ApiAnswers", "ApiCatalog", "CatalogData", "Publication", "SitePage", "TargetRun",
    # Errors: one tree, handled once by the CLI (catalog.model.errors)
    "AuthcatError", "DefinitionError", "InputError", "PluginError", "ServerStartError", "TargetError",
]

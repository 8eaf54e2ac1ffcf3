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
"""

from __future__ import annotations

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

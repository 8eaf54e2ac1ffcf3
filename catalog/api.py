"""The public plugin API: everything a plugin may import from authcat, in one place.

Plugins — the built-in ones in ``authcat_plugins`` included — import only from here
(``from catalog.api import hookimpl, TokenState, ...``); every other ``catalog`` module is
internal and may change. ``tests/test_api.py`` pins ``__all__``, so a change to this surface is a
deliberate, reviewed change. The hooks themselves are documented in :mod:`catalog.hooks.specs`
and on the site page "Writing plugins".

Importing this module has no side effect: it loads no plugin and builds no plugin manager.
"""

from __future__ import annotations

from catalog.answers.columns import state_columns, state_order
from catalog.answers.documented import disagreements
from catalog.answers.fallback import find_fallback
from catalog.answers.per_target import TargetAnswers, signals_per_target
from catalog.answers.presentations import api_presentations, scheme_words
from catalog.answers.publication import ApiAnswers, Publication, api_answers
from catalog.answers.questions import targets_for
from catalog.answers.recipe import Recipe, client_auth, recipe_script
from catalog.answers.reports import Comparison, compare, describe, write_junit, write_sarif
from catalog.answers.reproduce import Snippet, snippet
from catalog.answers.signals import ACCEPTED, REJECTED, Signal, find_signals
from catalog.cli import Context, pass_ctx, probe_options, run_options
from catalog.cli import err as stderr_console
from catalog.cli import out as stdout_console
from catalog.definitions.evidence import API_WIDE, claimed_cells
from catalog.definitions.loader import ApiDefinition, load_all, load_api, schema_problems
from catalog.definitions.reference import FILES as REFERENCE_FILES
from catalog.definitions.reference import fields as reference_fields
from catalog.definitions.reference import full_example as reference_example
from catalog.definitions.yamlfile import load as load_yaml
from catalog.definitions.yamlfile import loads as loads_yaml
from catalog.engine.probe import Prober, ProbeSettings
from catalog.engine.revocation_watch import Measurement, Poll, WatchPlan, format_duration
from catalog.engine.revocation_watch import load as load_measurements
from catalog.engine.revocation_watch import record as record_measurement
from catalog.engine.revocation_watch import watch as watch_token
from catalog.engine.runner import CACHE_ENV, discover, endpoint_url, probe_all
from catalog.hooks.specs import hookimpl
from catalog.model.errors import (
    AuthcatError,
    DefinitionError,
    InputError,
    Interrupted,
    PluginError,
    Problem,
    ProjectBusy,
    RegressionsFound,
    ServerStartError,
    TargetError,
    WatchError,
)
from catalog.model.judgement import OUTCOMES, REJECTING, SERVED_2XX, VERDICTS, Judgement, default_judge
from catalog.model.observation import Observation, is_2xx, resolve_pointer
from catalog.model.vocabulary import (
    Api,
    AuthScheme,
    Credential,
    Credentials,
    Discovery,
    Endpoint,
    Location,
    NotAvailable,
    Outcome,
    Presentation,
    RunningTarget,
    Source,
    State,
    StateFamily,
    TokenState,
    Verdict,
    slug,
)
from catalog.pipeline import build
from catalog.runs.history import ChangeIndex, cell_history
from catalog.runs.lock import project_lock
from catalog.runs.results import ApiCatalog, EndpointResult, SitePage, TargetRun
from catalog.runs.store import Store, atomic_write, read_file
from catalog.secrets.binding import runtime_problem as origin_problem
from catalog.secrets.scrub import Scrubber
from catalog.targets.launchers import LaunchContext, Launched, Launcher, Revocable, installed_version, option_python, path_shape
from catalog.targets.process import LocalServer, ServerProcess, free_port
from catalog.targets.profiles import TargetPool
from catalog.targets.readiness import profile_base_url
from catalog.targets.secret_refs import SecretRefError, resolve_ref

__all__ = [  # noqa: RUF022  (grouped by what a plugin does, sorted within each group)
    # Hooks (declared and documented in catalog.hooks.specs)
    "hookimpl",
    # Errors: one tree, handled once by the CLI (catalog.model.errors)
    "AuthcatError", "DefinitionError", "InputError", "Interrupted", "PluginError", "Problem",
    "ProjectBusy", "RegressionsFound", "ServerStartError", "SecretRefError", "TargetError", "WatchError",
    # Vocabulary: what token states, schemes and targets are made of
    "Api", "AuthScheme", "Credential", "Credentials", "Discovery", "Endpoint", "Location", "NotAvailable",
    "Outcome", "Presentation", "RunningTarget", "Source", "State", "StateFamily", "TokenState", "Verdict",
    # Targets: launching local servers, resolving a profile
    "LaunchContext", "Launched", "Launcher", "LocalServer", "installed_version", "option_python", "Revocable",
    "ServerProcess", "TargetPool", "free_port", "origin_problem", "path_shape", "profile_base_url", "resolve_ref",
    # Probing and classifying
    "Judgement", "OUTCOMES", "Observation", "Prober", "ProbeSettings", "REJECTING", "SERVED_2XX", "Scrubber",
    "CACHE_ENV", "VERDICTS", "default_judge", "discover", "endpoint_url", "is_2xx", "probe_all", "project_lock", "resolve_pointer",
    # Definitions
    "ApiDefinition", "REFERENCE_FILES", "load_all", "load_api", "load_yaml", "loads_yaml", "reference_example",
    "reference_fields", "schema_problems",
    # Results, answers and the site
    "ACCEPTED", "REJECTED", "ApiAnswers", "ApiCatalog", "EndpointResult", "Recipe", "Signal",
    "SitePage", "TargetAnswers", "TargetRun", "api_answers", "api_presentations", "build", "client_auth",
    "API_WIDE", "claimed_cells", "disagreements", "find_fallback", "find_signals", "recipe_script",
    "scheme_words", "signals_per_target", "slug", "state_columns", "targets_for", "Publication",
    "Snippet", "snippet", "state_order", "cell_history", "ChangeIndex",
    # Stored runs, comparisons, revocation measurements
    "Comparison", "Measurement", "Poll", "Store", "WatchPlan", "atomic_write", "compare", "describe",
    "format_duration", "load_measurements", "read_file", "record_measurement",
    "watch_token", "write_junit", "write_sarif",
    # CLI commands added by plugins (authcat_register_commands)
    "Context", "pass_ctx", "probe_options", "run_options", "stderr_console", "stdout_console",
]

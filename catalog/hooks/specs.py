"""The hooks authcat calls. Built-in behaviour implements these too (see ``authcat_plugins``).

Every hook is documented here, where it is declared: what it receives (its types by their public
names in :mod:`catalog.api`), what it returns, and whether the first non-None result wins. A
plugin is any module or object with functions named like these and decorated with :data:`hookimpl`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # annotations only: the hook specs import nothing at run time
    from collections.abc import Callable
    from pathlib import Path

    import click

    from catalog.answers.publication import Publication
    from catalog.answers.signals import Signal
    from catalog.model.credentials import AuthScheme, TokenState
    from catalog.model.definition import Api, Endpoint
    from catalog.model.judgement import Judgement
    from catalog.model.observation import Observation
    from catalog.runs.results import EndpointResult, SitePage
    from catalog.targets.launchers import Launcher, StartFn

    Importer = Callable[[Path, str, Path], str]  # (spec_path, api, out_dir) -> summary

hookspec = pluggy.HookspecMarker("authcat")
hookimpl = pluggy.HookimplMarker("authcat")


# --------------------------------------------------------------------------------------------
# Things to probe with
# --------------------------------------------------------------------------------------------


@hookspec
def authcat_register_states(register: Callable[[TokenState], None]) -> None:
    """Contribute token states.

    :param register: call ``register(state)`` with a :class:`catalog.api.TokenState` for each
        state. The first registration of a name wins, and built-ins register last, so a
        plugin overrides a built-in state by registering the same name. Every state must
        declare its ``family`` (:class:`catalog.api.StateFamily`: ``LEGITIMATE``,
        ``PRESENTATION`` or ``BAD``); only ``BAD`` states decide verdicts and token checks, and a
        state without a family is refused when the states are collected.
    """


@hookspec
def authcat_register_schemes(register: Callable[[AuthScheme], None]) -> None:
    """Contribute auth schemes: where and how a credential goes on the wire.

    :param register: call ``register(scheme)`` with a :class:`catalog.api.AuthScheme`: an
        ``Authorization`` ``keyword``, or a ``location`` (header, query, cookie) and
        ``parameter`` name, with a value ``template`` (``{identity}``, ``{secret}``) and an
        optional ``encoding`` — or an ``encode(credential)`` function. An API names it in
        ``api.yaml`` (``scheme: basic``) unless it declares its own scheme there.
    """


@hookspec
def authcat_register_targets(register: Callable[[str, Launcher | StartFn], None]) -> None:
    """Contribute target launchers: code that starts a local server and hands back its details.

    :param register: call ``register(name, launcher)`` with a :class:`catalog.api.Launcher`:

        * ``Launcher(start=..., version=...)``. ``start(ctx)`` takes a
          :class:`catalog.api.LaunchContext` and returns a context manager that yields a
          :class:`catalog.api.Launched` (base URL, version, credentials, states it cannot
          provide; optionally path ``parameters`` its fixtures made and ``revocations``: ways it
          can issue and revoke a fresh token for ``watch-revocation``) and stops the server on
          exit, also on errors and Ctrl-C.
        * ``version(ctx)`` (optional) returns, **without starting anything**, the version the
          started server would report (typically ``importlib.metadata.version(...)`` of the
          installed server), or None when only a started server can tell. With it, a run whose
          cells are all current for that version starts no server; without it, the launcher is
          started whenever its target is in a run.

        Launchers are started only when a plan has probes, and **concurrently**: ``start`` runs
        in a worker thread beside the other launchers, so it must not install signal handlers
        and must keep its files under ``ctx.cache_dir`` (kept between runs) and
        ``ctx.scratch_dir`` (this launch only). A plain callable is accepted as ``start``.
    """


# --------------------------------------------------------------------------------------------
# Judging answers
# --------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def authcat_classify(
    state: str, observation: Observation, valid: Observation | None, anonymous: Observation | None,
    endpoint: Endpoint, api: Api,
) -> Judgement | None:
    """Classify one observation against the baselines. Stops at first non-None result.

    :param state: the token state's name.
    :param observation: the :class:`catalog.api.Observation` to classify.
    :param valid: the ``valid`` baseline observation, or None when the target has none.
    :param anonymous: the ``anonymous`` baseline observation, or None.
    :param endpoint: the :class:`catalog.api.Endpoint`.
    :param api: the :class:`catalog.api.Api`.
    :return: a :class:`catalog.api.Judgement` (outcome + note), or None to let the next
        plugin decide. The built-in classifier is ``trylast`` and always answers.
    """


@hookspec
def authcat_auth_signals(api: Api, endpoints: list[EndpointResult]) -> list[Signal] | None:
    """Find headers or body fields that tell an accepted credential from a rejected one.

    :param api: the :class:`catalog.api.Api`.
    :param endpoints: the classified endpoint results (list of
        :class:`catalog.api.EndpointResult`) of ONE target of the API. The hook is called
        once per target: two servers of one API may behave differently, so a rule is never
        checked on two targets' observations at once.
    :return: a list of :class:`catalog.api.Signal` (may be empty).
    """


# --------------------------------------------------------------------------------------------
# Bringing endpoints in
# --------------------------------------------------------------------------------------------


@hookspec
def authcat_register_importers(register: Callable[[str, Importer], None]) -> None:
    """Contribute importers that turn another format (OpenAPI, …) into endpoint YAML.

    :param register: call ``register(name, importer)`` where ``importer(spec_path, api, out_dir)``
        writes endpoint files and returns a short summary string.
    """


# --------------------------------------------------------------------------------------------
# Publishing
# --------------------------------------------------------------------------------------------


@hookspec
def authcat_site_pages(publication: Publication, render: Callable[..., str]) -> list[SitePage | tuple[str, str]] | None:
    """Add pages to the generated site.

    :param publication: the :class:`catalog.api.Publication` being published,
        frozen: ``publication.data`` (every API's definition and runs in ``data.apis``, the change
        log, the states and schemes, ``data.data_dir``), and each API's answers
        (``publication.answers[name]``: token checks, signals from every signal plugin,
        explanations, disagreements) and questions, computed once before any page plugin runs.
    :param render: ``render(template_name, **context) -> str`` using the site's Jinja
        environment (templates from ``site/templates``, from plugins, then authcat's own).
    :return: a list of :class:`catalog.api.SitePage` (``path``, ``text``, and ``nav`` =
        ``(section, title)`` to list it in the nav) or plain ``(path, text)`` pairs, or None.
    """


@hookspec
def authcat_template_dirs() -> list[str | Path] | None:
    """Directories of Jinja templates to search after ``site/templates``.

    :return: a list of paths, or None.
    """


@hookspec
def authcat_register_commands(cli: click.Group) -> None:
    """Add CLI commands.

    :param cli: the root :class:`click.Group`; call ``cli.add_command(...)``.
    """

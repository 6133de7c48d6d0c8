"""The hook API: every hook a kamcore plugin can implement, in the order kamcore calls them.

A plugin is a module (or object) with functions marked ``@kamcore.hookimpl`` whose names match the
specs below. Plugins are discovered through the entry-point group ``kamcore``::

    [project.entry-points.kamcore]
    retail = "kamcore_retail.plugin"

Hooks that declare things take a ``register`` callable instead of returning collections, so that
kamcore can attribute every registration to its plugin, reject conflicts (two plugins claiming one
name) naming both, and keep going when one plugin fails. A hook that raises or registers garbage is
reported with the plugin's name; the other plugins are unaffected.

Keep plugin modules light at import time (import pydantic models inside the hook) so that
``kam --help`` stays fast.

The user-facing reference with examples is ``docs/hooks.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import click
    from pydantic import BaseModel

    from kamcore.models import Account, Duty
    from kamcore.org import Org

PROJECT = "kamcore"
#: The version of the hook API these specs define. A minor version adds hooks or arguments
#: (old plugins keep working); only a major version removes anything, after a release of
#: deprecation warnings. A plugin that needs a newer API says so with a module (or object)
#: attribute ``REQUIRES_HOOK_API = "1.0"``: an older kamcore names it and does not load it.
HOOK_API_VERSION = "1.0"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# -------------------------------------------------------------------------------------------------
# The ``register`` callables, typed: annotate a hook's argument with one of these
# (``def kam_register_metrics(register: RegisterMetric) -> None``) and mypy checks the calls.
# -------------------------------------------------------------------------------------------------


class RegisterSettings(Protocol):
    """``register`` of :func:`kam_register_settings`."""

    def __call__(self, model: type[BaseModel], /) -> None: ...


class RegisterIndustry(Protocol):
    """``register`` of :func:`kam_register_industries`."""

    def __call__(self, name: str, /, *, aliases: Iterable[str] = (),
                 description: str = "") -> None: ...


class RegisterFields(Protocol):
    """``register`` of :func:`kam_register_fields`."""

    def __call__(self, namespace: str, /, *, account: type[BaseModel] | None = None,
                 person: type[BaseModel] | None = None,
                 crm: Mapping[str, Iterable[str] | str] | None = None,
                 contact: type[BaseModel] | None = None,
                 contact_roles: Iterable[str] = ()) -> None: ...


class RegisterMetric(Protocol):
    """``register`` of :func:`kam_register_metrics`."""

    def __call__(self, name: str, /, *, label: str = "", unit: str = "",
                 aggregation: str = "sum", weight: str | None = None, description: str = "",
                 periods: str | None = None, derive: str | None = None) -> None: ...


class RegisterRule(Protocol):
    """``register`` of :func:`kam_register_rules`."""

    def __call__(self, code: str, name: str, check: Callable[[Any], Iterable[Any]], /, *,
                 severity: str = "error", summary: str = "", form: str = "org",
                 fields: Iterable[str] = (), industries: Iterable[str] = ()) -> None: ...


class RegisterImporter(Protocol):
    """``register`` of :func:`kam_register_importers`."""

    def __call__(self, name: str, convert: Callable[[str], str], /, *,
                 mapping: Mapping[str, Any], description: str = "") -> None: ...


class RegisterExporter(Protocol):
    """``register`` of :func:`kam_register_exporters`."""

    def __call__(self, name: str, render: Callable[[Any], str | bytes], /, *,
                 description: str = "") -> None: ...


# -------------------------------------------------------------------------------------------------
# Declarations: called once per plugin manager, when kamcore first needs the registry.
# -------------------------------------------------------------------------------------------------


@hookspec
def kam_register_settings(register: RegisterSettings) -> None:
    """Declare the pydantic model of this plugin's settings (``plugins.<name>:`` in kam.yaml).

    Called once when the registry is built. kamcore validates the section when it reads a
    workspace: a wrong value or an unknown key is an error with the kam.yaml line (exit 2), and
    a section named like a loaded plugin but misspelt gets a did-you-mean. Read the settings
    with :func:`kamcore.plugin_settings` (typed: it returns an instance of your model, with
    its defaults when kam.yaml has no section).

    Results: every plugin is called (not firstresult); the section's name is the plugin's
    name (its entry-point name).

    :param register: ``register(model)``, a pydantic model class.
    :returns: nothing; results are collected through ``register``.

    Example::

        @hookimpl
        def kam_register_settings(register):
            register(TelecomSettings)

    .. versionadded:: 1.0
    """


@hookspec
def kam_register_industries(register: RegisterIndustry) -> None:
    """Declare the industries this plugin serves.

    Called once when the registry is built. An account belongs to an industry when its
    ``industry`` cell matches the name or one of the aliases (case-insensitive).

    Results: every plugin is called (not firstresult); each ``register`` call is attributed to
    the calling plugin. An industry name claimed twice is a
    :class:`~kamcore.errors.PluginConflict` naming both plugins; aliases never override a name.

    :param register: ``register(name, *, aliases=(), description="")``.
    :returns: nothing; results are collected through ``register``.

    Example::

        @hookimpl
        def kam_register_industries(register):
            register("retail", aliases=("retailer", "e-commerce"))

    .. versionadded:: 0.1
    """


@hookspec
def kam_register_fields(register: RegisterFields) -> None:
    """Declare the plugin's own fields on accounts and people, as pydantic models.

    Called once when the registry is built. The fields live under the namespace: CSV columns
    ``<namespace>.<field>`` and the ``<namespace>:`` mapping in inline YAML. Values are kept as
    written and validated against the model by ``kam validate`` (rule KAM140), so a plugin's
    mistakes never make a workspace unreadable.

    Results: every plugin is called (not firstresult). A plugin whose hook raises, or passes
    something that is not a pydantic model class, is reported (``kam plugins``, and ``kam
    validate`` as KAM900) and none of its declarations from this hook are kept.

    :param register: ``register(namespace, *, account=Model | None, person=Model | None,
        crm=None, contact=Model | None, contact_roles=())``; ``contact`` validates the
        namespace's columns of contacts.csv, ``contact_roles`` adds roles a contact may have
        (a role two plugins declare is a :class:`~kamcore.errors.PluginConflict`); ``crm`` maps
        account fields to the CRM columns they come from on import
        (``{"sla_tier": ("SLA_Tier__c", "SLA Tier")}``): every importer maps those columns,
        and ``--suggest-map`` proposes them (.. versionadded:: 1.0). A namespace two plugins
        register is used by neither until kam.yaml's ``conflicts:`` picks one.
    :returns: nothing; results are collected through ``register``.

    Example::

        @hookimpl
        def kam_register_fields(register):
            from kamcore_retail.fields import RetailAccount   # lazily: keeps `kam` fast

            register("retail", account=RetailAccount)

    .. versionadded:: 0.1
    """


@hookspec
def kam_register_metrics(register: RegisterMetric) -> None:
    """Declare metrics: name, unit and how they aggregate up the trees.

    Called once when the registry is built. A metric's per-account value comes from the
    ``accounts.csv`` column of the same name, or from the facts table.

    :param register: ``register(name, *, label="", unit="", aggregation="sum", weight=None,
        description="", periods=None, derive=None)`` where ``aggregation`` is one of sum,
        count, min, max, mean, wmean (``wmean`` needs ``weight``, another metric's name),
        ``unit="money"`` converts with the workspace FX table, and ``periods`` says how an
        account's facts of several periods combine: sum, last (point in time: MRR, headcount,
        backlog), mean, max or min (default: as the aggregation; .. versionadded:: 1.0).
        ``derive`` computes the account's own value with a formula over other metrics and
        plugins' number fields: ``"mrr * 12"``, ``"mrr / telecom.lines"`` (names, numbers,
        ``+ - * /``; never run as Python; .. versionadded:: 1.0).
    :returns: nothing; results are collected through ``register``.

    Results: every plugin is called (not firstresult). A metric name declared twice is a
    :class:`~kamcore.errors.PluginConflict`; an invalid one (bad aggregation, ``wmean``
    without weight, weighted by an undeclared metric, derived from an unknown name, a text
    field or itself) is reported and dropped.

    Example::

        @hookimpl
        def kam_register_metrics(register):
            register("claims", unit="claims", aggregation="sum")
            register("claim_denial_rate", unit="ratio", aggregation="wmean", weight="claims")

    .. versionadded:: 0.1
    """


@hookspec
def kam_register_rules(register: RegisterRule) -> None:
    """Declare validation rules.

    Called once when the registry is built. ``check(org)`` is called by ``kam validate`` and
    yields :class:`kamcore.Violation` objects; kamcore adds the code, the severity (which users
    may override in ``kam.yaml``), and the file and line of the subject.

    Results: every plugin is called (not firstresult); a rule code registered twice is a
    :class:`~kamcore.errors.PluginConflict`. A ``check`` that raises, or yields anything but a
    ``Violation``, becomes one KAM900 finding naming the plugin and the rule; the other rules
    still run.

    :param register: ``register(code, name, check, *, severity="error", summary="",
        form="org", fields=(), industries=())``; ``form="tables"`` makes ``check(tables)`` get
        the reader's :class:`~kamcore.workspace.tables.WorkspaceTables` (vectorised, no object
        per record; .. versionadded:: 0.2). ``fields`` (plugin namespaces) and ``industries``
        (industry names, aliases resolved) scope an org-form rule: ``kam validate`` then gives
        ``check(org)`` an org of only the accounts with a value in a ``<namespace>.*`` column
        or an industry among those, their ancestors, and every person, built once per scope
        (.. versionadded:: 0.2). Declare a scope only when the check looks at nothing else:
        ``kamcore.validate(org)`` may still give it the whole org. Codes are stable: a prefix
        per plugin (``HC101``) and never reused.
    :returns: nothing; results are collected through ``register``.

    Example::

        @hookimpl
        def kam_register_rules(register):
            register("RTL101", "gln-check-digit", check_gln, severity="error",
                     summary="A retailer's GLN has a valid GS1 check digit.",
                     fields=("retail",))

    .. versionadded:: 0.1
    """


@hookspec
def kam_register_exporters(register: RegisterExporter) -> None:
    """Add export formats: ``kam export ORG --format NAME``.

    Called once when the registry is built. ``render(tables)`` gets the reader's
    :class:`~kamcore.workspace.tables.WorkspaceTables` and returns the whole export as text
    (UTF-8) or bytes; kamcore writes it to stdout, or to ``-o FILE`` atomically. A render
    that raises or returns something else is an error naming the plugin (exit 3).

    Results: every plugin is called (not firstresult); a name two plugins declare is used by
    neither until kam.yaml's ``conflicts: {exporters: ...}`` picks one.

    :param register: ``register(name, render, *, description="")``.
    :returns: nothing; results are collected through ``register``.

    Example::

        @hookimpl
        def kam_register_exporters(register):
            register("sla_sheet", render_sla_sheet, description="SLA tiers per account")

    .. versionadded:: 1.0
    """


@hookspec
def kam_register_importers(register: RegisterImporter) -> None:
    """Add an import source: ``kam import NAME SOURCE -o ORGDIR``.

    Called once when the registry is built. ``convert(source)`` reads the source (a file, a
    folder, a URL: whatever the plugin takes) and returns the accounts as CSV text with a
    header; ``mapping`` is the ``accounts:`` section of a map file for those columns (``id``,
    ``name``, ``parent``, ``metrics``, ``<namespace>.<field>``...). kamcore runs its one import
    engine on it, with the same report and options as ``kam import csv``; ``--map FILE``
    replaces the plugin's mapping. A convert that raises or returns something else is an error
    naming the plugin (exit 3); nothing is written.

    Results: every plugin is called (not firstresult); a name two plugins declare is used by
    neither until kam.yaml's ``conflicts: {importers: ...}`` picks one.

    :param register: ``register(name, convert, *, mapping, description="")``.
    :returns: nothing; results are collected through ``register``.

    Example::

        @hookimpl
        def kam_register_importers(register):
            register("billing_system", read_billing_export,
                     mapping={"id": "CustomerNo", "name": "Customer", "parent": "Group"})

    .. versionadded:: 1.0
    """


# -------------------------------------------------------------------------------------------------
# Per-account questions: called while commands run.
# -------------------------------------------------------------------------------------------------


@hookspec
def kam_account_duties(account: Account, org: Org) -> list[Duty] | None:
    """Return the duties the accountable manager has for ``account``.

    Called for every account listed by ``kam duties`` and the hand-over brief. Results: a list
    (not firstresult); every plugin's duties are concatenated, the built-in plugins' (the duties
    common to all account managers) first. Return ``None`` or ``[]`` for accounts outside the
    plugin's industries; :func:`kamcore.serves` tests that. ``Duty.who`` is ``"manager"`` or a
    support specialty (billing, seo, coding, ...): ``kam duties`` delegates the duty to the
    nearest active support person with that specialty. A plugin that raises or returns
    anything but a list of ``Duty`` is reported with the plugin, the hook and the account; the
    other plugins' duties are still listed.

    :param account: the account.
    :param org: the whole org, for context (parents, people, support staff).
    :returns: a list of :class:`kamcore.Duty`, or ``None``.

    Example::

        @hookimpl
        def kam_account_duties(account, org):
            if not serves(org, account, "retail"):
                return None
            return [Duty(id="retail.inventory", title="Manage inventory", cadence="weekly",
                         who="logistics", source="retail")]

    .. versionadded:: 0.1
    """


@hookspec
def kam_brief_section(account: Account, org: Org) -> str | None:
    """Add a section about ``account`` to the hand-over brief its new manager receives.

    Called for every account of a hand-over brief, after the duties and support staff. Results:
    every plugin is called (not firstresult); the sections appear in pluggy's order. Return
    ``None`` for accounts outside your industry. A plugin that raises or returns anything but
    a string is named in the hand-over's warnings and its section is left out.

    :param account: the account, as it is after the hand-over.
    :param org: the org after the hand-over.
    :returns: Markdown starting with a ``### Title`` line, or ``None``.

    Example::

        @hookimpl
        def kam_brief_section(account, org):
            if not serves(org, account, "telecom"):
                return None
            return "### Network\n\n- SLA tier: gold"

    .. versionadded:: 1.0
    """


# -------------------------------------------------------------------------------------------------
# Command line: called when ``kam`` builds its command group.
# -------------------------------------------------------------------------------------------------


@hookspec
def kam_add_commands(cli: click.Group) -> None:
    """Add commands to the ``kam`` command line.

    Called once when the CLI is built (lazily: only when a command that is not built in is
    looked up, or ``kam --help`` lists them). Add with ``cli.add_command(cmd)`` or the
    ``@cli.command()`` decorator. Results: every plugin is called (not firstresult). A name
    taken by a built-in or another plugin's command is refused with a warning naming the
    plugin; a hook that raises is a warning too, and the other commands keep working.

    :param cli: the ``kam`` click group.
    :returns: nothing.

    Example::

        @hookimpl
        def kam_add_commands(cli):
            @cli.command()
            def carriers():
                "List the carriers of every logistics account."

    .. versionadded:: 0.1
    """


def all_spec_names() -> list[str]:
    """Names of every hook spec in this module, in lifecycle order."""
    return [name for name, value in globals().items()
            if name.startswith("kam_") and callable(value)]


__all__ = ["HOOK_API_VERSION", "PROJECT", "RegisterExporter", "RegisterFields", "RegisterImporter",
           "RegisterIndustry", "RegisterMetric", "RegisterRule", "RegisterSettings",
           "all_spec_names", "hookimpl", "hookspec"]



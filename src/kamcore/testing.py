"""Helpers for testing kamcore plugins (ours and yours), and their pytest fixtures.

The fixtures come with kamcore: it registers them as a pytest plugin through the ``pytest11``
entry point (``kamcore.testing``, module :mod:`kamcore.pytest_plugin`), so every pytest run
gets them with no conftest line. 0.1's ``pytest_plugins = ["kamcore.testing"]`` keeps working.

Fixtures:

- ``kam_env`` (autouse): removes every ``KAM_*`` variable and ``COLUMNS``, and points
  ``KAM_HOME`` at a temporary folder, so that a developer's shell (``KAM_LOAD_PLUGINS=...``,
  a narrow terminal) never changes a test's result.
- ``kam_pm``: a fresh plugin manager with the built-in plugins only (no entry points). Register
  the plugin under test with ``kam_pm.register(module, name="retail")``.
- ``kam_cli``: a :class:`KamCli` that runs ``kam`` with exactly ``kam_pm``'s plugins.
- ``org_builder``: makes an :class:`OrgBuilder` bound to ``kam_pm``'s registry.

The plain helpers (:func:`make_plugin_manager`, :class:`OrgBuilder`, :func:`findings_for`,
:func:`duties_for`, :func:`imported_org`) import and work without pytest. Nothing here runs
at import time.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from click.testing import Result

    from kamcore.duties import Roster
    from kamcore.models import Finding
    from kamcore.org import Org
    from kamcore.plugins import KamPluginManager

__all__ = [
    "KamCli",
    "OrgBuilder",
    "duties_for",
    "findings_for",
    "imported_org",
    "make_plugin_manager",
]


def make_plugin_manager(*plugins: object, defaults: bool = True) -> KamPluginManager:
    """A plugin manager with the built-ins and just the plugins you name (no entry points).

    :param plugins: plugin modules or objects, or dotted module names (``"kamcore_retail.plugin"``).
        Each is registered under its module's last-but-one name part (``retail`` for
        ``kamcore_retail.plugin``) or, for objects, its class name.
    :param defaults: also register kamcore's built-in plugins.
    :returns: the manager, checked with ``check_pending``.

    >>> pm = make_plugin_manager()
    >>> sorted(name for name, _ in pm.list_name_plugin())
    ['core_duties', 'core_metrics', 'core_rules']
    """
    from kamcore.plugins import get_plugin_manager

    pm = get_plugin_manager(load_entrypoints=False, defaults=defaults)
    for plugin in plugins:
        module = importlib.import_module(plugin) if isinstance(plugin, str) else plugin
        pm.register(module, name=_plugin_name(module))
    pm.check_pending()
    return pm


def _plugin_name(plugin: object) -> str:
    module_name = getattr(plugin, "__name__", None)
    if isinstance(module_name, str):
        parts = module_name.split(".")
        top = parts[0].removeprefix("kamcore_")
        return top if len(parts) > 1 else module_name
    return type(plugin).__name__


@dataclass
class OrgBuilder:
    """Builds a small org in a few lines, for tests.

    Keyword arguments that are account/person fields set them; a mapping sets a plugin's
    namespace (``retail={"gln": "4006381333931"}``); a number sets a metric.

    >>> org = (OrgBuilder().person("G1", role="gam")
    ...        .account("G", tier="global", manager="G1", country="DE", revenue=10)
    ...        .build())
    >>> org.accounts["G"].metrics
    {'revenue': 10.0}
    """

    pm: Any = None
    name: str = "Test org"
    currency: str = "EUR"
    #: Any other kam.yaml settings (``plugins``, ``conflicts``, ``rules``, ``metrics``, ...).
    settings: Mapping[str, Any] = field(default_factory=dict)
    _accounts: list[dict[str, Any]] = field(default_factory=list)
    _people: list[dict[str, Any]] = field(default_factory=list)
    _facts: list[tuple[str, str, str, float]] = field(default_factory=list)
    _rates: list[tuple[str, str, float]] = field(default_factory=list)

    def fact(self, account_id: str, period: str, metric: str, value: float) -> OrgBuilder:
        """Add a row of ``facts.csv`` (written by :meth:`write`).

        :returns: the builder, for chaining.
        """
        self._facts.append((account_id, period, metric, value))
        return self

    def rate(self, currency: str, period: str, rate: float) -> OrgBuilder:
        """Add an FX rate, a row of ``fx.csv`` (written by :meth:`write`).

        :returns: the builder, for chaining.
        """
        self._rates.append((currency, period, rate))
        return self

    def account(self, account_id: str, *, tier: str = "regular", **fields: Any) -> OrgBuilder:
        """Add an account (name defaults to the id).

        :returns: the builder, for chaining.
        """
        self._accounts.append({"id": account_id, "name": account_id, "tier": tier, **fields})
        return self

    def person(self, person_id: str, *, role: str = "am", **fields: Any) -> OrgBuilder:
        """Add a person (name defaults to the id).

        :returns: the builder, for chaining.
        """
        self._people.append({"id": person_id, "name": person_id, "role": role, **fields})
        return self

    def build(self) -> Org:
        """The org, with the registry of ``pm`` (built-ins only when no ``pm`` was given).

        :returns: a new :class:`~kamcore.Org`.
        """
        from kamcore.models import Account, Person
        from kamcore.org import Org
        from kamcore.registry import registry_for
        from kamcore.settings import Settings

        pm = self.pm if self.pm is not None else make_plugin_manager()
        accounts = [Account.model_validate(_split_fields(Account, row, metrics=True))
                    for row in self._accounts]
        people = [Person.model_validate(_split_fields(Person, row, metrics=False))
                  for row in self._people]
        settings = Settings.model_validate({"name": self.name, "currency": self.currency,
                                            **self.settings})
        return Org.build(accounts, people, settings=settings, registry=registry_for(pm))

    def write(self, folder: str | Path) -> Path:
        """Save the org as a workspace (kam.yaml, accounts.csv, people.csv) in ``folder``.

        :returns: the folder, ready for ``kam_cli.invoke("validate", str(folder))``.
        """
        from kamcore.atomic import atomic_write_text
        from kamcore.settings import FX_FILE
        from kamcore.workspace import save
        from kamcore.workspace.csvio import render_csv

        saved = save(self.build(), folder)
        if self._facts:
            atomic_write_text(saved / "facts.csv", render_csv(
                ("account", "period", "metric", "value"), self._facts))
        if self._rates:
            atomic_write_text(saved / FX_FILE, render_csv(("currency", "period", "rate"),
                                                          self._rates))
        return saved


def _split_fields(model: Any, row: Mapping[str, Any], *, metrics: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"ext": {}, "extra": {}}
    if metrics:
        data["metrics"] = {}
    for key, value in row.items():
        if key in model.model_fields:
            data[key] = value
        elif isinstance(value, Mapping):
            data["ext"][key] = {k: ";".join(map(str, v)) if isinstance(v, list | tuple) else v
                                for k, v in value.items()}
        elif metrics and isinstance(value, int | float) and not isinstance(value, bool):
            data["metrics"][key] = float(value)
        else:
            raise TypeError(f"OrgBuilder: {key}={value!r} is neither a field, a plugin "
                            "namespace (a mapping) nor a metric (a number)")
    return data


def findings_for(org: Org, *codes: str) -> list[Finding]:
    """The findings of ``kamcore.validate`` whose code starts with one of ``codes``.

    :param org: the org to validate.
    :param codes: rule codes or prefixes (``"RTL"``, ``"RTL101"``); none means all.
    :returns: the findings, in validate's order.
    """
    from kamcore import validate

    return validate(org, select=list(codes) or None)


def duties_for(org: Org, pm: Any, account_id: str) -> Roster:
    """The duty roster of one account, with ``pm``'s plugins (see :func:`kamcore.duties.roster`).

    :returns: the roster (``roster.rows`` and ``roster.problems``).
    """
    from kamcore.duties import roster

    return roster(org, pm, account=account_id)


def imported_org(pm: Any, export: str, folder: str | Path, *, source: str = "salesforce"
                 ) -> Org:
    """``kam import SOURCE EXPORT -o FOLDER`` with ``pm``'s plugins, loaded: how a plugin tests
    the CRM columns its ``kam_register_fields(crm=...)`` maps.

    :param export: the export's CSV text (``Id,Name,OwnerId,Payers__c`` and rows), written
        next to ``folder`` as ``<folder>.csv``.
    :raises AssertionError: the import did not exit 0 (with what it printed).
    """
    from kamcore.workspace import load

    folder = Path(folder)
    path = folder.with_suffix(".csv")
    path.write_text(export, encoding="utf-8")
    result = KamCli(pm).invoke("import", source, str(path), "-o", str(folder))
    if result.exit_code != 0:
        raise AssertionError(f"kam import {source} exited {result.exit_code}:\n{result.output}")
    return load(folder, pm=pm)


@dataclass
class KamCli:
    """Runs ``kam`` in-process with one plugin manager; ``invoke`` returns click's ``Result``."""

    pm: Any
    runner: Any = None

    def invoke(self, *args: str, input: str | None = None,
               env: Mapping[str, str] | None = None) -> Result:
        """Run ``kam ARGS...``.

        :returns: click's result: ``exit_code``, ``stdout``, ``stderr``, ``output`` (both).
        """
        from click.testing import CliRunner

        from kamcore.cli.app import make_cli

        runner = self.runner or CliRunner()
        return runner.invoke(make_cli(self.pm), list(args), input=input, env=dict(env or {}))


def __getattr__(name: str) -> object:
    # The fixtures live in kamcore.pytest_plugin (which needs pytest); they stay reachable
    # here for 0.1's ``pytest_plugins = ["kamcore.testing"]`` when entry points are off.
    if name in _FIXTURES:
        from kamcore import pytest_plugin

        return getattr(pytest_plugin, name)
    raise AttributeError(f"module 'kamcore.testing' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FIXTURES))


_FIXTURES = ("kam_cli", "kam_env", "kam_pm", "org_builder")

"""What the plugins declared: industries, fields, metrics and rules, each with its plugin.

The registry is built once per plugin manager by calling each plugin's hook on its own, so that
every registration is attributed to its plugin, conflicts name both plugins, and one plugin
that raises is recorded in ``problems`` while the others carry on.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from kamcore.declarations import Violation, Violations
from kamcore.errors import ConflictChoiceError, PluginConflict, PluginError
from kamcore.hookcall import as_plugin_fault, call_hook
from kamcore.models import MetricDef, Severity

__all__ = ["CONFLICT_KINDS", "ConflictChoiceError", "FieldSet", "IndustryDef", "Registry",
           "RuleDef", "Violation", "build_registry", "call_each", "registry_for"]

if TYPE_CHECKING:
    import pluggy


@dataclass(frozen=True)
class IndustryDef:
    name: str
    aliases: tuple[str, ...]
    description: str
    plugin: str


@dataclass(frozen=True)
class ExporterDef:
    """A plugin's ``kam export --format NAME``: ``render(tables)`` gives the text or bytes."""

    name: str
    render: Callable[[Any], str | bytes]
    description: str
    plugin: str


@dataclass(frozen=True)
class ImporterDef:
    """A plugin's ``kam import NAME SOURCE``: ``convert(source)`` gives an accounts CSV that
    ``mapping`` (an ``accounts:`` section of a map file) describes."""

    name: str
    convert: Callable[[str], str]
    mapping: Mapping[str, Any]
    description: str
    plugin: str


@dataclass(frozen=True)
class FieldSet:
    """A plugin's field models; values live under ``namespace`` in ``Account.ext``."""

    namespace: str
    plugin: str
    account: type[BaseModel] | None = None
    person: type[BaseModel] | None = None
    #: Account field -> the CRM columns it comes from on import (``SLA_Tier__c``).
    crm: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Fields on contacts.csv rows (``<namespace>.<field>`` columns there).
    contact: type[BaseModel] | None = None


#: How a rule's ``check`` takes the org: ``"org"`` gets an :class:`~kamcore.Org` (records and
#: graphs), ``"tables"`` gets the reader's :class:`~kamcore.workspace.tables.WorkspaceTables`,
#: ``"plan"`` gets a :class:`~kamcore.changes.plan.Plan` (a change check: it runs when a change
#: is planned, not in ``kam validate``).
RULE_FORMS = ("org", "tables", "plan")


@dataclass(frozen=True)
class RuleDef:
    code: str
    name: str
    check: Callable[[Any], Iterable[Violation | Violations]]
    severity: Severity
    summary: str
    plugin: str
    form: str = "org"
    #: The plugin namespaces whose fields the rule looks at (``"healthcare"``): with
    #: ``industries``, its scope (see :attr:`scope`).
    fields: tuple[str, ...] = ()
    #: The industries (canonical names, normalised) whose accounts the rule looks at.
    industries: tuple[str, ...] = ()

    @property
    def scope(self) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """``(fields, industries)`` for an org-form rule that declared what it looks at, else
        ``None`` (the rule sees the whole org)."""
        if self.form != "org" or not (self.fields or self.industries):
            return None
        return self.fields, self.industries


def _core_contact_roles() -> dict[str, str]:
    from kamcore.models.enums import CONTACT_ROLES

    return dict.fromkeys(CONTACT_ROLES, "core")


@dataclass
class Registry:
    industries: dict[str, IndustryDef] = field(default_factory=dict)
    fields: dict[str, FieldSet] = field(default_factory=dict)
    metrics: dict[str, MetricDef] = field(default_factory=dict)
    rules: dict[str, RuleDef] = field(default_factory=dict)
    exporters: dict[str, ExporterDef] = field(default_factory=dict)
    importers: dict[str, ImporterDef] = field(default_factory=dict)
    #: Plugins that failed while declaring; shown by ``kam validate`` and ``kam plugins``.
    problems: list[PluginError] = field(default_factory=list)
    #: The name of every registered plugin (for kam.yaml's did-you-mean).
    plugins: list[str] = field(default_factory=list)
    #: The settings model of each plugin's ``plugins.<name>`` section in kam.yaml.
    settings: dict[str, type[BaseModel]] = field(default_factory=dict)
    #: Names two or more plugins claim: kind (see :data:`CONFLICT_KINDS`) -> name -> plugin ->
    #: what it declared. None of them is used until kam.yaml's ``conflicts:`` names the winner.
    contested: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: Contact roles (``decision-maker`` ...) -> the plugin that declared it (``core``: built in).
    contact_roles: dict[str, str] = field(default_factory=_core_contact_roles)
    _industry_index: dict[str, str] = field(default_factory=dict)
    _conflict_problems: dict[tuple[str, str], PluginError] = field(default_factory=dict)

    def conflict(self, kind: str, name: str) -> PluginError | None:
        """The problem of a name two plugins claim and kam.yaml left open, else ``None``.

        :param kind: one of :data:`CONFLICT_KINDS` (``"exporters"``, ``"metrics"``, ...).
        """
        if name not in self.contested.get(kind, {}):
            return None
        return self._conflict_problems.get((kind, name))

    def industry_of(self, value: str | None) -> str | None:
        """The registered industry an ``industry`` cell names, or ``None``."""
        if not value:
            return None
        return self._industry_index.get(normalize_name(value))

    def settle(self, choices: Mapping[str, Mapping[str, str]]) -> Registry:
        """This registry with the contested names settled as kam.yaml's ``conflicts:`` says.

        :param choices: kind -> name -> the plugin that wins (``{"metrics": {"mrr":
            "telecom"}}``).
        :returns: a new registry (this one is shared by every workspace of the run); the
            contests left open stay problems, naming every plugin involved.
        :raises ConflictChoiceError: a choice names a plugin that does not claim that name.
        """
        if not choices:
            return self
        settled = dataclasses.replace(
            self, industries=dict(self.industries), fields=dict(self.fields),
            metrics=dict(self.metrics), rules=dict(self.rules),
            exporters=dict(self.exporters), importers=dict(self.importers),
            _industry_index=dict(self._industry_index))
        done: set[tuple[str, str]] = set()
        for kind, picks in choices.items():
            for name, plugin in picks.items():
                key = normalize_name(name) if kind in ("industries", "aliases") else name
                rivals = self.contested.get(kind, {}).get(key)
                if rivals is None:
                    continue  # settled already, or the plugins are not both loaded here
                if plugin not in rivals:
                    raise ConflictChoiceError(
                        kind, name, f"plugin {plugin!r} does not declare "
                        f"{CONFLICT_KINDS.get(kind, kind)} {name!r}; it is declared by "
                        f"{_both(rivals)}",
                        hint=f"write one of: {', '.join(sorted(rivals))}")
                value = rivals[plugin]
                if kind == "aliases":
                    settled._industry_index[key] = value
                else:
                    getattr(settled, kind)[key] = value
                done.add((kind, key))
        _index_industries(settled)
        settled.problems = [p for p in self.problems if not any(
            p is self._conflict_problems.get(k) for k in done)]
        return settled


def normalize_name(value: str) -> str:
    """Lower case, single spaces, no punctuation: 'Health-Care ' -> 'health care'.

    Remembered per text: a rule asks for each of 200,000 accounts' industry cells, which hold
    a few distinct values."""
    if type(value) is not str:
        return _normalized(value)
    return _normalized_text(value)


def _normalized(value: str) -> str:
    return re.sub(r"[\s_\-/&.]+", " ", value.strip().lower()).strip()


_normalized_text = functools.lru_cache(maxsize=1 << 12)(_normalized)


#: What two plugins may both claim, as kam.yaml's ``conflicts:`` names them, and how a
#: message names one of them.
CONFLICT_KINDS = {"industries": "industry", "aliases": "industry alias",
                  "fields": "field namespace", "metrics": "metric", "rules": "rule code",
                  "exporters": "export format", "importers": "import source"}


def _both(rivals: Mapping[str, object]) -> str:
    names = [repr(n) for n in sorted(rivals)]
    return ", ".join(names[:-1]) + " and " + names[-1]


#: The shape of a rule code (``KAM101``, ``RTL101``): registering any other is refused.
RULE_CODE = re.compile(r"^[A-Z]{2,6}\d{3}$")
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]*$")
_ROLE = re.compile(r"^[a-z][a-z0-9_-]*$")


def call_each(pm: pluggy.PluginManager, hook: str, problems: list[PluginError],
              **kwargs: Any) -> Iterator[tuple[str, Any]]:
    """Deprecated since 1.0 (removed in 2.0): use :func:`kamcore.hookcall.call_hook`.

    Yields ``(plugin_name, result)`` for each plugin that returned something.
    """
    from kamcore.deprecated import warn_deprecated

    warn_deprecated("kamcore.registry.call_each", "kamcore.hookcall.call_hook")
    yield from call_hook(pm, hook, problems=problems,
                         check=lambda plugin, result: (plugin, result), **kwargs)


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Collect every plugin's declarations. Never raises for a plugin's fault.

    Each ``kam_register_*`` hook is called once through :func:`~kamcore.hookcall.call_hook`;
    a plugin whose call raises (a bad ``register`` call raises :class:`PluginError`) keeps
    none of the declarations it made in that call.
    """
    reg = Registry(plugins=sorted(name for name, plugin in pm.list_name_plugin()
                                  if plugin is not None))
    reg.problems.extend(getattr(pm, "load_failures", []))
    current = {"plugin": ""}

    def claim(kind: str, key: str, value: Any) -> None:
        """Put ``value`` under ``key``; a name another plugin claims too becomes contested."""
        plugin = current["plugin"]
        table: dict[str, Any] = (reg._industry_index if kind == "aliases"
                                 else getattr(reg, kind))
        rivals = reg.contested.get(kind, {}).get(key)
        if kind == "aliases":
            if table.get(key) == value or (rivals is not None and value in rivals.values()):
                return  # the same industry under the same name: nothing to decide
            owner = _alias_owner(reg, table[key]) if key in table else None
        else:
            owner = table[key].plugin if key in table else None
        if plugin == owner or (rivals is not None and plugin in rivals):
            raise PluginError(f"{CONFLICT_KINDS[kind]} {key!r} is declared twice", plugin=plugin)
        if rivals is not None:
            rivals[plugin] = value
        elif owner is not None:
            reg.contested.setdefault(kind, {})[key] = {owner: table.pop(key), plugin: value}
        else:
            table[key] = value

    def register_industry(name: str, *, aliases: Iterable[str] = (), description: str = "") -> None:
        key = normalize_name(name)
        claim("industries", key, IndustryDef(key, tuple(aliases), description, current["plugin"]))
        for alias in (key, *aliases):
            claim("aliases", normalize_name(alias), key)

    def register_fields(namespace: str, *, account: type[BaseModel] | None = None,
                        person: type[BaseModel] | None = None,
                        crm: Mapping[str, Iterable[str] | str] | None = None,
                        contact: type[BaseModel] | None = None,
                        contact_roles: Iterable[str] = ()) -> None:
        if not _NAMESPACE.match(namespace):
            raise PluginError(f"namespace {namespace!r} must be lower_snake_case",
                              plugin=current["plugin"], hook="kam_register_fields")
        roles = _names(contact_roles)
        if roles is None or not all(_ROLE.match(r) for r in roles):
            raise PluginError(f"contact_roles of {namespace!r} must be lower-case names such as "
                              f"'clinical-lead', not {contact_roles!r}", plugin=current["plugin"],
                              hook="kam_register_fields")
        for role in roles:
            if role in reg.contact_roles:
                raise PluginConflict(f"contact role {role!r} is already declared by "
                                     f"{reg.contact_roles[role]!r}", plugin=current["plugin"],
                                     hint="use the existing role, or name yours differently")
        for model in (account, person, contact):
            if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
                raise PluginError(f"fields for {namespace!r} must be a pydantic model class, "
                                  f"got {model!r}", plugin=current["plugin"],
                                  hook="kam_register_fields")
        columns = _crm_columns(namespace, account, crm or {}, current["plugin"])
        claim("fields", namespace, FieldSet(namespace, current["plugin"], account, person,
                                            columns, contact))
        reg.contact_roles.update(dict.fromkeys(roles, current["plugin"]))

    def register_metric(name: str, **options: Any) -> None:
        try:
            metric = MetricDef(name=name, plugin=current["plugin"], **options)
        except (ValidationError, TypeError) as exc:
            raise PluginError(f"metric {name!r} is invalid: {exc}", plugin=current["plugin"],
                              hook="kam_register_metrics") from None
        claim("metrics", name, metric)

    def register_rule(code: str, name: str,
                      check: Callable[[Any], Iterable[Violation | Violations]], *,
                      severity: str = "error", summary: str = "", form: str = "org",
                      fields: Iterable[str] = (), industries: Iterable[str] = ()) -> None:
        if not RULE_CODE.match(code) or not callable(check):
            raise PluginError(f"rule {code!r}: the code must look like ABC123 and check must be "
                              "callable", plugin=current["plugin"], hook="kam_register_rules")
        if form not in RULE_FORMS:
            raise PluginError(f"rule {code!r}: form must be one of {', '.join(RULE_FORMS)}, not "
                              f"{form!r}", plugin=current["plugin"], hook="kam_register_rules")
        namespaces = _names(fields)
        if namespaces is None or not all(_NAMESPACE.match(n) for n in namespaces):
            raise PluginError(f"rule {code!r}: fields must be plugin namespaces (lower_snake_case"
                              f" strings), not {fields!r}", plugin=current["plugin"],
                              hook="kam_register_rules")
        kinds = _names(industries)
        if kinds is None or not all(normalize_name(i) for i in kinds):
            raise PluginError(f"rule {code!r}: industries must be industry names, not "
                              f"{industries!r}", plugin=current["plugin"],
                              hook="kam_register_rules")
        if form != "org" and (namespaces or kinds):
            raise PluginError(f"rule {code!r}: fields and industries scope an org-form rule; "
                              "a table-form rule reads the columns it needs itself",
                              plugin=current["plugin"], hook="kam_register_rules")
        claim("rules", code, RuleDef(code, name, _guarded(check), Severity(severity), summary,
                                     current["plugin"], form, namespaces,
                                     tuple(dict.fromkeys(normalize_name(i) for i in kinds))))

    def register_exporter(name: str, render: Callable[[Any], str | bytes], *,
                          description: str = "") -> None:
        if not _NAMESPACE.match(name) or not callable(render):
            raise PluginError(f"export format {name!r}: the name must be lower_snake_case and "
                              "render callable", plugin=current["plugin"])
        if name in ("csv", "json", "mermaid", "dot", "salesforce", "closure", "levels",
                    "edges"):
            raise PluginError(f"export format {name!r} is built in; choose another name",
                              plugin=current["plugin"])
        claim("exporters", name, ExporterDef(name, render, description, current["plugin"]))

    def register_importer(name: str, convert: Callable[[str], str], *,
                          mapping: Mapping[str, Any], description: str = "") -> None:
        from kamcore.importers.mapping import AccountMap

        if not _NAMESPACE.match(name) or not callable(convert):
            raise PluginError(f"import source {name!r}: the name must be lower_snake_case and "
                              "convert callable", plugin=current["plugin"])
        if name in ("salesforce", "hubspot", "csv", "facts"):
            raise PluginError(f"import source {name!r} is built in; choose another name",
                              plugin=current["plugin"])
        try:
            AccountMap.model_validate(dict(mapping))
        except (ValidationError, TypeError, ValueError) as exc:
            raise PluginError(f"import source {name!r}: mapping is not an accounts map: {exc}",
                              plugin=current["plugin"]) from None
        claim("importers", name, ImporterDef(name, convert, dict(mapping), description,
                                             current["plugin"]))

    def register_settings(model: type[BaseModel]) -> None:
        plugin = current["plugin"]
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise PluginError(f"settings must be a pydantic model class, got {model!r}",
                              plugin=plugin)
        if plugin in reg.settings:
            raise PluginError("settings are declared twice", plugin=plugin)
        reg.settings[plugin] = model

    snapshots: dict[str, tuple[Any, ...]] = {}

    def begin(plugin: str) -> None:
        current["plugin"] = plugin
        snapshots[plugin] = _snapshot(reg)

    def rollback(plugin: str) -> None:
        _restore(reg, snapshots.pop(plugin))

    for hook, register in (("kam_register_settings", register_settings),
                           ("kam_register_industries", register_industry),
                           ("kam_register_fields", register_fields),
                           ("kam_register_metrics", register_metric),
                           ("kam_register_rules", register_rule),
                           ("kam_register_exporters", register_exporter),
                           ("kam_register_importers", register_importer)):
        call_hook(pm, hook, problems=reg.problems, begin=begin, rollback=rollback,
                  register=register)
    _index_industries(reg)
    for kind, names in reg.contested.items():
        for name, rivals in names.items():
            problem = PluginConflict(
                f"{CONFLICT_KINDS[kind]} {name!r} is declared by plugins {_both(rivals)}; none "
                "of them is used until kam.yaml says which wins", plugin=",".join(sorted(rivals)),
                hint=f"add to kam.yaml: conflicts: {{{kind}: {{{name!r}: "
                f"{sorted(rivals)[0]}}}}} (or another of them)")
            reg._conflict_problems[(kind, name)] = problem
            reg.problems.append(problem)
    from kamcore.fieldvalues import field_kinds
    from kamcore.models.formula import derive_problems

    numbers, others = field_kinds(reg)
    for name, message in derive_problems({n: m.derive for n, m in reg.metrics.items()},
                                         {*reg.metrics, *numbers}, text_fields=others).items():
        reg.problems.append(PluginError(message, plugin=reg.metrics.pop(name).plugin,
                                        hook="kam_register_metrics"))
    for metric in list(reg.metrics.values()):
        if (metric.weight and metric.weight not in reg.metrics
                and metric.weight not in reg.contested.get("metrics", {})):
            del reg.metrics[metric.name]
            reg.problems.append(PluginError(
                f"metric {metric.name!r} is weighted by {metric.weight!r}, which no plugin "
                "declares", plugin=metric.plugin, hook="kam_register_metrics"))
    return reg


def _crm_columns(namespace: str, account: type[BaseModel] | None,
                 crm: Mapping[str, Iterable[str] | str], plugin: str) -> dict[str, tuple[str, ...]]:
    """``crm=`` of ``kam_register_fields``: each key an account field, each value its CRM
    column name(s)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, columns in crm.items():
        if account is None or name not in account.model_fields:
            raise PluginError(f"crm names {name!r}, which is not a field of {namespace!r}'s "
                              "account model", plugin=plugin, hook="kam_register_fields")
        names = _names(columns)
        if not names:
            raise PluginError(f"crm[{name!r}] must be CRM column names, not {columns!r}",
                              plugin=plugin, hook="kam_register_fields")
        out[name] = names
    return out


def _names(values: Iterable[str] | str) -> tuple[str, ...] | None:
    """A scope's names as a tuple (one string is one name); ``None`` when they are not strings."""
    if isinstance(values, str):
        values = (values,)
    try:
        names = tuple(values)
    except TypeError:
        return None
    return names if all(isinstance(n, str) for n in names) else None


def _guarded(check: Callable[[Any], Iterable[Violation | Violations]]
             ) -> Callable[[Any], Iterator[Violation | Violations]]:
    """``check`` with a ``SystemExit`` (or other ``BaseException`` but Ctrl-C) turned into an
    ordinary exception, which validation reports as the plugin's failure (KAM900)."""
    def run(subject: Any) -> Iterator[Violation | Violations]:
        try:
            yield from check(subject)
        except (Exception, GeneratorExit):
            raise  # an ordinary failure, or the caller closing this generator
        except BaseException as exc:
            raise as_plugin_fault(exc) from exc

    return run


def _index_industries(reg: Registry) -> None:
    """Every industry is found by its name and aliases, except names still contested; no
    name leads to an industry that is not (yet) settled."""
    open_aliases = reg.contested.get("aliases", {})
    for key, industry in reg.industries.items():
        for alias in (key, *industry.aliases):
            name = normalize_name(alias)
            if name not in open_aliases:
                reg._industry_index.setdefault(name, key)
    for name, key in list(reg._industry_index.items()):
        if key not in reg.industries:
            del reg._industry_index[name]


def _alias_owner(reg: Registry, industry: str) -> str | None:
    owner = reg.industries.get(industry)
    if owner is not None:
        return owner.plugin
    rivals = reg.contested.get("industries", {}).get(industry)
    return sorted(rivals)[0] if rivals else None


def _snapshot(reg: Registry) -> tuple[Any, ...]:
    return (dict(reg.industries), dict(reg.fields), dict(reg.metrics), dict(reg.rules),
            dict(reg.exporters), dict(reg.importers), dict(reg._industry_index),
            dict(reg.settings),
            {kind: {name: dict(rivals) for name, rivals in names.items()}
             for kind, names in reg.contested.items()}, dict(reg.contact_roles))


def _restore(reg: Registry, snap: tuple[Any, ...]) -> None:
    """A plugin that fails half-way leaves nothing behind: all or none of its declarations."""
    (reg.industries, reg.fields, reg.metrics, reg.rules, reg.exporters, reg.importers,
     reg._industry_index, reg.settings, reg.contested, reg.contact_roles) = snap


def registry_for(pm: pluggy.PluginManager) -> Registry:
    """The registry of ``pm``, built on first use and kept on the manager."""
    cached = getattr(pm, "_kam_registry", None)
    if cached is None:
        cached = build_registry(pm)
        # a cache on any pluggy manager, which declares no such attribute; KamPluginManager
        # drops it when a plugin is (un)registered
        pm._kam_registry = cached  # type: ignore[attr-defined]
    return cached

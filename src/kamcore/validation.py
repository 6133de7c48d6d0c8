"""Running the rules: each rule isolated, severities from kam.yaml applied, findings sorted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kamcore.declarations import Violations
from kamcore.models import Finding, Severity
from kamcore.models.quick import new_record
from kamcore.perf import paused_gc
from kamcore.registry import RuleDef, Violation

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    import numpy as np
    import pyarrow as pa

    from kamcore.changes.plan import Plan
    from kamcore.findings import FindingCollector, FindingTable
    from kamcore.org import Org, OrgSource
    from kamcore.registry import Registry
    from kamcore.settings import Settings
    from kamcore.workspace.tables import WorkspaceTables

PLUGIN_FAILURE = "KAM900"


def validate(org: OrgSource | WorkspaceTables, *, select: list[str] | None = None,
             tables: WorkspaceTables | None = None) -> list[Finding]:
    """Every finding for ``org``: errors first, then by file and line.

    A rule that raises becomes a KAM900 finding naming its plugin; the other rules still run.
    Table-form rules (the core's) see the org's records as tables, the same form
    ``kam validate`` reads from files.

    :param org: a loaded org (its registry decides which rules run), or the path of a
        workspace folder (read as ``kam validate`` reads it, with every installed plugin), or
        the reader's tables.
    :param select: only these rule codes (or code prefixes).
    :param tables: the org's records as tables when the caller has them (a plan file patches
        the tables it read; building them from 100,000 records costs more than the rules).
    :returns: the findings, with severities as kam.yaml overrides them.

    >>> from kamcore import Account, Org
    >>> [f.code for f in validate(Org.build([Account(id="A", name="A", tier="key")]))]
    []
    """
    import os

    from kamcore.workspace.objects import tables_from_org
    from kamcore.workspace.tables import WorkspaceTables, read_workspace

    if isinstance(org, str | os.PathLike):
        org = read_workspace(os.fspath(org))
        org.require_readable()
    if isinstance(org, WorkspaceTables):
        return validate_tables(org, select=select)
    from kamcore.workspace.loader import as_org

    org = as_org(org)  # an Org, or a clear TypeError
    if org.registry is None:
        from kamcore.plugins import get_plugin_manager
        from kamcore.registry import registry_for

        org.registry = registry_for(get_plugin_manager(load_entrypoints=False))
    made: list[WorkspaceTables] = [] if tables is None else [tables]

    def as_tables() -> WorkspaceTables:
        if not made:
            made.append(tables_from_org(org, customer_side=True))
        return made[0]

    return _validate(org.registry, org.settings, as_tables, lambda rule, last: org,
                     select).sorted_table().findings()


def validate_tables(tables: WorkspaceTables, *, select: list[str] | None = None
                    ) -> list[Finding]:
    """Every finding for a workspace as the reader gives it (what ``kam validate`` runs).

    :param tables: from :func:`kamcore.workspace.tables.read_workspace`, readable (no
        problems left: :meth:`~kamcore.workspace.tables.WorkspaceTables.require_readable`).
    :param select: only these rule codes (or code prefixes).
    """
    return validate_columns(tables, select=select).findings()


def validate_columns(tables: WorkspaceTables, *, select: list[str] | None = None
                     ) -> FindingTable:
    """:func:`validate_tables`'s findings as columns, sorted (``kam validate`` prints them
    from these: a hundred thousand findings need no object each).

    Builds the object model only when a rule asks for it (an ``"org"``-form plugin rule), so a
    workspace checked by table-form rules alone never holds an object per account. A rule that
    declared a scope (``fields=``, ``industries=``) gets an org of the accounts it concerns and
    their ancestors (every person too), built once per scope in this run and let go after the
    last rule of that scope; the others get the whole org, built once.

    :param tables: from :func:`kamcore.workspace.tables.read_workspace`, readable (no
        problems left: :meth:`~kamcore.workspace.tables.WorkspaceTables.require_readable`).
    :param select: only these rule codes (or code prefixes).
    """
    from kamcore.workspace.objects import SharedRecords, org_from_tables

    orgs: dict[tuple[tuple[str, ...], tuple[str, ...]] | None, Org] = {}
    shared = SharedRecords()  # every scope's org holds every person: built once
    registry = tables.registry
    if registry is None:
        from kamcore.plugins import get_plugin_manager
        from kamcore.registry import registry_for

        registry = tables.registry = registry_for(get_plugin_manager(load_entrypoints=False))

    def as_org(rule: RuleDef, last: bool) -> Org:
        scope = rule.scope
        org = orgs.get(scope)
        if org is None:
            org = org_from_tables(tables if scope is None else scoped_tables(tables, *scope),
                                  shared=shared)
        if last:
            orgs.pop(scope, None)
        else:
            orgs[scope] = org
        return org

    if tables.contacts is not None and _selects_contact_rules(select):
        from kamcore.structure import contact_index

        contact_index(tables).start()  # the contacts' hash pass overlaps the account rules
    return _validate(registry, tables.settings, lambda: tables, as_org, select).sorted_table()


def _selects_contact_rules(select: list[str] | None) -> bool:
    from kamcore.builtin.contact_rules import CONTACT_RULES

    return not select or any(code.startswith(s) for code, *_ in CONTACT_RULES for s in select)


def scoped_tables(tables: WorkspaceTables, fields: Collection[str] = (),
                  industries: Collection[str] = ()) -> WorkspaceTables:
    """``tables`` with only the accounts a scoped rule concerns, their ancestors and every person.

    An account is concerned when it has a value in a ``<namespace>.*`` column of one of
    ``fields``, or when its industry cell names one of ``industries`` (aliases resolved as
    :meth:`kamcore.Org.industry_of` does). Only each id's first row counts, as in an
    :class:`~kamcore.Org`; rows keep their file lines.

    .. versionadded:: 0.2
    """
    import dataclasses

    import numpy as np
    import pyarrow as pa

    from kamcore.structure import account_index

    accounts = tables.accounts
    concerned = np.zeros(len(accounts), dtype=bool)
    for name in accounts.extra_columns:
        if "." in name and name.partition(".")[0] in fields:
            column = accounts.column(name)
            if column is not None and column.null_count < len(column):
                concerned |= column.is_valid().to_numpy(zero_copy_only=False)
    if industries:
        concerned |= _of_industries(tables, accounts.text("industry"), set(industries))
    index = account_index(tables)
    keep = concerned & index.first
    parent = index.parent
    frontier = np.flatnonzero(keep)
    while frontier.size:  # up the tree a level at a time; a loop stops once all are kept
        up = parent[frontier]
        up = np.unique(up[up >= 0])
        frontier = up[~keep[up]]
        keep[frontier] = True
    rows = np.flatnonzero(keep)
    whole = accounts
    subset = dataclasses.replace(
        accounts, table=accounts.table.take(pa.array(rows)), rows=accounts.rows[rows],
        line_of_row=lambda: whole._lines)
    return dataclasses.replace(tables, accounts=subset)


def _of_industries(tables: WorkspaceTables, cells: pa.Array, industries: set[str]
                   ) -> np.ndarray:
    """For each industry cell: does it name one of ``industries``? (once per distinct value)"""
    import numpy as np
    import pyarrow.compute as pc

    from kamcore.registry import normalize_name

    registry = tables.registry
    encoded = pc.dictionary_encode(cells)
    names = encoded.dictionary.to_pylist()

    def named(cell: str | None) -> bool:
        if not cell:
            return False
        industry = (registry.industry_of(cell) if registry else None) or normalize_name(cell)
        return industry in industries

    hit = np.array([named(cell) for cell in names] + [False], dtype=bool)
    codes = encoded.indices.fill_null(len(names)).to_numpy(zero_copy_only=False)
    return hit[codes]


def _validate(registry: Registry, settings: Settings, as_tables: Callable[[], WorkspaceTables],
              as_org: Callable[[RuleDef, bool], Org], select: list[str] | None
              ) -> FindingCollector:
    from kamcore.findings import FindingCollector

    rules = settings.rules
    disabled = set(rules.disable)
    found = FindingCollector()
    for problem in registry.problems:
        found.add(Finding(
            code=PLUGIN_FAILURE, severity=Severity.ERROR, message=str(problem.message),
            hint=problem.hint or f"fix or disable the plugin: KAM_DISABLE_PLUGINS="
            f"{problem.plugin}", rule="plugin-failure", plugin=problem.plugin))
    running = [rule for rule in registry.rules.values() if rule.code not in disabled
               and rule.form != "plan"
               and not (select and not any(rule.code.startswith(s) for s in select))]
    # the last rule to need each org: past it, that org is let go (one scope's at a time)
    last = {rule.scope: i for i, rule in enumerate(running) if rule.form != "tables"}
    with paused_gc():
        for i, rule in enumerate(running):
            severity = rules.severity.get(rule.code, rule.severity)
            if rule.form == "tables":
                found.extend(_run_rule(None, as_tables(), rule, severity))
            else:
                org = as_org(rule, last[rule.scope] == i)
                found.extend(_run_rule(org, org, rule, severity))
                del org
    return found


def check_plan(plan: Plan) -> list[Finding]:
    """The findings of the change checks (``form="plan"`` rules) for ``plan``.

    They are added to the plan's findings after the change, so they show in the plan as
    findings that appear, and an error among them refuses ``apply`` (unless forced), like any
    error the change adds. kam.yaml's rule settings (disable, severity) apply to them.
    """
    org = plan.after
    registry = org.registry
    if registry is None:
        return []
    rules = org.settings.rules
    findings: list[Finding] = []
    for rule in registry.rules.values():
        if rule.form == "plan" and rule.code not in rules.disable:
            found = _run_rule(org, plan, rule, rules.severity.get(rule.code, rule.severity))
            findings.extend(found.table().findings())
    return findings


def _run_rule(org: Org | None, subject: object, rule: RuleDef,
              severity: Severity) -> FindingCollector:
    """What one rule finds; a table-form rule's :class:`~kamcore.Violations` stay columns."""
    from kamcore.findings import FindingCollector

    out = FindingCollector()
    try:
        for violation in rule.check(subject):
            if isinstance(violation, Violation):
                out.add(_to_finding(org, rule, severity, violation))
            elif isinstance(violation, Violations) and rule.form == "tables":
                out.add_violations(violation, code=rule.code, severity=severity,
                                   rule=rule.name, plugin=rule.plugin)
            else:
                raise TypeError(f"yielded {type(violation).__name__}, expected "
                                "kamcore.Violation" + (" or kamcore.Violations"
                                                       if rule.form == "tables" else ""))
    except Exception as exc:
        out.add(Finding(
            code=PLUGIN_FAILURE, severity=Severity.ERROR, rule="plugin-failure",
            plugin=rule.plugin, message=f"rule {rule.code} ({rule.name}) of plugin "
            f"{rule.plugin!r} failed: {type(exc).__name__}: {exc}",
            hint=f"report it to the plugin's authors; disable it meanwhile with rules: "
            f"disable: [{rule.code}] in kam.yaml"))
    return out


def _to_finding(org: Org | None, rule: RuleDef, severity: Severity,
                violation: Violation) -> Finding:
    location = violation.location
    if location is None and violation.subject is not None and org is not None:
        location = (org.location("account", violation.subject)
                    if violation.subject in org.accounts
                    else org.location("person", violation.subject))
    fields: dict[str, Any] = {
        "code": rule.code, "severity": severity, "message": violation.message,
        "hint": violation.hint, "subject": violation.subject,
        "file": location.file if location else None,
        "line": location.line if location else None,
        "column": violation.column, "rule": rule.name, "plugin": rule.plugin}
    if _plain(fields):  # what the model would check, checked directly (200,000 findings: 2 s)
        return new_record(Finding, fields)
    return Finding(**fields)


_STR, _STR_OR_NONE, _INT_OR_NONE = {str}, {str, type(None)}, {int, type(None)}


def _plain(fields: dict[str, Any]) -> bool:
    """Every field already of the model's exact type (so validating would change nothing);
    the rule's code and plugin are text by the registry's checks, its name is checked here."""
    return (type(fields["severity"]) is Severity
            and type(fields["message"]) in _STR
            and {type(fields["hint"]), type(fields["subject"]), type(fields["file"]),
                 type(fields["column"]), type(fields["rule"])} <= _STR_OR_NONE
            and type(fields["line"]) in _INT_OR_NONE)


def has_errors(findings: list[Finding]) -> bool:
    """True when any finding is an error (``kam validate`` exits 1)."""
    return any(f.severity == Severity.ERROR for f in findings)

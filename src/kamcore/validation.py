"""Running the rules: each rule isolated, severities from kam.yaml applied, findings sorted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kamcore.models import Finding, Severity
from kamcore.perf import paused_gc
from kamcore.registry import RuleDef, Violation

if TYPE_CHECKING:
    from collections.abc import Callable

    from kamcore.org import Org
    from kamcore.registry import Registry
    from kamcore.settings import Settings
    from kamcore.workspace.tables import WorkspaceTables

PLUGIN_FAILURE = "KAM900"
SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def validate(org: Org, *, select: list[str] | None = None) -> list[Finding]:
    """Every finding for ``org``: errors first, then by file and line.

    A rule that raises becomes a KAM900 finding naming its plugin; the other rules still run.
    Table-form rules (the core's) see the org's records as tables, the same form
    ``kam validate`` reads from files.

    :param org: a loaded org (its registry decides which rules run).
    :param select: only these rule codes (or code prefixes).
    :returns: the findings, with severities as kam.yaml overrides them.

    >>> from kamcore import Account, Org
    >>> [f.code for f in validate(Org.build([Account(id="A", name="A", tier="key")]))]
    []
    """
    from kamcore.workspace.objects import tables_from_org

    if org.registry is None:
        from kamcore.plugins import get_plugin_manager
        from kamcore.registry import registry_for

        org.registry = registry_for(get_plugin_manager(load_entrypoints=False))
    made: list[WorkspaceTables] = []

    def as_tables() -> WorkspaceTables:
        if not made:
            made.append(tables_from_org(org))
        return made[0]

    return _validate(org.registry, org.settings, as_tables, lambda: org, select)


def validate_tables(tables: WorkspaceTables, *, select: list[str] | None = None
                    ) -> list[Finding]:
    """Every finding for a workspace as the reader gives it (what ``kam validate`` runs).

    Builds the object model only when a rule asks for it (an ``"org"``-form plugin rule), so a
    workspace checked by table-form rules alone never holds an object per account.

    :param tables: from :func:`kamcore.workspace.tables.read_workspace`, readable (no
        problems left: :meth:`~kamcore.workspace.tables.WorkspaceTables.require_readable`).
    :param select: only these rule codes (or code prefixes).
    """
    from kamcore.workspace.objects import org_from_tables

    org: list[Org] = []

    def as_org() -> Org:
        if not org:
            org.append(org_from_tables(tables))
        return org[0]

    registry = tables.registry
    if registry is None:
        from kamcore.plugins import get_plugin_manager
        from kamcore.registry import registry_for

        registry = tables.registry = registry_for(get_plugin_manager(load_entrypoints=False))
    return _validate(registry, tables.settings, lambda: tables, as_org, select)


def _validate(registry: Registry, settings: Settings, as_tables: Callable[[], WorkspaceTables],
              as_org: Callable[[], Org], select: list[str] | None) -> list[Finding]:
    rules = settings.rules
    disabled = set(rules.disable)
    findings: list[Finding] = [
        Finding(code=PLUGIN_FAILURE, severity=Severity.ERROR, message=str(problem.message),
                hint=problem.hint or f"fix or disable the plugin: KAM_DISABLE_PLUGINS="
                f"{problem.plugin}", rule="plugin-failure", plugin=problem.plugin)
        for problem in registry.problems
    ]
    with paused_gc():
        for rule in registry.rules.values():
            if rule.code in disabled or (
                    select and not any(rule.code.startswith(s) for s in select)):
                continue
            severity = rules.severity.get(rule.code, rule.severity)
            if rule.form == "tables":
                findings.extend(_run_rule(None, as_tables(), rule, severity))
            else:
                org = as_org()
                findings.extend(_run_rule(org, org, rule, severity))
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.file or "", f.line or 0, f.code))
    return findings


def _run_rule(org: Org | None, subject: object, rule: RuleDef,
              severity: Severity) -> list[Finding]:
    out: list[Finding] = []
    try:
        for violation in rule.check(subject):
            if not isinstance(violation, Violation):
                raise TypeError(f"yielded {type(violation).__name__}, expected "
                                "kamcore.Violation")
            out.append(_to_finding(org, rule, severity, violation))
    except Exception as exc:
        out.append(Finding(
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
    return Finding(code=rule.code, severity=severity, message=violation.message,
                   hint=violation.hint, subject=violation.subject,
                   file=location.file if location else None,
                   line=location.line if location else None,
                   column=violation.column, rule=rule.name, plugin=rule.plugin)


def has_errors(findings: list[Finding]) -> bool:
    """True when any finding is an error (``kam validate`` exits 1)."""
    return any(f.severity == Severity.ERROR for f in findings)

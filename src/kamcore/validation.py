"""Running the rules: each rule isolated, severities from kam.yaml applied, findings sorted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kamcore.models import Finding, Severity
from kamcore.perf import paused_gc
from kamcore.registry import RuleDef, Violation

if TYPE_CHECKING:
    from kamcore.org import Org

PLUGIN_FAILURE = "KAM900"
SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def validate(org: Org, *, select: list[str] | None = None) -> list[Finding]:
    """Every finding for ``org``: errors first, then by file and line.

    A rule that raises becomes a KAM900 finding naming its plugin; the other rules still run.

    :param org: a loaded org (its registry decides which rules run).
    :param select: only these rule codes (or code prefixes).
    :returns: the findings, with severities as kam.yaml overrides them.

    >>> from kamcore import Account, Org
    >>> [f.code for f in validate(Org.build([Account(id="A", name="A", tier="key")]))]
    []
    """
    registry = org.registry
    if registry is None:
        from kamcore.plugins import get_plugin_manager
        from kamcore.registry import registry_for

        registry = org.registry = registry_for(get_plugin_manager(load_entrypoints=False))
    settings = org.settings.rules
    disabled = set(settings.disable)
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
            severity = settings.severity.get(rule.code, rule.severity)
            findings.extend(_run_rule(org, rule, severity))
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.file or "", f.line or 0, f.code))
    return findings


def _run_rule(org: Org, rule: RuleDef, severity: Severity) -> list[Finding]:
    out: list[Finding] = []
    try:
        for violation in rule.check(org):
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


def _to_finding(org: Org, rule: RuleDef, severity: Severity, violation: Violation) -> Finding:
    location = violation.location
    if location is None and violation.subject is not None:
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

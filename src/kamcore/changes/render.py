"""Plans and journal entries as text for people: record by record, field by field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kamcore.models import Finding
from kamcore.wording import plural

if TYPE_CHECKING:
    from kamcore.changes.plan import Plan, RecordChange
    from kamcore.org import Org


def render_plan(plan: Plan) -> str:
    """The readable diff of a plan (what ``kam move``, ``kam handover`` ... print first)."""
    lines = [f"Plan: {plan.title}"]
    if plan.is_empty:
        lines.append("  nothing to change")
    lines += [f"  {note}" for note in plan.notes]
    if plan.receivers:
        lines.append("")
        lines.append("Hand-over:")
        for person, accounts in plan.receivers.items():
            lines.append(f"  {_person_label(plan.after, person)} receives {len(accounts)}: "
                         + ", ".join(accounts))
    if plan.unplaced:
        lines.append("")
        lines.append(f"Could not place {plural(len(plan.unplaced), 'account')} (they stay as "
                     "they are):")
        lines += [f"  ! {u.account}: {u.reason}" for u in plan.unplaced]
    if plan.changes:
        lines.append("")
        lines.append(f"Records ({len(plan.changes)}):")
        for change in plan.changes:
            lines += ["  " + line for line in render_change(change, plan.after)]
    if plan.conflicts:
        lines.append("")
        lines.append("Changed since that entry (undo would overwrite): "
                     + ", ".join(plan.conflicts))
    lines.append("")
    lines += render_findings(plan.findings_added, plan.findings_removed)
    refused = plan.refused_because
    if refused:
        lines.append("")
        lines.append(f"Refused unless --force: {refused}.")
    return "\n".join(lines)


def render_change(change: RecordChange, org: Org | None = None) -> list[str]:
    """``~ account X (Name)`` followed by ``field: old -> new`` lines."""
    record = change.after or change.before or {}
    name = f" ({record['name']})" if record.get("name") else ""
    if change.before is None:
        shown = ", ".join(f"{k}={_value(v)}" for k, _, v in change.fields() if v is not None
                          and k not in ("id", "name"))
        return [f"+ {change.kind} {change.id}{name}: {shown}"]
    if change.after is None:
        return [f"- {change.kind} {change.id}{name}"]
    out = [f"~ {change.kind} {change.id}{name}"]
    for key, old, new in change.fields():
        out.append(f"    {key}: {_value(old)} -> {_value(new)}{_who(org, key, new)}")
    return out


def render_findings(added: list[Finding], removed: list[Finding]) -> list[str]:
    lines = [f"Findings that appear ({len(added)}):" if added else "Findings that appear: none"]
    lines += [f"  + {_finding(f)}" for f in added]
    lines.append(f"Findings that disappear ({len(removed)}):" if removed
                 else "Findings that disappear: none")
    lines += [f"  - {_finding(f)}" for f in removed]
    return lines


def finding_json(finding: Finding) -> dict[str, Any]:
    return finding.model_dump(mode="json", exclude_none=True)


def _finding(f: Finding) -> str:
    subject = f"{f.subject}: " if f.subject else ""
    return f"{f.severity.value:<7} {f.code} {subject}{f.message}"


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _who(org: Org | None, key: str, value: Any) -> str:
    """A person id's name beside it, so ``manager: P1 -> P2`` says who P2 is."""
    if org is None or key not in ("manager", "reports_to") or value not in org.people:
        return ""
    person = org.people[value]
    return f" ({person.name}, {person.role.value.upper()})"


def _person_label(org: Org, person_id: str) -> str:
    person = org.people.get(person_id)
    if person is None:
        return person_id
    return f"{person_id} ({person.name}, {person.role.value.upper()})"

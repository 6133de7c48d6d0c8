"""Hand-over briefs: one Markdown file per receiving manager, a section per account.

What a predecessor would tell a successor: where the account sits (tier, parent chain, country,
industry), its numbers, its plugin fields, the duties that come with it (core and industry
plugins, through the ``kam_account_duties`` hook), the support staff around it, and the
predecessor's notes (``--notes FILE`` and the account's ``notes`` column).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.atomic import atomic_write_texts
from kamcore.duties import MANAGER, RosterRow, roster
from kamcore.errors import PluginError
from kamcore.hookcall import call_hook
from kamcore.models import Account, MetricDef, Person
from kamcore.paths import safe_file_name
from kamcore.wording import plural

if TYPE_CHECKING:
    import pluggy

    from kamcore.changes.plan import Plan
    from kamcore.org import Org

_SECTION = re.compile(r"^##\s+(\S+)\s*$")


def default_brief_dir(plan: Plan, *, today: str | None = None) -> Path:
    """``<org>/handover/<date>-<from>/`` (the leaver's id, or ``plan-<file>`` for a plan file,
    made a safe file name)."""
    assert plan.before.path is not None
    date = today or datetime.now(UTC).date().isoformat()
    source = (f"plan-{Path(str(plan.args.get('file') or 'plan')).stem}" if plan.op == "plan"
              else plan.args.get("person", "change"))
    person = safe_file_name(str(source))
    return plan.before.path / "handover" / f"{date}-{person}"


def parse_notes(text: str | None) -> tuple[str, dict[str, str]]:
    """General notes, and notes per account from ``## ACCOUNT-ID`` sections.

    >>> parse_notes("All calm.\\n## A1\\nCall Ana first.\\n")
    ('All calm.', {'A1': 'Call Ana first.'})
    """
    general: list[str] = []
    sections: dict[str, list[str]] = {}
    current = general
    for line in (text or "").splitlines():
        match = _SECTION.match(line)
        if match:
            current = sections.setdefault(match.group(1), [])
            continue
        current.append(line)
    return "\n".join(general).strip(), {k: "\n".join(v).strip() for k, v in sections.items()}


def render_briefs(plan: Plan, directory: Path, *, pm: pluggy.PluginManager | None = None,
                  notes: str | None = None, reason: str | None = None,
                  warnings: list[str] | None = None) -> dict[Path, str]:
    """The text of every brief of ``plan``, by the file it goes to in ``directory``.

    Rendered before anything is written, so the journal entry can name each brief and its
    digest (``undo`` withdraws exactly those). Each file is named after its receiver's id made
    safe (:func:`kamcore.paths.safe_file_name`), so whatever the ids hold, every brief lands
    directly in ``directory``.
    """
    if pm is None:
        from kamcore.plugins import get_plugin_manager

        pm = get_plugin_manager()
    general, per_account = parse_notes(notes)
    problems: list[PluginError] = []
    texts: dict[Path, str] = {}
    contacts = plan_contacts(plan)
    wanted = [aid for accounts in plan.receivers.values() for aid in accounts]
    below = accounts_below(plan, wanted)
    for receiver, accounts in plan.receivers.items():
        # one roster per brief: a plan's 123,750 duty rows are not all alive at once
        duties = duties_by_account(plan.after, pm, accounts, problems)
        texts[directory / f"{safe_file_name(receiver)}.md"] = render_brief(
            plan, receiver, accounts, pm=pm, general=general, per_account=per_account,
            reason=reason, problems=problems, contacts=contacts, duties=duties, below=below)
    if warnings is not None:
        seen = set()
        for problem in problems:
            if problem.message not in seen:
                seen.add(problem.message)
                warnings.append(f"brief duties: {problem.message}")
    return texts


def duties_by_account(org: Org, pm: pluggy.PluginManager, wanted: list[str],
                      problems: list[PluginError]) -> dict[str, list[RosterRow]]:
    """The duties of each of the ``wanted`` accounts, from one roster of them all (the same
    rows as `kam duties --account`; the delegates looked up once per manager)."""
    found = roster(org, pm, accounts=list(dict.fromkeys(wanted)))
    problems.extend(found.problems)
    out: dict[str, list[RosterRow]] = {aid: [] for aid in wanted}
    for row in found.rows:
        out[row.account].append(row)
    return out


def accounts_below(plan: Plan, wanted: list[str]) -> dict[str, int]:
    """How many accounts are below each of the ``wanted`` accounts after the plan: counted
    over the columns of its after-tables when it has them (a plan file) and its tree has no
    loop, else from the org's account tree."""
    after = plan.after
    if plan.tables is not None:
        import pyarrow as pa

        from kamcore.structure import account_index, below_counts, row_of

        tables = plan.tables[1]
        index = account_index(tables)
        rows = row_of(tables.accounts.ids, pa.array(wanted, pa.string()))
        if not index.account_loops[0].any() and (rows >= 0).all():
            counts = below_counts(index.parent, index.first)[rows]
            return dict(zip(wanted, counts.tolist(), strict=True))
    return {aid: len(after.descendants(aid)) if after.children(aid) else 0  # most are leaves
            for aid in wanted}


def write_briefs(plan: Plan, directory: Path, *, pm: pluggy.PluginManager | None = None,
                 notes: str | None = None, reason: str | None = None,
                 warnings: list[str] | None = None) -> list[Path]:
    """Write one brief per receiving manager of ``plan`` into ``directory`` (atomically).

    :returns: the files written, in receiver order.
    """
    texts = render_briefs(plan, directory, pm=pm, notes=notes, reason=reason,
                          warnings=warnings)
    atomic_write_texts(texts)
    return list(texts)


def brief_records(folder: Path, texts: dict[Path, str]) -> list[dict[str, str]]:
    """What the journal remembers of each brief: its path (relative to the workspace when
    inside it) and the SHA-256 of its text, so that undo removes only what kam wrote."""
    records = []
    for path, text in texts.items():
        try:
            shown = str(path.resolve().relative_to(folder.resolve()))
        except ValueError:
            shown = str(path.resolve())
        records.append({"path": shown, "sha256": _digest(text.encode("utf-8"))})
    return records


def withdraw_briefs(folder: Path, records: list[dict[str, str]]
                    ) -> tuple[list[Path], list[str]]:
    """Remove the briefs an undone change wrote: each must lie inside the workspace, be a
    regular file (no link) and still hold exactly what kam wrote.

    :returns: the files removed, and a warning for each brief left in place (edited since,
        outside the workspace, or a link); a brief already gone is neither.
    """
    root = folder.resolve()
    removed: list[Path] = []
    kept: list[str] = []
    for record in records:
        path = Path(record["path"])
        path = path if path.is_absolute() else root / path
        where = path.parent.resolve() / path.name
        if not where.is_relative_to(root) or where.suffix != ".md":
            kept.append(f"hand-over brief {path} is outside the workspace (or not a .md "
                        "file): left in place, remove it yourself if it no longer holds")
            continue
        if not where.exists() and not where.is_symlink():
            continue
        if where.is_symlink() or not where.is_file():
            kept.append(f"hand-over brief {where} is not a plain file now: left in place")
            continue
        if _digest(where.read_bytes()) != record["sha256"]:
            kept.append(f"hand-over brief {where} was edited since it was written: left in "
                        "place, remove it yourself if it no longer holds")
            continue
        where.unlink()
        removed.append(where)
        with contextlib.suppress(OSError):  # an empty folder goes too; a full one stays
            where.parent.rmdir()
    return removed, kept


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def render_brief(plan: Plan, receiver: str, accounts: list[str], *, pm: pluggy.PluginManager,
                 general: str = "", per_account: dict[str, str] | None = None,
                 reason: str | None = None,
                 problems: list[PluginError] | None = None,
                 contacts: dict[str, list[dict[str, Any]]] | None = None,
                 duties: dict[str, list[RosterRow]] | None = None,
                 below: dict[str, int] | None = None) -> str:
    """The Markdown brief for one receiving manager.

    :param contacts: account id -> its contacts (:func:`plan_contacts`); ``None``: the
        workspace has no contacts.csv, and the brief no contacts section.
    :param duties: account id -> its duties (:func:`duties_by_account`); ``None``: asked
        here, account by account.
    :param below: account id -> how many accounts are below it (:func:`accounts_below`);
        ``None``: counted here.
    """
    if problems is None:
        problems = []
    if duties is None:
        duties = duties_by_account(plan.after, pm, accounts, problems)
    if below is None:
        below = accounts_below(plan, accounts)
    before, after = plan.before, plan.after
    person = after.people[receiver]
    leaver_id = plan.args.get("person")
    leaver = before.people.get(leaver_id or "")
    lines = [f"# Hand-over brief for {person.name} ({person.role.title})", ""]
    source = (f"{leaver.name} ({leaver.id}, {leaver.role.title})" if leaver
              else "several managers (each account names its previous one)"
              if plan.op == "plan" else "the previous")
    lines.append(f"From {source}: {plural(len(accounts), 'account')}. Change: `{plan.title}`.")
    if reason:
        lines.append(f"Reason: {reason}")
    if general:
        lines += ["", "## General notes from your predecessor", "", general]
    labels = after.metrics
    memo: dict[Any, Any] = {}  # parent chains and support staff, shared by the sections
    for aid in accounts:
        lines.append("")
        lines += _account_section(before, after, aid, pm, (per_account or {}).get(aid, ""),
                                  problems, duties[aid], below[aid], labels, memo)
        if contacts is not None:
            lines += _contacts_section(after, contacts.get(aid, []), receiver)
    return "\n".join(lines).rstrip() + "\n"


def plan_contacts(plan: Plan) -> dict[str, list[dict[str, Any]]] | None:
    """The contacts of the plan's workspace by account, whom to call first first, each with
    its relationship owner before and after the plan (``None``: no contacts.csv). No email or
    phone: a brief is a file that travels."""
    from kamcore.changes.contacts import read_contacts
    from kamcore.contacts import call_order, contact_rows
    from kamcore.workspace.objects import tables_from_org

    contacts = read_contacts(plan.after.path)
    if contacts is None:
        return None
    tables = tables_from_org(plan.after)
    tables.contacts = contacts
    moved = {c.id: c for c in plan.changes if c.kind == "contact"}
    out: dict[str, list[dict[str, Any]]] = {}
    for row in call_order(contact_rows(tables)):
        change = moved.get(row["id"])
        row["owner_before"] = (change.before or {}).get("owner") if change else row["owner"]
        row["owner_after"] = (change.after or {}).get("owner") if change else row["owner"]
        out.setdefault(row["account"], []).append(row)
    return out


def _contacts_section(org: Org, contacts: list[dict[str, Any]], receiver: str) -> list[str]:
    lines = ["", "### Contacts (whom to call first)", ""]
    if not contacts:
        return [*lines, "- none recorded: find the primary contact and the decision maker"]
    for row in contacts:
        what = ", ".join(x for x in (row["role"], "primary" if row["primary"] else None) if x)
        title = f", {row['title']}" if row["title"] else ""
        before, after = row["owner_before"], row["owner_after"]
        owner = "you" if after == receiver else (_who(org, after) if after else "nobody")
        moved = (f"{_who(org, before)} -> {owner}" if before != after and before
                 else f"{owner}")
        last = f"; last contact {row['last_contact']}" if row["last_contact"] else ""
        lines.append(f"- {row['name']} ({row['id']}{title}): {what or 'no role'}; "
                     f"relationship: {moved}{last}")
    lines += ["", "Email and phone are personal data, left out of this brief: "
              f"`kam contacts ORG --account {contacts[0]['account']} --with-personal-data`."]
    return lines


def _account_section(before: Org, after: Org, aid: str, pm: pluggy.PluginManager, note: str,
                     problems: list[PluginError], duties: list[RosterRow], below: int,
                     labels: dict[str, MetricDef], memo: dict[Any, Any]) -> list[str]:
    from kamcore.models.codes import country_name

    account = after.accounts[aid]
    previous = before.accounts[aid].manager
    lines = [f"## {account.name} ({aid})", ""]
    chain = _chain(after, aid, memo)
    lines.append(f"- Tier: {account.tier.value}")
    lines.append(f"- Parent chain: {chain}")
    if below:
        lines.append(f"- Accounts below it: {below}")
    country = f"{country_name(account.country)} ({account.country})" if account.country else "-"
    lines.append(f"- Country: {country}")
    lines.append(f"- Industry: {account.industry or '-'}")
    lines.append(f"- Currency: {account.currency or '-'}")
    if previous:
        lines.append(f"- Previous manager: {_who(before, previous)}")
    if account.metrics:
        lines += ["", "### Metrics", "", "| metric | value |", "| --- | ---: |"]
        for name, value in account.metrics.items():
            label = labels[name].label if name in labels and labels[name].label else name
            lines.append(f"| {label} | {_number(value)} |")
    if account.ext:
        lines += ["", "### Plugin fields", ""]
        for namespace, values in account.ext.items():
            for key, value in values.items():
                lines.append(f"- `{namespace}.{key}`: {value}")
    pair = ("support", previous, account.manager)
    support = memo[pair] if pair in memo else memo.setdefault(
        pair, _support(before, after, previous, account.manager))
    lines += ["", "### Open duties", ""]
    if not duties:
        lines.append("- none listed")
    for row in duties:
        due = f"; due {row.due}" if row.due else ""
        lines.append(f"- [ ] {row.title} ({row.cadence}{due}; {_delegate(row)}; {row.source})")
    lines += ["", "### Support staff", ""]
    if not support:
        lines.append("- none")
    for member in support:
        lines.append(f"- {member.name} ({member.id}): {member.specialty or 'support'}"
                     + (f", {member.email}" if member.email else ""))
    for section in plugin_sections(pm, account, after, problems):
        lines += ["", section.strip()]
    notes = [n for n in (note, account.extra.get("notes", "")) if n]
    lines += ["", "### Notes from your predecessor", ""]
    lines += ["\n\n".join(notes)] if notes else ["- none"]
    return lines


def _chain(org: Org, aid: str, memo: dict[Any, Any]) -> str:
    """'Global (G) > National (N) > ... > the account (aid)': its path to the root, the
    parent's part worked out once for all the accounts under that parent."""
    def text(ids: list[str]) -> str:
        return " > ".join(f"{org.accounts[a].name} ({a})" for a in reversed(ids))

    parent = org.parent(aid)
    if parent is None:
        return text([aid])
    above = memo.get(("chain", parent))
    if above is None:
        ids = org.path_to_root(parent)
        above = memo[("chain", parent)] = (set(ids), text(ids))
    if aid in above[0]:  # a loop through the account: its own walk stops before it again
        return text(org.path_to_root(aid))
    return f"{above[1]} > {org.accounts[aid].name} ({aid})"


def plugin_sections(pm: pluggy.PluginManager, account: Account, org: Org,
                    problems: list[PluginError]) -> list[str]:
    """The plugins' sections for ``account`` (``kam_brief_section``), each checked."""
    def check(plugin: str, result: object) -> str:
        if not isinstance(result, str):
            raise ValueError(f"returned {type(result).__name__}, expected Markdown text")
        text = result.strip()
        return text if text.startswith("#") else f"### {plugin}\n\n{text}"

    return call_hook(pm, "kam_brief_section", problems=problems, check=check,
                     subject=f"account {account.id!r}", account=account, org=org)


def _support(before: Org, after: Org, previous: str | None, current: str | None) -> list[Person]:
    staff: dict[str, Person] = {}
    for org, manager in ((before, previous), (after, current)):
        if manager and manager in org.people:
            for member in org.support_staff(manager):
                if member.active:
                    staff.setdefault(member.id, after.people.get(member.id, member))
    return list(staff.values())


def _delegate(row: RosterRow) -> str:
    """Who does the duty, for the receiver: themselves or the support person `kam duties`
    names."""
    if row.who == MANAGER:
        return "you"
    if row.delegate is None:
        return f"delegate to {row.who} (nobody named)"
    return f"delegate to {row.who}: {row.delegate_name} ({row.delegate})"


def _who(org: Org, person_id: str) -> str:
    person = org.people.get(person_id)
    return f"{person.name} ({person_id})" if person else person_id


def _number(value: float) -> str:
    return f"{int(value):,}" if value.is_integer() else f"{value:,.2f}"

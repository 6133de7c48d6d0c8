"""A plan file as one change: every line run in order on a working copy, validated once.

Each line runs the same step as the single change of its name (:data:`kamcore.changes.ops.STEPS`)
on the org as the lines before it left it (:class:`~kamcore.changes.draft.Draft`). The result
is one :class:`~kamcore.changes.plan.Plan` (op ``"plan"``), so ``apply`` writes it in one
transaction with one journal entry, and one ``kam undo`` reverses it.

A plan is refused before anything is planned, with the file and line of every problem, when a
line names an unknown id or cannot run (a move into its own subtree, a loop created midway by
an earlier line), when two lines set the same thing differently (an account moved, assigned or
re-tiered twice to different values), or when someone who leaves still holds accounts at the
end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.changes.contacts import contacts_read_once
from kamcore.changes.draft import Draft
from kamcore.changes.ops import STEPS
from kamcore.changes.plan import Plan, RecordChange, Unplaced, make_plan
from kamcore.changes.planfile import Line, lines_from_json, read_plan
from kamcore.errors import KamError, PlanErrors, WorkspaceError
from kamcore.lazyrecords import positions, prefetch
from kamcore.wording import noun, plural

if TYPE_CHECKING:
    from kamcore.org import Org
    from kamcore.workspace.tables import WorkspaceTables

#: Ops whose line names one account and sets one of its fields: a second line setting it
#: otherwise is a conflict.
_EXPLICIT = {"move": "parent", "assign": "manager", "tier": "tier"}


def plan_file(org: Org, path: str | Path, *, tables: WorkspaceTables | None = None) -> Plan:
    """The plan of the plan file at ``path`` on ``org``; nothing is written.

    :param tables: the tables ``org`` was built from (``kam plan`` reads them once): both
        sides are then validated on tables, the after-side patched for the records touched.
    :raises PlanErrors: bad lines, all of them, each located in the plan file.
    """
    return plan_lines(org, read_lines(path), source=str(path), tables=tables)


def read_lines(path: str | Path) -> list[Line]:
    """:func:`~kamcore.changes.planfile.read_plan` with the cyclic GC paused (10,000 lines of
    small objects beside 100,000 records hold no cycles; the collector would rescan them all).
    """
    from kamcore.perf import paused_gc

    with paused_gc():
        return read_plan(path)


def effective_of(lines: Sequence[Line]) -> date | None:
    """The one day every line of a plan takes effect (``None``: today, undated).

    A plan is one change, and a change holds from one day (history.csv, see docs/time.md).

    :raises PlanErrors: lines dated differently, each located; split such a plan by day.
    """
    days = {line.spec.effective for line in lines}
    if len(days) <= 1:
        return next(iter(days), None)
    first = lines[0]
    return _raise_mixed(first, [line for line in lines
                                if line.spec.effective != first.spec.effective])


def _raise_mixed(first: Line, others: list[Line]) -> date:
    what = first.spec.effective.isoformat() if first.spec.effective else "no date (today)"
    raise PlanErrors([_at(line, f"effective {line.spec.effective or 'today'}, but line "
                          f"{first.number} says {what}: a plan holds from one day",
                          "give every line the same effective date (the file's effective:), "
                          "or split the plan into one file per day") for line in others[:50]])


def replan_file(org: Org, args: dict[str, Any]) -> Plan:
    """The same plan again from its JSON ``args`` (under the lock, on the files as they are)."""
    return plan_lines(org, lines_from_json(args), source=str(args.get("file") or "plan"))


def plan_lines(org: Org, lines: Sequence[Line], *, source: str,
               tables: WorkspaceTables | None = None) -> Plan:
    """Run ``lines`` in order on a copy of ``org`` and make one plan of the result.

    :param source: the plan file's name (titles, locations, the journal).
    :param tables: as :func:`plan_file`.
    :raises PlanErrors: as :func:`plan_file`.
    """
    from kamcore.perf import paused_gc

    with paused_gc():  # thousands of new records beside 100,000 old ones: no cycles among them
        return _plan_lines(org, lines, source=source, tables=tables)


def _plan_lines(org: Org, lines: Sequence[Line], *, source: str,
                tables: WorkspaceTables | None) -> Plan:
    prefetch(org.accounts, _named(lines))
    draft = Draft(org)
    problems: list[KamError] = []
    touched: dict[str, set[str]] = {"account": set(), "person": set()}
    explicit: dict[tuple[str, str], tuple[Line, Any]] = {}
    manager_set_by: dict[str, Line] = {}
    leavers: dict[str, Line] = {}
    unplaced: list[Unplaced] = []
    contacts: dict[str, RecordChange] = {}  # relationship owners moved by hand-overs
    with contacts_read_once(draft.org):  # one plan, one contacts.csv
        for line in lines:
            op, args = line.spec.step_args()
            try:
                step = STEPS[op](draft.org, **args)
            except KamError as exc:
                problems.append(_at(line, exc.message, exc.hint))
                continue
            field = _EXPLICIT.get(op)
            if field is not None:
                value = args.get("to", args.get("manager", args.get("tier")))
                earlier = explicit.get((field, line.spec.id))
                if earlier is not None and earlier[1] != value:
                    problems.append(_at(
                        line, f"{line.spec.id}'s {field} is set twice: to {earlier[1]!r} at line "
                        f"{earlier[0].number} and to {value!r} here",
                        "keep one line per account and field (drop or merge one of them)"))
                    continue
                explicit[(field, line.spec.id)] = (line, value)
            for record in step.accounts.values():
                draft.put_account(record)
                touched["account"].add(record.id)
                if record.manager is not None:
                    manager_set_by[record.id] = line
            for person in step.people.values():
                draft.put_person(person)
                touched["person"].add(person.id)
            unplaced += [Unplaced(u.account, f"line {line.number}: {u.reason}")
                         for u in step.unplaced]
            for moved in step.contacts:  # a contact moved twice keeps its first owner as before
                first = contacts.get(moved.id)
                contacts[moved.id] = moved if first is None else RecordChange(
                    "contact", moved.id, first.before, moved.after)
            if op == "leave":
                leavers[line.spec.id] = line
    after = draft.org
    for leaver, line in leavers.items():
        book = after.book(leaver) if leaver in after.people else []
        if book and not after.people[leaver].active:
            problems.append(_left_holding(line, leaver, book, manager_set_by, unplaced))
    if problems:
        problems.sort(key=lambda p: p.location.line or 0 if p.location else 0)
        raise PlanErrors(problems)
    name = Path(source).name
    notes = [f"{plural(len(lines), 'line')} from {source}"]
    if org.as_of is not None and any(line.spec.effective for line in lines):
        notes.append(f"effective {org.as_of.isoformat()}: the plan holds from that day "
                     "(history.csv), as a single change with --effective does")
    receivers = _receivers(org, after, touched["account"])
    args_json = {"file": source, "lines": [{"line": line.number, **line.spec.to_json()}
                                           for line in lines]}
    return make_plan("plan", args_json, f"plan {name}", org,
                     accounts=after.accounts if touched["account"] else None,
                     people=after.people if touched["person"] else None,
                     touched=touched, tables=tables,
                     unplaced=unplaced, receivers=receivers, notes=notes,
                     contacts=list(contacts.values()))


def _named(lines: Sequence[Line]) -> Iterator[str]:
    """Every id the lines name (accounts among them), to build those records ahead."""
    for line in lines:
        yield line.spec.id
        target = line.spec.to
        if isinstance(target, str):
            yield target


def _receivers(before: Org, after: Org, accounts: set[str]) -> dict[str, list[str]]:
    """Each manager who ends up with accounts they did not hold: their hand-over brief."""
    gained: dict[str, list[tuple[int, str]]] = {}
    order = positions(before.accounts) if len(accounts) > 1 else {}
    for aid in accounts:
        old = before.accounts.get(aid)
        new = after.accounts[aid].manager
        if new is not None and (old is None or old.manager != new):
            gained.setdefault(new, []).append((order.get(aid, 0), aid))
    return {person: [aid for _, aid in sorted(items)]
            for person, items in sorted(gained.items())}


def _left_holding(line: Line, person: str, book: list[str], set_by: dict[str, Line],
                  unplaced: list[Unplaced]) -> WorkspaceError:
    shown = ", ".join(book[:5]) + (f" and {len(book) - 5} more" if len(book) > 5 else "")
    later = sorted({set_by[a].number for a in book if a in set_by
                    and set_by[a].number > line.number})
    could_not = [u for u in unplaced if u.account in book]
    why = ""
    if later:
        why = f"; given to them again at {noun(len(later), 'line')} " + ", ".join(map(str, later))
    elif could_not:
        why = f"; not placed: {could_not[0].reason}"
    holds = plural(len(book), "account")
    return _at(line, f"{person} leaves but still holds {holds} at the end of the plan "
               f"({shown}){why}",
               "hand every account over (to: PERSON or spread: true), hire or raise a "
               "capacity for the accounts that fit nobody, and assign nothing to them later")


def _at(line: Line, message: str, hint: str | None) -> WorkspaceError:
    return WorkspaceError(f"{line.spec.op} {line.spec.id}: {message}", location=line.location,
                          hint=hint)

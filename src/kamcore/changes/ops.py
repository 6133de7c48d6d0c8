"""The changes themselves: move, assign, hand over, leave, hire. Each returns a :class:`Plan`.

Nothing here writes: apply a plan with :func:`kamcore.changes.apply`. Each function checks what
can be checked up front (ids exist, a move makes no loop, a hire's id is free) and raises; what the
validation rules catch (a manager whose role does not fit the tier, ...) shows up as findings the
plan adds, and ``apply`` refuses those that add errors unless forced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kamcore.changes.plan import Plan, RecordChange, Unplaced, make_plan
from kamcore.changes.spread import spread_book
from kamcore.errors import ChangeRefused, KamError
from kamcore.models import Account, Person, Tier
from kamcore.org import Org, OrgSource
from kamcore.wording import plural


@dataclass
class Step:
    """What one change does to the records, before any validation: the records it rewrites.

    The single-change functions below wrap a step into a :class:`Plan` (validated before and
    after); a plan file (:mod:`kamcore.changes.batch`) applies one step per line to a working
    copy and validates once at the end.
    """

    op: str
    args: dict[str, Any]
    title: str
    #: Account and person records the step rewrites (or adds), by id.
    accounts: dict[str, Account] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    unplaced: list[Unplaced] = field(default_factory=list)
    receivers: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Contacts whose relationship owner moves with the book (contacts.csv, same transaction).
    contacts: list[RecordChange] = field(default_factory=list)


def plan_of(org: Org, step: Step) -> Plan:
    """The validated plan of one ``step`` on ``org``."""
    accounts = {**org.accounts, **step.accounts} if step.accounts else None
    people = {**org.people, **step.people} if step.people else None
    return make_plan(step.op, step.args, step.title, org, accounts=accounts, people=people,
                     unplaced=step.unplaced, receivers=step.receivers, notes=step.notes,
                     contacts=step.contacts)


def move(org: OrgSource, account: str, *, to: str | None) -> Plan:
    """Move ``account`` (and its subtree) under the account ``to`` (``None``: make it a root).

    :raises NotFound: either account does not exist.
    :raises ChangeRefused: ``to`` is the account itself or below it (a loop).

    >>> from kamcore import Account, Org
    >>> org = Org.build([Account(id="A", name="A", tier="key"),
    ...                  Account(id="B", name="B", tier="key"),
    ...                  Account(id="R", name="R", tier="regular", parent="A")])
    >>> move(org, "R", to="B").changes[0].fields()
    [('parent', 'A', 'B')]
    """
    from kamcore.workspace.loader import as_org

    org = as_org(org)
    step = move_step(org, account, to=to)
    below = len(org.descendants(account)) if step.accounts else 0
    if below:  # for the reader of one move (a plan file's lines skip the walk)
        verb = "moves" if below == 1 else "move"
        step.notes.append(f"{plural(below, 'account')} below {account} {verb} with it")
    return plan_of(org, step)


def move_step(org: Org, account: str, *, to: str | None) -> Step:
    """The records :func:`move` rewrites. :raises: as :func:`move`."""
    record = org.account(account)
    title = f"move {account} --to {to}" if to else f"move {account} --root"
    args = {"account": account, "to": to}
    if to == record.parent:
        return Step("move", args, title)
    if to is not None:
        org.account(to)
        if account in org.path_to_root(to):
            raise ChangeRefused(f"cannot move {account!r} under {to!r}: {to!r} is "
                                f"{'the account itself' if to == account else 'below it'}",
                                hint="move it under an account outside its own subtree")
    return Step("move", args, title, accounts={account: record.model_copy(update={"parent": to})})


def assign(org: OrgSource, account: str, *, manager: str | None) -> Plan:
    """Make ``manager`` the accountable manager of ``account`` (``None``: nobody).

    :raises NotFound: the account or the person does not exist.
    """
    from kamcore.workspace.loader import as_org

    org = as_org(org)
    return plan_of(org, assign_step(org, account, manager=manager))


def assign_step(org: Org, account: str, *, manager: str | None) -> Step:
    """The record :func:`assign` rewrites, and the relationships of the account that its
    old manager owned, which go to the new one (a hand-over of one account).
    :raises: as :func:`assign`."""
    from kamcore.changes.contacts import ownership_moves

    record = org.account(account)
    if manager is not None:
        org.person(manager)
    title = f"assign {account} --manager {manager}" if manager else f"assign {account} --none"
    args = {"account": account, "manager": manager}
    if manager == record.manager:
        return Step("assign", args, title)
    contacts = (ownership_moves(org, record.manager, {account: manager})
                if record.manager and manager else [])
    return Step("assign", args, title,
                accounts={account: record.model_copy(update={"manager": manager})},
                notes=_contact_note(contacts), contacts=contacts)


def set_tier(org: OrgSource, account: str, *, tier: str) -> Plan:
    """Give ``account`` another tier (the rules then judge its manager and its tree).

    :raises NotFound: the account does not exist.
    :raises ChangeRefused: ``tier`` is not global, national, key or regular.
    """
    from kamcore.workspace.loader import as_org

    org = as_org(org)
    return plan_of(org, tier_step(org, account, tier=tier))


def tier_step(org: Org, account: str, *, tier: str) -> Step:
    """The record :func:`set_tier` rewrites. :raises: as :func:`set_tier`."""
    record = org.account(account)
    try:
        new = Tier(str(tier).strip().lower())
    except ValueError:
        raise ChangeRefused(f"{tier!r} is not a tier",
                            hint="use global, national, key or regular") from None
    changed = {account: record.model_copy(update={"tier": new})} if new != record.tier else {}
    return Step("tier", {"account": account, "tier": new.value},
                f"tier {account} --to {new.value}", accounts=changed)


def handover(org: OrgSource, person: str, *, to: Sequence[str] = (), spread: bool = False,
             balance: str = "count") -> Plan:
    """Hand ``person``'s whole book to one successor, several (balanced), or spread it.

    With one ``to`` every account goes to that person (the rules then judge the fit). With
    several, or with ``spread``, accounts are placed by :func:`~kamcore.changes.spread.spread_book`
    and those that fit nobody are listed in ``plan.unplaced``.

    :raises ChangeRefused: neither or both of ``to`` and ``spread``; a successor cannot receive.
    """
    from kamcore.workspace.loader import as_org

    org = as_org(org)
    return plan_of(org, handover_step(org, person, to=to, spread=spread, balance=balance))


def handover_step(org: Org, person: str, *, to: Sequence[str] = (), spread: bool = False,
                  balance: str = "count") -> Step:
    """The records :func:`handover` rewrites. :raises: as :func:`handover`."""
    from kamcore.changes.contacts import ownership_moves

    org.person(person)
    to = list(dict.fromkeys(to))
    accounts, placed, unplaced = _hand_over(org, person, to, spread, balance)
    contacts = ownership_moves(org, person, placed)
    return Step("handover", {"person": person, "to": to, "spread": spread, "balance": balance},
                f"handover --from {person} {_target(to, spread, balance)}",
                accounts=accounts, unplaced=unplaced, receivers=_receivers(placed),
                notes=[f"{person} holds {plural(len(org.book(person)), 'account')}",
                       *_contact_note(contacts)], contacts=contacts)


def leave(org: OrgSource, person: str, *, to: Sequence[str] = (), spread: bool = False,
          balance: str = "count", reports_to: str | None = None) -> Plan:
    """Hand over ``person``'s book and mark them inactive.

    Their direct reports then report to ``reports_to``; by default to the successor when one
    person of the leaver's role takes the whole book (they inherit the team), else to the
    leaver's own manager, so the management tree closes up over the gap.

    :raises ChangeRefused: as :func:`handover`; or the person is already inactive.
    """
    from kamcore.workspace.loader import as_org

    org = as_org(org)
    return plan_of(org, leave_step(org, person, to=to, spread=spread, balance=balance,
                                   reports_to=reports_to))


def leave_step(org: Org, person: str, *, to: Sequence[str] = (), spread: bool = False,
               balance: str = "count", reports_to: str | None = None) -> Step:
    """The records :func:`leave` rewrites. :raises: as :func:`leave`."""
    leaver = org.person(person)
    if not leaver.active:
        raise ChangeRefused(f"{person} is already inactive",
                            hint=f"hand their book over with kam handover ORG --from {person}")
    if reports_to is not None:
        org.person(reports_to)
        if reports_to == person or reports_to in org.team(person):
            raise ChangeRefused(f"{person}'s reports cannot report to {reports_to!r}: "
                                "that is the leaver or one of their own team",
                                hint="name someone outside the leaver's team")
    to = list(dict.fromkeys(to))
    accounts, placed, unplaced = _hand_over(org, person, to, spread, balance,
                                            allow_empty=True)
    successor = _successor(org, leaver, placed, unplaced) if reports_to is None else None
    new_boss = reports_to or successor or leaver.reports_to
    people = {person: leaver.model_copy(update={"active": False})}
    moved = org.reports(person)
    for report in moved:
        people[report] = org.people[report].model_copy(update={"reports_to": new_boss})
    from kamcore.changes.contacts import ownership_moves

    contacts = ownership_moves(org, person, placed, leaving=True)
    notes = [f"{person} holds {plural(len(org.book(person)), 'account')} and is marked inactive",
             *_contact_note(contacts)]
    if moved:
        why = " (the successor)" if successor else ""
        verb = "reports" if len(moved) == 1 else "report"
        notes.append(f"{plural(len(moved), 'direct report')} now {verb} to "
                     f"{new_boss or 'nobody'}{why}")
    target = _target(to, spread, balance) if org.book(person) else ""
    title = f"leave {person} {target}".rstrip()
    return Step("leave", {"person": person, "to": to, "spread": spread, "balance": balance,
                          "reports_to": reports_to}, title, accounts=accounts, people=people,
                unplaced=unplaced, receivers=_receivers(placed), notes=notes, contacts=contacts)


def hire(org: OrgSource, *, id: str, name: str, role: str, reports_to: str | None = None,
         capacity: int | None = None, email: str | None = None,
         specialty: str | None = None) -> Plan:
    """Add a person to people.csv.

    :raises ChangeRefused: the id is taken, or the values are not valid (bad role, email...).
    """
    from kamcore.workspace.loader import as_org

    org = as_org(org)
    return plan_of(org, hire_step(org, id=id, name=name, role=role, reports_to=reports_to,
                                  capacity=capacity, email=email, specialty=specialty))


def hire_step(org: Org, *, id: str, name: str, role: str, reports_to: str | None = None,
              capacity: int | None = None, email: str | None = None,
              specialty: str | None = None) -> Step:
    """The record :func:`hire` adds. :raises: as :func:`hire`."""
    from pydantic import ValidationError

    if id in org.people:
        raise ChangeRefused(f"person id {id!r} is already taken by {org.people[id].name}",
                            hint="choose another id")
    data = {"id": id, "name": name, "role": role, "reports_to": reports_to,
            "capacity": capacity, "email": email, "specialty": specialty}
    try:
        person = Person.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(map(str, err["loc"])) or "record"
        raise ChangeRefused(f"cannot hire {id!r}: {field}: "
                            f"{str(err['msg']).removeprefix('Value error, ')}",
                            hint="role is one of vp, director, gam, nam, kam, am, support"
                            if field == "role" else None) from None
    title = f"hire {id} --role {person.role.value}" + (f" --reports-to {reports_to}"
                                                        if reports_to else "")
    return Step("hire", {k: v for k, v in data.items() if v is not None}, title,
                people={person.id: person})


def _hand_over(org: Org, person: str, to: list[str], spread: bool, balance: str, *,
               allow_empty: bool = False) -> tuple[dict[str, Account], dict[str, str],
                                                   list[Any]]:
    book = org.book(person)
    if to and spread:
        raise ChangeRefused("use either --to or --spread, not both")
    if not to and not spread:
        if allow_empty and not book:
            return {}, {}, []
        raise ChangeRefused(f"{person} holds {plural(len(book), 'account')}: say who takes them",
                            hint="pass --to PERSON (repeatable) or --spread")
    if len(to) == 1:
        successor = org.person(to[0])
        if successor.id == person:
            raise ChangeRefused(f"{person} cannot hand over to themselves")
        placed = dict.fromkeys(book, successor.id)
        unplaced: list[Any] = []
    else:
        placed, unplaced = spread_book(org, person, candidates=to or None, balance=balance)
    accounts = {aid: org.accounts[aid].model_copy(update={"manager": manager})
                for aid, manager in placed.items()}
    return accounts, placed, unplaced


def _successor(org: Org, leaver: Person, placed: dict[str, str],
               unplaced: list[Any]) -> str | None:
    """The one person of the leaver's role who takes the whole book: they inherit the team."""
    receivers = set(placed.values())
    if len(receivers) != 1 or unplaced:
        return None
    (only,) = receivers
    if org.people[only].role != leaver.role or only in org.team(leaver.id):
        return None
    return only


def _contact_note(contacts: list[RecordChange]) -> list[str]:
    if not contacts:
        return []
    verb = "moves" if len(contacts) == 1 else "move"
    return [f"{plural(len(contacts), 'customer relationship')} {verb} with the book "
            "(contacts.csv owner)"]


def _receivers(placed: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for aid, manager in placed.items():
        out.setdefault(manager, []).append(aid)
    return dict(sorted(out.items()))


def _target(to: list[str], spread: bool, balance: str) -> str:
    if spread:
        return "--spread" + (f" --balance {balance}" if balance != "count" else "")
    return " ".join(f"--to {p}" for p in to)


#: op name -> function(org, **args) -> Step: the one implementation of each change, for
#: single changes, re-planning under the lock, and the lines of a plan file.
STEPS: dict[str, Callable[..., Step]] = {
    "move": lambda org, **a: move_step(org, a["account"], to=a.get("to")),
    "assign": lambda org, **a: assign_step(org, a["account"], manager=a.get("manager")),
    "tier": lambda org, **a: tier_step(org, a["account"], tier=a["tier"]),
    "handover": lambda org, **a: handover_step(org, a["person"], to=a.get("to", ()),
                                               spread=a.get("spread", False),
                                               balance=a.get("balance", "count")),
    "leave": lambda org, **a: leave_step(org, a["person"], to=a.get("to", ()),
                                         spread=a.get("spread", False),
                                         balance=a.get("balance", "count"),
                                         reports_to=a.get("reports_to")),
    "hire": lambda org, **a: hire_step(org, **a),
}

#: op name -> function(org, **args) -> Plan, for re-planning under the lock and undo.
def _planned(step: Callable[..., Step]) -> Callable[..., Plan]:
    return lambda org, **args: plan_of(org, step(org, **args))


OPS: dict[str, Callable[..., Plan]] = {name: _planned(step) for name, step in STEPS.items()}


def replan(org: Org, op: str, args: dict[str, Any]) -> Plan:
    """Run operation ``op`` again on ``org`` (the files as they are now)."""
    if op == "undo":
        from kamcore.changes.journal import undo_plan

        return undo_plan(org, entry=args.get("entry"))
    if op == "plan":
        from kamcore.changes.batch import replan_file

        return replan_file(org, args)
    try:
        return OPS[op](org, **args)
    except KeyError:
        if op in OPS:
            raise
        raise KamError(f"unknown change {op!r}") from None

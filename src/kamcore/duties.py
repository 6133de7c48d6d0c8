"""The duty roster: who does what for every account, and what they may delegate to whom.

For each account, every plugin's ``kam_account_duties`` hook is asked for its duties (the core's
common duties first, then the industry plugins'). A duty whose ``who`` names a support specialty
(billing, seo, coding, ...) is delegated to the nearest active support person with that
specialty: one reporting to the accountable manager, else to their manager, and so on up the
chain of command. When there is nobody, the manager does it.

A plugin that raises, or returns something that is not a list of :class:`~kamcore.Duty`, is
recorded as a :class:`~kamcore.PluginError` naming plugin, hook and account; the roster is
built from the other plugins' duties.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from kamcore.errors import PluginError
from kamcore.hookcall import call_hook
from kamcore.models import Account, Duty, Person, Role
from kamcore.registry import normalize_name
from kamcore.wording import plural

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pluggy

    from kamcore.org import Org, OrgSource

HOOK = "kam_account_duties"
#: ``who`` value for duties the accountable manager does personally.
MANAGER = "manager"


@dataclass(frozen=True)
class RosterRow:
    """One duty of one account, with the person accountable and the person who does it."""

    person: str | None
    person_name: str | None
    role: str | None
    account: str
    account_name: str
    tier: str
    industry: str | None
    duty: str
    title: str
    cadence: str
    who: str
    delegate: str | None
    delegate_name: str | None
    source: str
    #: When it is next due (ISO date), for duties with a date.
    due: str | None = None

    @property
    def done_by(self) -> str:
        """Who does it, for people: the delegate, or the manager (noting missing staff)."""
        if self.delegate is not None:
            return f"{self.delegate_name} ({self.delegate}, {self.who})"
        if self.who == MANAGER:
            return MANAGER
        return f"{MANAGER} (no {self.who} staff)"

    def as_dict(self) -> dict[str, Any]:
        """The row as plain data, for JSON and CSV."""
        return asdict(self)


def roster_row(**values: Any) -> RosterRow:
    """``RosterRow(**values)`` with every field given, without the frozen dataclass's
    ``object.__setattr__`` per field (4 us a row; a plan's briefs make 100,000 and more)."""
    row: RosterRow = object.__new__(RosterRow)
    row.__dict__.update(values)
    return row


@dataclass
class Roster:
    """Every row of the roster, and the plugin failures met while building it."""

    rows: list[RosterRow] = field(default_factory=list)
    problems: list[PluginError] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"Roster({len(self.rows)} duties, {len(self.by_person())} people, "
                f"{plural(len(self.problems), 'plugin problem')})")

    def by_person(self) -> dict[str | None, list[RosterRow]]:
        """Rows grouped by accountable person, in first-seen order (``None``: no manager)."""
        groups: dict[str | None, list[RosterRow]] = {}
        for row in self.rows:
            groups.setdefault(row.person, []).append(row)
        return groups


def account_duties(org: Org, pm: pluggy.PluginManager, account: Account,
                   problems: list[PluginError]) -> list[Duty]:
    """Every plugin's duties for ``account``, through the one hook call path.

    The built-in duties come first (their implementation is ``tryfirst``). A plugin that
    raises, or returns anything but a list (or tuple) of :class:`~kamcore.Duty`, is recorded in
    ``problems`` and none of its duties for this account are kept (the policy of every hook,
    see :mod:`kamcore.hookcall`).

    :param org: the org (passed to the hook for context).
    :param pm: the plugin manager whose plugins are asked.
    :param account: the account.
    :param problems: receives a :class:`PluginError` per plugin that failed for this account.
    :returns: the duties, each with ``source`` set to the plugin that gave it.
    """
    def check(plugin: str, result: object) -> list[Duty]:
        if not isinstance(result, list | tuple):
            raise ValueError(f"returned {type(result).__name__}, expected a list of "
                             "kamcore.Duty")
        bad = [item for item in result if not isinstance(item, Duty)]
        if bad:
            what = "that is not" if len(bad) == 1 else "that are not"
            raise ValueError(f"returned {plural(len(bad), 'item')} {what} kamcore.Duty (first: "
                             f"{type(bad[0]).__name__}); none of its duties are kept")
        builtin = _is_builtin(pm.get_plugin(plugin))
        return [duty if builtin or duty.source != "core"
                else dataclasses.replace(duty, source=plugin) for duty in result]

    results = call_hook(pm, HOOK, problems=problems, check=check,
                        subject=f"account {account.id!r}", account=account, org=org)
    duties: list[Duty] = []
    for result in results:
        if isinstance(result, list | tuple) and all(isinstance(d, Duty) for d in result):
            duties.extend(result)
        else:  # only a wrapper (wrapper=True) can hand back something unchecked
            problems.append(PluginError(
                f"account {account.id!r}: a wrapper of {HOOK} returned "
                f"{type(result).__name__} among the results; it is left out",
                plugin=_wrappers(pm), hook=HOOK))
    replaced = {old for duty in duties for old in duty.replaces}
    return [duty for duty in duties if duty.id not in replaced]


def _wrappers(pm: pluggy.PluginManager) -> str:
    return ",".join(impl.plugin_name for impl in getattr(pm.hook, HOOK).get_hookimpls()
                    if impl.wrapper) or "?"


def _is_builtin(plugin: object) -> bool:
    return str(getattr(plugin, "__name__", "")).startswith("kamcore.builtin.")


def find_delegate(org: Org, manager_id: str | None, who: str, *,
                  cache: dict[str, dict[str, Person]] | None = None) -> Person | None:
    """The nearest active support person with specialty ``who`` for this manager.

    Looks at the support staff reporting to the manager, then to each person up their chain of
    command. Specialties compare case- and punctuation-insensitively ("Customer service" is
    "customer-service").

    :param org: the org.
    :param manager_id: the accountable manager (``None``: nobody to delegate for).
    :param who: a support specialty, or ``"manager"`` (never delegated).
    :param cache: per-person index of their support staff by specialty, reused across calls.
    :returns: the support person, or ``None`` when the manager does it.
    """
    wanted = normalize_name(who)
    if manager_id is None or manager_id not in org.people or wanted == MANAGER:
        return None
    staff = cache if cache is not None else {}
    for boss in (manager_id, *org.chain_of_command(manager_id)):
        if boss not in staff:
            staff[boss] = _support_by_specialty(org, boss)
        if wanted in staff[boss]:
            return staff[boss][wanted]
    return None


def _support_by_specialty(org: Org, boss: str) -> dict[str, Person]:
    """The first active support person of each specialty among ``boss``'s direct reports."""
    found: dict[str, Person] = {}
    for person_id in org.reports(boss):
        person = org.people[person_id]
        if person.role == Role.SUPPORT and person.active and person.specialty:
            found.setdefault(normalize_name(person.specialty), person)
    return found


def roster(org: OrgSource, pm: pluggy.PluginManager | None = None, *, person: str | None = None,
           account: str | None = None, accounts: Sequence[str] | None = None) -> Roster:
    """The duty roster of ``org``: for each account, its duties and who does them.

    :param org: a loaded org, or the path of a workspace folder.
    :param pm: the plugin manager whose plugins give duties (default: every installed plugin).
    :param person: only accounts this person is accountable for, plus duties delegated to them.
    :param account: only this account.
    :param accounts: only these accounts, in this order (the hand-over briefs of a plan ask
        for thousands at once: the delegates are then looked up once per manager, not once
        per account).
    :returns: the roster, grouped by accountable person in management-tree order (with
        ``accounts``: in their order).
    :raises NotFound: ``person`` or ``account`` is not in the org.

    >>> from kamcore import Account, Org, Person
    >>> from kamcore.plugins import get_plugin_manager
    >>> from kamcore.registry import registry_for
    >>> pm = get_plugin_manager(load_entrypoints=False)
    >>> org = Org.build([Account(id="A", name="A", tier="regular", manager="P")],
    ...                 [Person(id="P", name="Pat", role="am")], registry=registry_for(pm))
    >>> roster(org, pm).rows[0].title
    'Fill sales orders'
    """
    from kamcore.workspace.loader import as_org

    org = as_org(org, pm=pm)
    if pm is None:
        from kamcore.plugins import get_plugin_manager

        pm = get_plugin_manager()
    if person is not None:
        org.person(person)
    if accounts is not None:
        chosen = [org.account(aid) for aid in accounts]
    elif account is not None:
        chosen = [org.account(account)]
    else:
        chosen = list(org.accounts.values())
        order = {pid: i for i, pid in enumerate(_people_order(org))}
        chosen.sort(key=lambda a: order.get(a.manager or "", len(order)))
    result = Roster()
    delegates: dict[tuple[str | None, str], Person | None] = {}
    staff: dict[str, dict[str, Person]] = {}
    industries: dict[str | None, str | None] = {}  # an industry's name, looked up once
    for acct in chosen:
        manager = org.people.get(acct.manager or "")
        if acct.industry in industries:
            industry = industries[acct.industry]
        else:
            industry = industries[acct.industry] = org.industry_of(acct)
        duties = account_duties(org, pm, acct, result.problems)
        # the same for every duty of the account (an enum's .value is a property call)
        name, role = (manager.name, manager.role.value) if manager else (None, None)
        tier = acct.tier.value
        for duty in duties:
            key = (acct.manager, duty.who)
            if key not in delegates:
                delegates[key] = find_delegate(org, acct.manager, duty.who, cache=staff)
            delegate = delegates[key]
            row = roster_row(
                person=acct.manager, person_name=name, role=role, account=acct.id,
                account_name=acct.name, tier=tier, industry=industry,
                duty=duty.id, title=duty.title, cadence=duty.cadence, who=duty.who,
                delegate=delegate.id if delegate else None,
                delegate_name=delegate.name if delegate else None, source=duty.source,
                due=duty.due.isoformat() if duty.due else None)
            if person is None or person in (row.person, row.delegate):
                result.rows.append(row)
    return result


def _people_order(org: Org) -> list[str]:
    """People top-down (VP, directors, ...), each followed by their team, depth first."""
    order: dict[str, None] = {}
    for top in org.top_people():
        order.setdefault(top)
        for pid in org.team(top):
            order.setdefault(pid)
    for pid in org.people:
        order.setdefault(pid)
    return list(order)

"""A working copy of an org that the lines of a plan file edit one after another.

Each line of a plan sees the effect of the lines before it, so each runs its step
(:data:`kamcore.changes.ops.STEPS`) on the org as the earlier lines left it. Rebuilding an
:class:`~kamcore.Org` per line would cost a pass over every record per line (10,000 lines on
100,000 accounts: 10^9); a draft instead puts each step's records into one copy and keeps that
copy's indexes (the books, and both trees once something asked for them) up to date, record by
record. The org it was made from is never touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kamcore.lazyrecords import copy_records

if TYPE_CHECKING:
    from kamcore.models import Account, Person
    from kamcore.org import Org


class Draft:
    """``org`` copied, edited in place through :meth:`put_account` and :meth:`put_person`."""

    def __init__(self, org: Org) -> None:
        self.org = org.replace(accounts=copy_records(org.accounts), people=dict(org.people))

    def put_account(self, record: Account) -> None:
        """Store ``record`` (new or replacing the one with its id), indexes kept in step."""
        org = self.org
        old = org.accounts.get(record.id)
        org.accounts[record.id] = record
        cached = org.__dict__
        if "account_graph" in cached and (old is None or old.parent != record.parent):
            graph = org.account_graph
            if old is not None and old.parent is not None and old.parent in org.accounts \
                    and graph.has_edge(old.parent, record.id):
                graph.remove_edge(old.parent, record.id)
            graph.add_node(record.id)
            if record.parent is not None and record.parent in org.accounts:
                graph.add_edge(record.parent, record.id)
        if "_books" in cached and (old is None or old.manager != record.manager):
            books = org._books
            if old is not None and old.manager is not None:
                books[old.manager].remove(record.id)
            if record.manager is not None:
                books.setdefault(record.manager, []).append(record.id)

    def put_person(self, record: Person) -> None:
        """Store ``record`` (new or replacing the one with its id), the people tree kept in step
        (its lists of reports, and its graph once something asked for it)."""
        org = self.org
        old = org.people.get(record.id)
        org.people[record.id] = record
        if "_reports" in org.__dict__:
            _put_report(org._reports, org, old, record)
        if "people_graph" not in org.__dict__:
            return
        graph = org.people_graph
        if old is None:
            graph.add_node(record.id)
            # someone may already name the newcomer as their manager
            graph.add_edges_from((record.id, p.id) for p in org.people.values()
                                 if p.reports_to == record.id)
        if old is None or old.reports_to != record.reports_to:
            if old is not None and old.reports_to is not None and old.reports_to in org.people \
                    and graph.has_edge(old.reports_to, record.id):
                graph.remove_edge(old.reports_to, record.id)
            if record.reports_to is not None and record.reports_to in org.people:
                graph.add_edge(record.reports_to, record.id)


def _put_report(reports: dict[str, list[str]], org: Org, old: Person | None,
                record: Person) -> None:
    """The edits :meth:`Draft.put_person` makes to the people graph, made to ``org._reports``
    (the same edges in the same order)."""
    if old is None:
        # someone may already name the newcomer as their manager
        found = [p.id for p in org.people.values() if p.reports_to == record.id]
        if found:
            mine = reports.setdefault(record.id, [])
            mine += [p for p in found if p not in mine]
    if old is None or old.reports_to != record.reports_to:
        if old is not None and old.reports_to is not None and old.reports_to in org.people \
                and record.id in reports.get(old.reports_to, ()):
            reports[old.reports_to].remove(record.id)
        if record.reports_to is not None and record.reports_to in org.people:
            boss = reports.setdefault(record.reports_to, [])
            if record.id not in boss:
                boss.append(record.id)

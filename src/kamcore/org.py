"""``Org``: the account tree and the management tree, as networkx graphs over pydantic records.

Both graphs point from the senior node to the junior one: parent account -> child account,
manager -> report. Queries are methods that read the graphs; edits go through
:mod:`kamcore.changes`, never through the graphs directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, overload

from kamcore.errors import Location, NotFound, did_you_mean
from kamcore.models import Account, MetricDef, Person, Tier
from kamcore.settings import Settings

if TYPE_CHECKING:
    import networkx as nx
    from pydantic import BaseModel

    from kamcore.registry import Registry

#: A plugin's field model (``org.valid_fields(account, RetailAccount)`` is typed by it).
M = TypeVar("M", bound="BaseModel")


@dataclass
class Duplicate:
    """A record whose id was already taken; kept aside so that validation can report it."""

    kind: str
    record: Account | Person
    location: Location | None


@dataclass
class Org:
    """An org: settings, account records, people records and the two trees built from them.

    Build one with :func:`kamcore.load` (from a workspace folder) or :meth:`Org.build` (from
    records). Do not edit the graphs: use :mod:`kamcore.changes`.

    >>> from kamcore import Account, Org, Person
    >>> org = Org.build(
    ...     accounts=[Account(id="G", name="Globex", tier="global", manager="P1"),
    ...               Account(id="N", name="Globex DE", tier="national", parent="G")],
    ...     people=[Person(id="P1", name="Ada", role="gam")])
    >>> org.children("G")
    ['N']
    >>> org.book("P1")
    ['G']
    """

    settings: Settings
    #: By id, in file order: a dict, or (an org read for a plan file) a
    #: :class:`~kamcore.lazyrecords.LazyRecords` building each record when first asked for.
    accounts: MutableMapping[str, Account]
    people: MutableMapping[str, Person]
    locations: dict[tuple[str, str], Location] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)
    registry: Registry | None = None
    path: Path | None = None
    #: Column order of each table as it was read, so that a save keeps the user's layout.
    layout: dict[str, list[str]] = field(default_factory=dict)
    #: Where records are stored: "csv" (accounts.csv, people.csv) or "inline" (kam.yaml).
    storage: str = "csv"
    #: The day the records show (history.csv applied as of then); ``None``: built in Python.
    as_of: date | None = None

    @classmethod
    def build(cls, accounts: Iterable[Account] = (), people: Iterable[Person] = (), *,
              settings: Settings | None = None, registry: Registry | None = None) -> Org:
        """An org from records (duplicates are kept aside for validation to report)."""
        org = cls(settings=settings or Settings(), accounts={}, people={}, registry=registry)
        for account in accounts:
            if account.id in org.accounts:
                org.duplicates.append(Duplicate("account", account, None))
            else:
                org.accounts[account.id] = account
        for person in people:
            if person.id in org.people:
                org.duplicates.append(Duplicate("person", person, None))
            else:
                org.people[person.id] = person
        return org

    def __repr__(self) -> str:
        """One line (the records are many): name, counts, folder."""
        where = f", path={str(self.path)!r}" if self.path is not None else ""
        return (f"Org({self.settings.name!r}, {_count(len(self.accounts), 'account')}, "
                f"{_count(len(self.people), 'person', 'people')}{where})")

    # -- graphs -----------------------------------------------------------------------------

    @cached_property
    def account_graph(self) -> nx.DiGraph[str]:
        """Parent -> child edges; parents that do not exist are left out (rule KAM102)."""
        import networkx as nx  # imported when a graph is first asked for: it is slow to import

        from kamcore.lazyrecords import field_items

        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from(self.accounts)
        accounts = self.accounts
        graph.add_edges_from((parent, aid) for aid, parent in field_items(accounts, "parent")
                             if parent is not None and parent in accounts)
        return graph

    @cached_property
    def people_graph(self) -> nx.DiGraph[str]:
        """Manager -> report edges; managers that do not exist are left out (rule KAM121)."""
        import networkx as nx

        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from(self.people)
        people = self.people
        graph.add_edges_from((p.reports_to, p.id) for p in people.values()
                             if p.reports_to is not None and p.reports_to in people)
        return graph

    @cached_property
    def _reports(self) -> dict[str, list[str]]:
        """Each manager's direct reports, in file order: the edges of :attr:`people_graph`,
        kept as plain lists so that the management queries below (a plan's leavers and
        briefs ask them) do not import networkx (0.1 s) nor build a graph."""
        reports: dict[str, list[str]] = {}
        people = self.people
        for person in people.values():
            if person.reports_to is not None and person.reports_to in people:
                reports.setdefault(person.reports_to, []).append(person.id)
        return reports

    @cached_property
    def _books(self) -> dict[str, list[str]]:
        from kamcore.lazyrecords import field_items

        books: dict[str, list[str]] = {}
        for aid, manager in field_items(self.accounts, "manager"):
            if manager is not None:
                books.setdefault(manager, []).append(aid)
        return books

    # -- lookups ----------------------------------------------------------------------------

    def account(self, account_id: str) -> Account:
        """The account with this id. :raises NotFound: with a suggestion when close."""
        try:
            return self.accounts[account_id]
        except KeyError:
            raise NotFound(f"no account with id {account_id!r}",
                           hint=did_you_mean(account_id, self.accounts)) from None

    def person(self, person_id: str) -> Person:
        """The person with this id. :raises NotFound: with a suggestion when close."""
        try:
            return self.people[person_id]
        except KeyError:
            raise NotFound(f"no person with id {person_id!r}",
                           hint=did_you_mean(person_id, self.people)) from None

    def location(self, kind: str, record_id: str) -> Location | None:
        """File and line a record was read from (``kind`` is "account" or "person")."""
        return self.locations.get((kind, record_id))

    # -- the account tree -------------------------------------------------------------------

    def roots(self) -> list[str]:
        """Accounts without a parent (or whose parent is missing), in file order."""
        from kamcore.lazyrecords import field_items

        accounts = self.accounts
        return [aid for aid, parent in field_items(accounts, "parent")
                if parent is None or parent not in accounts]

    def children(self, account_id: str) -> list[str]:
        """Direct children of an account, in file order."""
        self.account(account_id)
        return list(self.account_graph.successors(account_id))

    def parent(self, account_id: str) -> str | None:
        """The parent id, or ``None`` for a root."""
        parent = self.account(account_id).parent
        return parent if parent in self.accounts else None

    def ancestors(self, account_id: str) -> list[str]:
        """Parent, grandparent, ... up to the root (stops at a cycle)."""
        chain: list[str] = []
        seen = {account_id}
        current = self.parent(account_id)
        while current is not None and current not in seen:
            chain.append(current)
            seen.add(current)
            current = self.parent(current)
        return chain

    def path_to_root(self, account_id: str) -> list[str]:
        """The account itself followed by its ancestors."""
        return [account_id, *self.ancestors(account_id)]

    def root_of(self, account_id: str) -> str:
        """The top of the account's tree."""
        return self.path_to_root(account_id)[-1]

    def subtree(self, account_id: str) -> list[str]:
        """The account and all its descendants, depth first in file order."""
        import networkx as nx

        self.account(account_id)
        return list(nx.dfs_preorder_nodes(self.account_graph, account_id))

    def descendants(self, account_id: str) -> set[str]:
        """All accounts below this one."""
        import networkx as nx

        self.account(account_id)
        return nx.descendants(self.account_graph, account_id)

    def depth(self, account_id: str) -> int:
        """0 for a root."""
        return len(self.ancestors(account_id))

    def accounts_where(self, **criteria: Any) -> list[Account]:
        """Accounts whose fields equal the criteria, e.g. ``tier="key", country="DE"``."""
        return [a for a in self.accounts.values()
                if all(getattr(a, k, None) == v for k, v in criteria.items())]

    def by_tier(self, tier: Tier | str) -> list[Account]:
        """Accounts of one tier."""
        return self.accounts_where(tier=Tier(tier))

    # -- the management tree ----------------------------------------------------------------

    def book(self, person_id: str) -> list[str]:
        """The accounts this person is accountable for (their book of business)."""
        self.person(person_id)
        return list(self._books.get(person_id, []))

    def manager_of(self, person_id: str) -> str | None:
        """Whom the person reports to, or ``None`` at the top."""
        boss = self.person(person_id).reports_to
        return boss if boss in self.people else None

    def chain_of_command(self, person_id: str) -> list[str]:
        """Their manager, their manager's manager, ... up to the top (stops at a cycle)."""
        chain: list[str] = []
        seen = {person_id}
        current = self.manager_of(person_id)
        while current is not None and current not in seen:
            chain.append(current)
            seen.add(current)
            current = self.manager_of(current)
        return chain

    def reports(self, person_id: str) -> list[str]:
        """Direct reports."""
        self.person(person_id)
        return list(self._reports.get(person_id, ()))

    def team(self, person_id: str) -> list[str]:
        """Everyone below this person in the management tree, depth first (each once, in the
        order of ``networkx.dfs_preorder_nodes`` over :attr:`people_graph`)."""
        self.person(person_id)
        reports = self._reports
        team: list[str] = []
        seen = {person_id}
        stack = [iter(reports.get(person_id, ()))]
        while stack:
            for member in stack[-1]:
                if member not in seen:
                    seen.add(member)
                    team.append(member)
                    stack.append(iter(reports.get(member, ())))
                    break
            else:
                stack.pop()
        return team

    def team_book(self, person_id: str) -> list[str]:
        """The accounts of the person and their whole team."""
        return [a for p in [person_id, *self.team(person_id)] for a in self.book(p)]

    def support_staff(self, person_id: str) -> list[Person]:
        """Support staff who report directly to this person."""
        return [self.people[p] for p in self.reports(person_id)
                if self.people[p].role == "support"]

    def top_people(self) -> list[str]:
        """People who report to nobody in the org."""
        return [p.id for p in self.people.values()
                if p.reports_to is None or p.reports_to not in self.people]

    # -- plugins ----------------------------------------------------------------------------

    @property
    def metrics(self) -> dict[str, MetricDef]:
        """Every metric known here: the plugins' (core included) and the workspace's own."""
        from kamcore.workspace.tables import metric_defs

        return metric_defs(self.settings, self.registry)

    def industry_of(self, account: Account | str) -> str | None:
        """The account's industry: a plugin's canonical name when one claims it (aliases
        resolved), else the cell normalised ('Health-Care' -> 'health care'); ``None`` if empty."""
        if isinstance(account, str):
            account = self.account(account)
        return self._industry_name(account.industry)

    def serving(self, *industries: str) -> Iterator[Account]:
        """The accounts, in file order, whose industry (aliases resolved, as
        :func:`kamcore.helpers.serves` reads it) is one of ``industries``: what a plugin's
        rule about its industry walks. On an org loaded for a plan only those records are
        built, so the rule costs its industry's accounts, not the whole org's."""
        from kamcore.lazyrecords import LazyRecords

        wanted = {industry.lower() for industry in industries}
        verdicts: dict[str | None, bool] = {}

        def fits(cell: str | None) -> bool:
            found = verdicts.get(cell)
            if found is None:
                found = verdicts[cell] = self._industry_name(cell) in wanted
            return found

        accounts = self.accounts
        if isinstance(accounts, LazyRecords):
            for rid, cell in accounts.field_items("industry"):
                if fits(cell):
                    yield accounts[rid]
            return
        for account in accounts.values():
            if fits(account.industry):
                yield account

    def _industry_name(self, cell: str | None) -> str | None:
        """:meth:`industry_of` of an industry cell."""
        from kamcore.registry import normalize_name

        if not cell:
            return None
        known = self.registry.industry_of(cell) if self.registry else None
        return known or normalize_name(cell)

    @overload
    def fields(self, record: Account | Person, namespace: str) -> BaseModel | None: ...

    @overload
    def fields(self, record: Account | Person, namespace: type[M]) -> M | None: ...

    def fields(self, record: Account | Person, namespace: str | type[M]) -> BaseModel | None:
        """A plugin's fields of a record, validated by its model (``None`` when it has none).

        :param namespace: the plugin's namespace, or its field model class (then the result
            is typed as that model: ``org.fields(account, RetailAccount)``).
        :raises pydantic.ValidationError: the values do not fit the plugin's model.
        """
        name = self._namespace(namespace)
        model = self._field_model(record, name)
        if model is None or name is None:
            return None
        return model.model_validate(record.ext.get(name, {}))

    @overload
    def valid_fields(self, record: Account | Person, namespace: str) -> BaseModel | None: ...

    @overload
    def valid_fields(self, record: Account | Person, namespace: type[M]) -> M | None: ...

    def valid_fields(self, record: Account | Person,
                     namespace: str | type[M]) -> BaseModel | None:
        """A plugin's fields of a record when it has some and they are valid, else ``None``.

        Plugin rules use this: invalid fields are already reported by KAM140, so a rule need
        not report them again. Pass the model class for a typed result.
        """
        from pydantic import ValidationError

        name = self._namespace(namespace)
        return self._valid_fields(record, name, ValidationError) if name is not None else None

    @overload
    def with_fields(self, namespace: str) -> Iterator[tuple[Account, BaseModel]]: ...

    @overload
    def with_fields(self, namespace: type[M]) -> Iterator[tuple[Account, M]]: ...

    def with_fields(self, namespace: str | type[M]) -> Iterator[tuple[Account, BaseModel]]:
        """Accounts with valid fields of ``namespace`` (or model), each with its fields."""
        from pydantic import ValidationError

        from kamcore.lazyrecords import having_namespace

        name = self._namespace(namespace)  # once, not per account: plugin rules call this
        if name is None:
            return
        for account in having_namespace(self.accounts, name):
            if name in account.ext:
                fields = self._valid_fields(account, name, ValidationError)
                if fields is not None:
                    yield account, fields

    def _field_model(self, record: Account | Person, name: str | None) -> type[BaseModel] | None:
        """The model a plugin registered for this kind of record under ``name``, if any."""
        if self.registry is None or name is None or name not in self.registry.fields:
            return None
        fieldset = self.registry.fields[name]
        return fieldset.account if isinstance(record, Account) else fieldset.person

    def _valid_fields(self, record: Account | Person, name: str,
                      invalid: type[Exception]) -> BaseModel | None:
        """:meth:`valid_fields` with the namespace resolved and pydantic's error class passed
        in: the loop of :meth:`with_fields` runs it for every account of a big org."""
        values = record.ext.get(name)
        if values is None:
            return None
        model = self._field_model(record, name)
        if model is None:
            return None
        try:
            return model.model_validate(values)
        except invalid:
            return None

    def _namespace(self, namespace: str | type[BaseModel]) -> str | None:
        """The namespace a field model is registered under (a string is one already)."""
        if isinstance(namespace, str):
            return namespace
        for fieldset in (self.registry.fields.values() if self.registry else ()):
            if namespace in (fieldset.account, fieldset.person):
                return fieldset.namespace
        return None

    def iter_accounts(self) -> Iterator[Account]:
        """Accounts in file order."""
        return iter(self.accounts.values())

    def replace(self, *, accounts: MutableMapping[str, Account] | None = None,
                people: MutableMapping[str, Person] | None = None) -> Org:
        """A copy with new records (graphs rebuilt lazily); the original is untouched."""
        return Org(settings=self.settings,
                   accounts=self.accounts if accounts is None else accounts,
                   people=self.people if people is None else people,
                   locations=self.locations, duplicates=[], registry=self.registry,
                   path=self.path, layout=self.layout, storage=self.storage,
                   as_of=self.as_of)


#: What a public function accepts for an org: the object, or the path of its workspace folder
#: (loaded with every installed plugin). :func:`kamcore.workspace.as_org` turns it into an Org.
OrgSource: TypeAlias = Org | str | os.PathLike[str]


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"

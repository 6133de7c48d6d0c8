"""Plans: what a change does to the records, and which findings it adds or removes.

A :class:`Plan` is computed, never written: it holds the org before and after, the records that
differ (:class:`RecordChange`, full record dicts before and after) and the validation findings
of both sides. :func:`kamcore.changes.apply` writes it; ``plan.diff()`` shows it to people.
A plan also remembers the operation that made it (``op`` and JSON-safe ``args``) so that
``apply`` can re-plan against the files as they are when the workspace lock is held.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kamcore.errors import ChangeRefused
from kamcore.models import Account, Finding, Person, Severity
from kamcore.org import Org
from kamcore.wording import plural

if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping

    from kamcore.workspace.tables import WorkspaceTables

KINDS = ("account", "person")


@dataclass(frozen=True)
class RecordChange:
    """One record touched by a change. ``before`` is ``None`` for a new record, ``after`` for a
    removed one; both are the full record as ``model_dump(mode="json")`` gives it."""

    kind: str
    id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def fields(self) -> list[tuple[str, Any, Any]]:
        """``(field, old, new)`` for every field that differs; nested dicts are dotted."""
        return list(self._fields)

    @cached_property
    def _fields(self) -> tuple[tuple[str, Any, Any], ...]:
        """:meth:`fields`, worked out once (a plan's journal, history and notes each ask
        for the fields of its 12,000 changes)."""
        quick = _differing(self.before or {}, self.after or {}, "")
        if quick is not None:
            return tuple(quick)
        old = _flatten(self.before or {})
        new = _flatten(self.after or {})
        keys = list(old) + [k for k in new if k not in old]
        return tuple((k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "before": self.before, "after": self.after}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordChange:
        return cls(kind=data["kind"], id=data["id"], before=data.get("before"),
                   after=data.get("after"))


@dataclass(frozen=True)
class Unplaced:
    """An account a hand-over could not place, and why; it stays where it was."""

    account: str
    reason: str


@dataclass
class Plan:
    """A computed change: the org before and after, the records that differ and the findings.

    :ivar op: the operation (``move``, ``assign``, ``handover``, ``leave``, ``hire``, ``undo``).
    :ivar args: its JSON-safe arguments; ``apply`` re-runs ``op`` with them under the lock.
    :ivar title: the command as a person would type it, e.g. ``move ACME-DE --to NOVA``.
    """

    op: str
    args: dict[str, Any]
    title: str
    before: Org
    after: Org
    changes: list[RecordChange]
    findings_before: list[Finding]
    findings_after: list[Finding]
    #: Accounts a hand-over could not place (they keep their manager).
    unplaced: list[Unplaced] = field(default_factory=list)
    #: Receiving manager -> accounts they get (hand-overs only), in placement order.
    receivers: dict[str, list[str]] = field(default_factory=dict)
    #: Extra lines for the reader (e.g. how many accounts move with a subtree).
    notes: list[str] = field(default_factory=list)
    #: Set by ``undo`` plans: the journal entry reversed.
    undoes: str | None = None
    #: Records changed since the entry being undone (undo overwrites them only with force).
    conflicts: list[str] = field(default_factory=list)
    #: Undo plans: the hand-over briefs the undone entry wrote (``path``, ``sha256``), which
    #: applying the undo removes when they still hold what kam wrote.
    withdraws: list[dict[str, str]] = field(default_factory=list)
    #: The records before and after as tables, when the plan was made from tables (a plan
    #: file): what it was validated on, for reports that read the trees as columns.
    tables: tuple[WorkspaceTables, WorkspaceTables] | None = field(default=None, repr=False)

    @property
    def findings_added(self) -> list[Finding]:
        """Findings the change makes appear (compared by code, subject and message)."""
        return _minus(self.findings_after, self.findings_before)

    @property
    def findings_removed(self) -> list[Finding]:
        """Findings the change makes disappear."""
        return _minus(self.findings_before, self.findings_after)

    @property
    def errors_added(self) -> list[Finding]:
        return [f for f in self.findings_added if f.severity == Severity.ERROR]

    @property
    def is_empty(self) -> bool:
        return not self.changes

    @property
    def refused_because(self) -> str | None:
        """Why ``apply`` refuses this plan without ``force`` (``None`` when it would not)."""
        reasons = []
        if self.errors_added:
            reasons.append(f"it adds {plural(len(self.errors_added), 'error finding')}")
        if self.conflicts:
            reasons.append("records changed since that entry: " + ", ".join(self.conflicts))
        return "; ".join(reasons) or None

    def __repr__(self) -> str:
        """One line: the change and its size (the orgs before and after are not shown)."""
        return (f"Plan({self.title!r}, {plural(len(self.changes), 'record')} changed, "
                f"{plural(len(self.findings_added), 'finding')} added, "
                f"{len(self.findings_removed)} removed)")

    def diff(self) -> str:
        """The plan as people read it: records and fields changed, findings in and out."""
        return render_plan(self)

    def to_json(self) -> dict[str, Any]:
        """The plan as data (``kam ... --format json``)."""
        from kamcore.changes.render import finding_json

        return {
            "op": self.op, "args": self.args, "title": self.title,
            "effective": self.before.as_of.isoformat() if self.before.as_of else None,
            "changes": [c.to_json() for c in self.changes],
            "findings_added": [finding_json(f) for f in self.findings_added],
            "findings_removed": [finding_json(f) for f in self.findings_removed],
            "unplaced": [{"account": u.account, "reason": u.reason} for u in self.unplaced],
            "receivers": self.receivers, "notes": self.notes, "undoes": self.undoes,
            "conflicts": self.conflicts, "refused_because": self.refused_because,
            "withdraws": [w["path"] for w in self.withdraws],
        }


def render_plan(plan: Plan) -> str:
    from kamcore.changes.render import render_plan as _render

    return _render(plan)


def make_plan(op: str, args: dict[str, Any], title: str, before: Org, *,
              accounts: MutableMapping[str, Account] | None = None,
              people: MutableMapping[str, Person] | None = None,
              findings_before: list[Finding] | None = None,
              touched: dict[str, set[str]] | None = None,
              tables: WorkspaceTables | None = None,
              contacts: list[RecordChange] | None = None, **extra: Any) -> Plan:
    """Build the after-org, list the changed records and validate both sides.

    :param before: the org as it is.
    :param accounts: the new account table (``None``: unchanged).
    :param people: the new people table (``None``: unchanged).
    :param findings_before: ``before``'s findings when the caller has them already (a plan
        file validates the tables it read, without a second pass).
    :param touched: the only ids that may differ, by kind (a plan file knows them: comparing
        100,000 unchanged records would cost more than its lines).
    :param tables: ``before`` as tables (as read): both sides are then validated on tables
        (the after-side is :func:`changed_tables`, for the cost of the records changed).
    :param contacts: contact changes (relationship owners) that go with it, written to
        contacts.csv in the same transaction (:mod:`kamcore.changes.contacts`).
    :returns: the plan; nothing is written.
    """
    from kamcore.validation import check_plan, validate

    if before.duplicates:
        dup = before.duplicates[0]
        raise ChangeRefused(
            f"{plural(len(before.duplicates), 'record id')} "
            f"{'is' if len(before.duplicates) == 1 else 'are'} used twice (first: {dup.kind} "
            f"{dup.record.id!r}); a change would keep only one of each",
            location=dup.location, hint="give every record its own id (kam validate lists "
            "them as KAM101), then make the change")
    after = before.replace(accounts=accounts, people=people)
    changes = record_changes(before, after, touched) + list(contacts or [])
    from kamcore.territories import territory_impact

    if op in ("plan", "handover", "leave"):  # books change hands: say where
        extra["notes"] = [*extra.get("notes", []), *territory_impact(before, changes)]
    if findings_before is None:
        findings_before = validate(before, tables=tables)
    pair = None
    if tables is not None:
        pair = (tables, changed_tables(tables, after, changes) if changes else tables)
        if contacts:  # the relationships moved with the book, in the after-tables too
            from kamcore.changes.contacts import with_owners

            pair = (tables, with_owners(pair[1], contacts))
    after_tables = pair[1] if pair else None
    if after_tables is None and contacts:  # the contact rules see the relationships moved
        from kamcore.changes.contacts import with_owners
        from kamcore.workspace.objects import tables_from_org

        after_tables = with_owners(tables_from_org(after, customer_side=True), contacts)
    findings_after = (validate(after, tables=after_tables) if changes
                      else list(findings_before))
    plan = Plan(op=op, args=args, title=title, before=before, after=after, changes=changes,
                findings_before=findings_before, findings_after=findings_after, tables=pair,
                **extra)
    if changes:  # the plugins' change checks: findings that appear with the change
        plan.findings_after = [*findings_after, *check_plan(plan)]
    return plan


def changed_tables(tables: WorkspaceTables, after: Org, changes: list[RecordChange]
                   ) -> WorkspaceTables:
    """``tables`` with ``changes`` made: each changed account and person as ``after`` holds
    it in place of its row (new ones appended in the order of the changes, their columns
    kept), removed ones left out; contacts are not touched. What a plan's after-side is
    validated on, and (dated fields aside) what ``apply`` writes.
    """
    from kamcore.workspace.objects import patch_records

    records, drop = changed_records(after, changes)
    return patch_records(tables, {k: list(v.values()) for k, v in records.items()},
                         drop=drop, new_columns=True)


def changed_records(after: Org, changes: list[RecordChange]
                    ) -> tuple[dict[str, dict[str, Account | Person]], dict[str, set[str]]]:
    """The records ``changes`` leave, by kind and id in the order of the changes (as
    ``after`` holds them), and the ids they remove."""
    holds: dict[str, Mapping[str, Account | Person]] = {"account": after.accounts,
                                                        "person": after.people}
    records: dict[str, dict[str, Account | Person]] = {"account": {}, "person": {}}
    drop: dict[str, set[str]] = {"account": set(), "person": set()}
    for change in changes:
        if change.kind not in records:
            continue  # contacts: written apart (their owner cells), not dated
        if change.after is None:
            records[change.kind].pop(change.id, None)
            drop[change.kind].add(change.id)
            continue
        # the after-org holds the record its change was dumped from
        record = holds[change.kind].get(change.id)
        records[change.kind][change.id] = (record if record is not None
                                           else load_record(change.kind, change.after))
        drop[change.kind].discard(change.id)
    return records, drop


def record_changes(before: Org, after: Org,
                   touched: dict[str, set[str]] | None = None) -> list[RecordChange]:
    """Every record that differs between two orgs: accounts first, then people, in file order.

    :param touched: when given, only these ids (by kind) are compared; the others are known
        to be the same.
    """
    out: list[RecordChange] = []
    for kind, old, new in (("account", before.accounts, after.accounts),
                           ("person", before.people, after.people)):
        if old is new:
            continue
        items: Any = old.items()
        if touched is not None:
            ids = touched.get(kind, set())
            items = sorted(((rid, old[rid]) for rid in ids if rid in old),
                           key=_position(old, len(ids)))
        for rid, record in items:
            other = new.get(rid)
            if other is None:
                out.append(RecordChange(kind, rid, dump(record), None))
            elif other is record:
                continue
            elif touched is not None:  # compared as dumps: pydantic's == costs ~10x a dump
                was = dump(record)
                now = _dump_of_copy(record, other, was)
                if was != now:
                    out.append(RecordChange(kind, rid, was, now))
            elif other != record:
                out.append(RecordChange(kind, rid, dump(record), dump(other)))
        if touched is None:
            added = [rid for rid in new if rid not in old]
        else:
            added = _tail_order(new, {rid for rid in touched.get(kind, ())
                                      if rid in new and rid not in old})
        out.extend(RecordChange(kind, rid, None, dump(new[rid])) for rid in added)
    return out


def _position(records: Mapping[str, Any], wanted: int) -> Any:
    """A sort key giving file order (a pass over ``records`` only when there is more than one)."""
    if wanted <= 1:
        return lambda item: 0
    from kamcore.lazyrecords import positions

    order = positions(records)
    return lambda item: order[item[0]]


def _tail_order(records: Mapping[str, Any], wanted: set[str]) -> list[str]:
    """``wanted`` ids in the order of ``records``, looked for from the end (new ones are last)."""
    found: list[str] = []
    if wanted:
        for rid in reversed(list(records)):  # a mapping, not always a dict
            if rid in wanted:
                found.append(rid)
                if len(found) == len(wanted):
                    break
    return found[::-1]


def dump(record: Account | Person) -> dict[str, Any]:
    """A record as the journal keeps it: every field, JSON types."""
    return record.model_dump(mode="json")


#: Field values whose JSON dump is the value itself.
_PLAIN = frozenset({str, int, bool, type(None)})


def _dump_of_copy(record: Account | Person, other: Account | Person,
                  dumped: dict[str, Any]) -> dict[str, Any]:
    """``dump(other)``, given ``dumped = dump(record)``: when ``other`` is a copy of ``record``
    with plain fields set (``model_copy(update=...)``: a manager, a parent, an active flag;
    every other field the same object), the record's dump with those fields set, else a dump.
    A plan's 12,000 changed records are each dumped once, not twice."""
    if type(other) is not type(record):
        return dump(other)
    mine, theirs = record.__dict__, other.__dict__
    if mine.keys() != theirs.keys():
        return dump(other)
    out = dict(dumped)
    for name, value in theirs.items():
        if value is not mine[name]:
            if type(value) not in _PLAIN:
                return dump(other)
            out[name] = value
    return out


def load_record(kind: str, data: dict[str, Any]) -> Account | Person:
    """A record back from its journal dict."""
    model = Account if kind == "account" else Person
    return model.model_validate(data)


def _differing(old: dict[str, Any], new: dict[str, Any], prefix: str
               ) -> list[tuple[str, Any, Any]] | None:
    """:meth:`RecordChange.fields` when both sides have the same keys at every level
    (a plan's 12,000 changes of one field each): equal subtrees skipped whole, without
    flattening both records. ``None``: keys differ somewhere (flatten them)."""
    if old.keys() != new.keys():
        return None
    out: list[tuple[str, Any, Any]] = []
    for key, was in old.items():
        now = new[key]
        if was == now:
            continue
        if isinstance(was, dict) or isinstance(now, dict):
            if not (isinstance(was, dict) and isinstance(now, dict)):
                return None
            inner = _differing(was, now, f"{prefix}{key}.")
            if inner is None:
                return None
            out += inner
        else:
            out.append((f"{prefix}{key}", was, now))
    return out


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _key(finding: Finding) -> tuple[str, str | None, str]:
    return (finding.code, finding.subject, finding.message)


def _minus(left: list[Finding], right: list[Finding]) -> list[Finding]:
    """Findings of ``left`` not matched by one of ``right`` (as multisets)."""
    available = Counter(_key(f) for f in right)
    out = []
    for finding in left:
        key = _key(finding)
        if available[key]:
            available[key] -= 1
        else:
            out.append(finding)
    return out

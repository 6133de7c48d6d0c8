"""Both trees as index arrays over the reader's tables, for rules that run vectorised.

Each record row knows the row of its parent (or manager, or boss) through one hash lookup;
ancestor questions ("the nearest national account above", "does it reach a root") are
answered by pointer doubling: ``log2(n)`` passes of numpy fancy indexing, whatever the depth,
so a 200,000-deep chain costs the same few passes as a flat org.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from kamcore.models.enums import Role, Tier

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.workspace.tables import RecordTable, WorkspaceTables

TIER_ORDER = [t.value for t in Tier]    # index = rank: global 0 ... regular 3
ROLE_ORDER = [r.value for r in Role]


def row_of(ids: pa.Array, wanted: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """For each ``wanted`` id, the row of its first occurrence in ``ids`` (-1: empty or absent)."""
    import numpy as np
    import pyarrow.compute as pc

    found = pc.index_in(wanted, value_set=ids).fill_null(-1)
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


def link_codes(ids: pa.Array | pa.ChunkedArray,
               *links: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The one hash pass behind every link of records: a ``dictionary_encode`` of ``ids``
    and then ``links``, as one int32 array of codes (-1: empty cell). A dictionary lists
    values in order of first appearance, so the ids' codes come first and a link's code names
    its id directly."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    pieces = [chunk for column in (ids, *links) for chunk in (
        column.chunks if isinstance(column, pa.ChunkedArray) else [column])]
    encoded = pc.dictionary_encode(pa.chunked_array(pieces, type=pa.string()))
    # the codes in int32, as Arrow gives them (a million rows: 4 MB a column, not 8): every
    # temporary here is fresh memory, which costs more than the arithmetic
    every = np.empty(len(ids) + sum(len(link) for link in links), dtype=np.int32)
    at = 0
    for chunk in encoded.chunks:  # empty chunks may be dropped
        every[at: at + len(chunk)] = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        at += len(chunk)
    return every


def linked_rows(ids: pa.Array | pa.ChunkedArray, *links: pa.Array | pa.ChunkedArray,
                codes: np.ndarray | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """One hash pass for an id column and the columns that point into it.

    :param codes: :func:`link_codes` of these columns, when already made (the reader starts
        the accounts' own on a second core: :meth:`RecordTable.link_codes`).
    :returns: for each row of ``ids``, the row where its id first occurs; and for each of
        ``links``, each cell's row in ``ids`` (first occurrence; -1: empty or absent). The
        same answers as :func:`row_of` per column, for one hash pass over all of them: the
        ids' codes give the first rows with a running maximum.
    """
    import numpy as np

    n = len(ids)
    hashed = [k for k, link in enumerate(links) if not 0 < len(link) == link.null_count]
    if codes is None and len(hashed) < len(links):  # a column not read links nothing
        first, some = linked_rows(ids, *(links[k] for k in hashed))
        rows_of = [np.full(len(link), -1, dtype=np.int64) for link in links]
        for k, rows in zip(hashed, some, strict=True):
            rows_of[k] = rows
        return first, rows_of
    every = link_codes(ids, *links) if codes is None else codes
    own = every[:n]
    new = own >= 0
    if n > 1:
        new[1:] &= own[1:] > np.maximum.accumulate(own)[:-1]
    first_at = np.flatnonzero(new)  # first_at[k]: the row where code k first appears
    found = len(first_at)
    first = first_at[np.maximum(own, 0)] if found else np.full(n, -1, dtype=np.int64)
    first[own < 0] = -1
    linked = []
    start = n
    for link in links:
        code = every[start: start + len(link)]
        start += len(link)
        miss = (code < 0) | (code >= found)
        row = first_at[np.where(miss, 0, code)] if found else np.full(len(code), -1, np.int64)
        row[miss] = -1
        linked.append(row)
    return first, linked


def stable_order(key: np.ndarray, limit: int) -> np.ndarray:
    """What ``np.argsort(key, kind="stable")`` gives for ints in ``[0, limit)``: the rows by
    key, ties in row order.

    numpy's stable sort of int64 is a timsort; the key and the row packed into one int64 are
    all distinct, so numpy's vectorised quicksort of the values orders them the same and about
    ten times quicker (rows by parent: one per tree of each period in an as-was rollup).
    """
    import numpy as np

    n = len(key)
    shift = max(1, n.bit_length())
    if max(1, int(limit).bit_length()) + shift > 62:  # pragma: no cover - beyond 2**31 rows
        return np.argsort(key, kind="stable")
    packed = np.sort((key.astype(np.int64) << shift) | np.arange(n, dtype=np.int64))
    order: np.ndarray = packed & ((1 << shift) - 1)
    return order


def first_rows(ids: pa.Array) -> np.ndarray:
    """True for the first row of each id (later rows are duplicates, reported apart)."""
    import numpy as np

    return row_of(ids, ids) == np.arange(len(ids))


def codes(column: pa.Array, values: list[str]) -> np.ndarray:
    """Each cell's index in ``values`` (-1: empty or not listed)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(column, value_set=pa.array(values, pa.string())).fill_null(-1)
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


def jump_to(parent: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """For every row, the nearest row at or above it where ``stop`` holds (-1: none).

    Rows caught in a cycle give an arbitrary row of the cycle; callers mask them out.
    """
    import numpy as np

    n = len(parent)
    rows = np.arange(n, dtype=np.int64)
    jump = np.where(stop | (parent < 0), rows, parent)
    for _ in range(max(1, int(n).bit_length())):
        nxt = jump[jump]
        if np.array_equal(nxt, jump):
            break
        jump = nxt
    return np.where(stop[jump], jump, -1) if n else jump


def cycles(parent: np.ndarray) -> tuple[np.ndarray, list[list[int]]]:
    """Rows that never reach a root (in a loop or below one) and each loop once."""
    import numpy as np

    top = jump_to(parent, parent < 0)
    stuck = top < 0
    loops: list[list[int]] = []
    seen: set[int] = set()
    if stuck.any():
        # a stuck row's pointer chain ends inside its loop: walk each loop once
        for start in np.flatnonzero(stuck).tolist():
            node = start
            path: dict[int, int] = {}
            while node not in path and node not in seen:
                path[node] = len(path)
                node = int(parent[node])
            if node in path and node not in seen:
                loops.append(list(path)[path[node]:])
            seen.update(path)
    return stuck, loops


@dataclass
class AccountIndex:
    """Rows of the accounts table, linked to each other and to the people table."""

    tables: WorkspaceTables
    #: the contacts table whose accounts :attr:`_account_links` linked (``None``: none)
    _linked_contacts: RecordTable | None = field(default=None, init=False, repr=False)

    @property
    def accounts(self) -> RecordTable:
        return self.tables.accounts

    @property
    def people(self) -> RecordTable:
        return self.tables.people

    @cached_property
    def _account_links(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Each account row's first row of its id, its parent cell's row, and each contact's
        account row (``None``: not linked here, :attr:`ContactIndex.account` links them):
        one hash pass, where an ``index_in`` per column would hash the million account ids
        again. When the reader already hashed the ids and parents (its early pass), the
        contacts' accounts are looked up on their own: that pass is not wasted, and the
        lookup costs less than hashing the ids and parents again with them."""
        contacts = self.tables.contacts
        early = self.accounts.early_codes("parent")
        if early is not None:
            contacts = None
        self._linked_contacts = contacts
        links = [self.accounts.text("parent")]
        if contacts is not None:
            links.append(contacts.text("account"))
        first_row, linked = linked_rows(self.accounts.ids, *links, codes=early)
        return first_row, linked[0], linked[1] if contacts is not None else None

    @cached_property
    def _person_links(self) -> tuple[np.ndarray, np.ndarray]:
        first_row, (boss,) = linked_rows(self.people.ids, self.people.text("reports_to"))
        return first_row, boss

    @property
    def first_row(self) -> np.ndarray:
        """For each account row, the row where its id first occurs (a duplicate's original)."""
        return self._account_links[0]

    @property
    def person_first_row(self) -> np.ndarray:
        return self._person_links[0]

    @cached_property
    def first(self) -> np.ndarray:
        """True for the first row of each account id (later rows are duplicates)."""
        import numpy as np

        return self.first_row == np.arange(len(self.first_row))

    @cached_property
    def person_first(self) -> np.ndarray:
        import numpy as np

        return self.person_first_row == np.arange(len(self.person_first_row))

    @cached_property
    def parent(self) -> np.ndarray:
        """Row of each account's parent; -1 for a root or an unknown parent; duplicate rows
        hang nowhere (they are reported, not walked)."""
        import numpy as np

        return np.where(self.first, self._account_links[1], -1)

    @cached_property
    def boss(self) -> np.ndarray:
        """Row of each person's reports_to (-1: none or unknown)."""
        import numpy as np

        return np.where(self.person_first, self._person_links[1], -1)

    @cached_property
    def manager(self) -> np.ndarray:
        """Row (in people) of each account's manager (-1: none or unknown)."""
        return row_of(self.people.ids, self.accounts.text("manager"))

    @cached_property
    def tier(self) -> np.ndarray:
        return codes(self.accounts.text("tier"), TIER_ORDER)

    @cached_property
    def country(self) -> tuple[pa.Array, np.ndarray]:
        """The distinct countries, and each account's index among them (-1: none); the two
        country rules share them."""
        countries = self.accounts.text("country")
        distinct = countries.unique()
        return distinct, row_of(distinct, countries)

    @cached_property
    def role(self) -> np.ndarray:
        return codes(self.people.text("role"), ROLE_ORDER)

    @cached_property
    def active(self) -> np.ndarray:
        import numpy as np

        column = self.people.column("active")
        if column is None:
            return np.ones(len(self.people), dtype=bool)
        return column.fill_null(True).to_numpy(zero_copy_only=False)

    @cached_property
    def account_loops(self) -> tuple[np.ndarray, list[list[int]]]:
        return cycles(self.parent)

    @cached_property
    def people_loops(self) -> tuple[np.ndarray, list[list[int]]]:
        return cycles(self.boss)

    @cached_property
    def national(self) -> np.ndarray:
        """The nearest national account at or above each account (-1: none, or in a loop)."""
        return self._nearest(Tier.NATIONAL)

    @cached_property
    def top(self) -> np.ndarray:
        """The nearest global account at or above each account (-1: none, or in a loop)."""
        return self._nearest(Tier.GLOBAL)

    def _nearest(self, tier: Tier) -> np.ndarray:
        import numpy as np

        stuck = self.account_loops[0]
        found = jump_to(self.parent, self.tier == TIER_ORDER.index(tier.value))
        return np.where(stuck | ~self.first, -1, found)


def account_index(tables: WorkspaceTables) -> AccountIndex:
    """The index of ``tables``, built once per read."""
    cached: AccountIndex | None = tables.__dict__.get("_index")
    if cached is None:
        cached = tables.__dict__["_index"] = AccountIndex(tables)
    return cached


def link_accounts(tables: WorkspaceTables, parent: np.ndarray) -> None:
    """Give the index of ``tables`` the parent links their maker already worked out, so the
    rules need not hash the account ids again (an import links them reading the export).

    :param parent: each account row's parent row (-1: none). The caller vouches that the ids
        are all different and that ``parent`` gives the row of each parent cell's id.
    :raises ValueError: the tables have contacts (linked in the same pass), or are linked.
    """
    import numpy as np

    index = account_index(tables)
    if tables.contacts is not None or "_account_links" in index.__dict__:
        raise ValueError("link_accounts: tables with contacts, or linked already")
    index.__dict__["_account_links"] = (np.arange(len(parent)), parent, None)


def children_of(parent: np.ndarray, keep: np.ndarray) -> Callable[[int], list[int]]:
    """``children(row)``: the rows whose parent is ``row``, in file order (one stable sort)."""
    import numpy as np

    rows = np.flatnonzero(keep & (parent >= 0))
    order = rows[stable_order(parent[rows], len(parent))]
    keys = parent[order]

    def children(row: int) -> list[int]:
        lo, hi = np.searchsorted(keys, [row, row + 1])
        return [int(r) for r in order[lo:hi]]

    return children


def below_counts(parent: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """How many rows are below each row (children, their children ...): one pass per level.

    :param parent: as :attr:`AccountIndex.parent`, without loops (callers check
        :attr:`AccountIndex.account_loops` first); only ``keep`` rows count.
    """
    import numpy as np

    n = len(parent)
    counts = np.zeros(n, dtype=np.int64)
    node = np.where(keep, parent, -1)
    for _ in range(n):  # a tree is at most n deep
        live = node >= 0
        if not live.any():
            break
        counts += np.bincount(node[live], minlength=n)
        node = np.where(live, parent[np.maximum(node, 0)], -1)
    return counts


def roots_of(parent: np.ndarray, keep: np.ndarray) -> list[int]:
    """Rows without a parent (or whose parent does not exist), in file order."""
    import numpy as np

    return [int(r) for r in np.flatnonzero(keep & (parent < 0))]


@dataclass
class ContactIndex:
    """Rows of the contacts table linked to their account, their owner and their boss.

    :ivar tables: tables whose ``contacts`` is not ``None``.
    """

    tables: WorkspaceTables
    #: :meth:`start`'s hash pass on its second core, waited for by the first use
    _pending: Callable[[], tuple[np.ndarray, list[np.ndarray]]] | None = field(
        default=None, init=False, repr=False)

    @property
    def contacts(self) -> RecordTable:
        assert self.tables.contacts is not None
        return self.tables.contacts

    def start(self) -> None:
        """Begin the hash pass over the ids and reports_to on a second core (Arrow's hashing
        releases the GIL), so that a caller's work on the accounts meanwhile overlaps it: the
        largest single cost of three million contacts. The first use waits for it."""
        from kamcore.perf import started

        if self._pending is None and "_links" not in self.__dict__:
            self._pending = started(self._hash)

    def cells(self, name: str) -> pa.Array | pa.ChunkedArray:
        """A contacts column as the reader left it, in its chunks (all null when the table has
        no such column): the hash passes and masks take chunks, and combining three million
        cells of ids, accounts, bosses, owners and roles took 200 MB of fresh memory."""
        table = self.contacts.table
        return table.column(name) if name in table.column_names else self.contacts.text(name)

    def _hash(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """The hash pass, or the reader's own: it starts it as soon as the ids and reports_to
        are trimmed, beside the rest of the contacts' reading rules."""
        return linked_rows(self.cells("id"), self.cells("reports_to"),
                           codes=self.contacts.early_codes("reports_to"))

    @cached_property
    def _links(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Ids and reports_to through one hash pass (three million contacts: one pass, not
        two ``index_in`` calls that each hash the ids again)."""
        pending, self._pending = self._pending, None
        if pending is None:
            return self._hash()
        # while the started pass runs, this core looks the contacts' accounts up: both of
        # its starters (validate's contact rules, coverage) ask for them next
        self.account  # noqa: B018
        return pending()

    @cached_property
    def first_row(self) -> np.ndarray:
        """For each row, the row where its id first occurs."""
        return self._links[0]

    @cached_property
    def first(self) -> np.ndarray:
        """True for the first row of each contact id (later rows are duplicates)."""
        import numpy as np

        return self.first_row == np.arange(len(self.first_row))

    @cached_property
    def account(self) -> np.ndarray:
        """Row (in accounts) of each contact's account; -1 when unknown (linked in the
        accounts' own hash pass, :attr:`AccountIndex._account_links`, or looked up on their
        own when the reader hashed the accounts' ids and parents early)."""
        accounts = account_index(self.tables)
        linked = accounts._account_links[2]
        if linked is not None and accounts._linked_contacts is self.contacts:
            return linked
        return row_of(self.tables.accounts.ids, self.cells("account"))  # or set since

    @cached_property
    def owner(self) -> np.ndarray:
        """Row (in people) of each contact's relationship owner; -1 when none or unknown."""
        return row_of(self.tables.people.ids, self.cells("owner"))

    @cached_property
    def boss(self) -> np.ndarray:
        """Row of each contact's reports_to contact (-1: none or unknown)."""
        import numpy as np

        return np.where(self.first, self._links[1][0], -1)

    @cached_property
    def customer(self) -> np.ndarray:
        """The root account (customer tree) of each contact's account (-1: unknown, a loop)."""
        import numpy as np

        root = account_roots(self.tables)
        return np.where(self.account >= 0, root[np.maximum(self.account, 0)], -1)

    @cached_property
    def primary(self) -> np.ndarray:
        column = self.contacts.column("primary")
        if column is None:
            import numpy as np

            return np.zeros(len(self.contacts), dtype=bool)
        return column.fill_null(False).to_numpy(zero_copy_only=False)

    @cached_property
    def loops(self) -> tuple[np.ndarray, list[list[int]]]:
        return cycles(self.boss)


def account_roots(tables: WorkspaceTables) -> np.ndarray:
    """The root account at or above each account (-1: in a loop or a duplicate row)."""
    import numpy as np

    index = account_index(tables)
    if "_roots" not in tables.__dict__:
        found = jump_to(index.parent, index.parent < 0)
        tables.__dict__["_roots"] = np.where(index.account_loops[0] | ~index.first, -1, found)
    roots: np.ndarray = tables.__dict__["_roots"]
    return roots


def contact_index(tables: WorkspaceTables) -> ContactIndex:
    """The contact index of ``tables`` (which must have contacts), built once per read."""
    cached: ContactIndex | None = tables.__dict__.get("_contact_index")
    if cached is None:
        cached = tables.__dict__["_contact_index"] = ContactIndex(tables)
    return cached

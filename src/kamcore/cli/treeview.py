"""Drawing the account and people trees with box-drawing characters."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from kamcore.org import Org
    from kamcore.workspace.tables import WorkspaceTables

Node = TypeVar("Node", bound=Hashable)

TIER_STYLE = {"global": "magenta", "national": "blue", "key": "green", "regular": "white"}


def account_label(org: Org, account_id: str) -> str:
    account = org.accounts[account_id]
    manager = org.people.get(account.manager or "")
    return label_text(account.name, account.tier.value, account.country, account.id,
                      account.manager, manager.name if manager else None,
                      manager.role.value if manager else None)


def label_text(name: str, tier: str, country: str | None, account_id: str,
               manager_id: str | None, manager_name: str | None, role: str | None) -> str:
    """``Acme Germany [national DE] ACME-DE · Lena Becker (NAM)``: one account's line."""
    who = f"{manager_name} ({(role or '').upper()})" if manager_name is not None else (
        f"{manager_id} (unknown)" if manager_id else "no manager")
    where = f" {country}" if country else ""
    return f"{name} [{tier}{where}] {account_id} · {who}"


class TableLabels:
    """Account and person lines from the reader's tables (columns listed once, on first use)."""

    def __init__(self, tables: WorkspaceTables) -> None:
        from kamcore.structure import account_index

        self.tables = tables
        self.index = account_index(tables)
        self._lists: dict[tuple[str, str], list[object]] = {}

    def cell(self, kind: str, column: str, row: int) -> object:
        key = (kind, column)
        if key not in self._lists:
            table = self.tables.accounts if kind == "account" else self.tables.people
            self._lists[key] = table.text(column).to_pylist() if column != "active" else (
                self.index.active.tolist())
        return self._lists[key][row]

    def account(self, row: int) -> str:
        cell = self.cell
        boss = int(self.index.manager[row])
        return label_text(str(cell("account", "name", row)), str(cell("account", "tier", row)),
                          _str(cell("account", "country", row)), str(cell("account", "id", row)),
                          _str(cell("account", "manager", row)),
                          _str(cell("person", "name", boss)) if boss >= 0 else None,
                          _str(cell("person", "role", boss)) if boss >= 0 else None)


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def draw(roots: list[Node], children: Callable[[Node], list[Node]],
         label: Callable[[Node], str], *, depth: int | None = None,
         name: Callable[[Node], str] = str) -> Iterator[str]:
    """Lines of a tree; ``depth`` 0 shows only the roots. Loops are cut, not followed.

    Nodes are ids or table rows; ``name`` gives the id shown where a loop is cut.
    """
    seen: set[Node] = set()

    def walk(node: Node, prefix: str, last: bool, level: int, root: bool) -> Iterator[str]:
        branch = "" if root else ("└── " if last else "├── ")
        if node in seen:
            yield f"{prefix}{branch}{name(node)} (loop: already shown)"
            return
        seen.add(node)
        yield f"{prefix}{branch}{label(node)}"
        kids = children(node)
        if depth is not None and level >= depth:
            if kids:
                inner = prefix + ("" if root else ("    " if last else "│   "))
                yield f"{inner}└── … {len(kids)} more below"
            return
        inner = prefix + ("" if root else ("    " if last else "│   "))
        for i, kid in enumerate(kids):
            yield from walk(kid, inner, i == len(kids) - 1, level + 1, False)

    for root in roots:
        yield from walk(root, "", True, 0, True)

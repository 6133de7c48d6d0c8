"""A two-column spreadsheet (account, new manager or new parent) made a plan file.

Rev-ops work in Excel: a sheet of accounts and where each goes is turned into plan lines
(``assign`` for a new manager, ``move`` for a new parent) so that the change is reviewed in git
and checked by ``kam plan check`` like any plan. The sheet is read as CRM exports are read
(:func:`kamcore.importers.csvread.read_export`: UTF-8 or Windows-1252, comma, semicolon, tab or
pipe), every row keeps its line, and every problem is reported with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.changes.planfile import PlanLine
from kamcore.errors import KamError, Location, PlanErrors, WorkspaceError
from kamcore.wording import plural

if TYPE_CHECKING:
    from kamcore.org import Org

KINDS = ("auto", "assign", "move")
_PARENT_WORDS = ("parent", "under", "move")
_MANAGER_WORDS = ("manager", "owner", "person", "kam", "gam", "nam", "am", "assign")


@dataclass(frozen=True)
class SheetPlan:
    """The plan lines of a sheet, each with the sheet line it came from."""

    lines: list[PlanLine]
    rows: list[int]
    #: What the second column was read as, by the header or by the org ("assign", "move",
    #: or "mixed" when the org told row by row).
    kind: str


def plan_from_sheet(path: str | Path, *, kind: str = "auto", org: Org | None = None,
                    reason: str | None = None, effective: str | None = None) -> SheetPlan:
    """Read the sheet at ``path`` into plan lines.

    :param kind: ``assign`` or ``move`` for every row; ``auto``: by the second column's header
        (``manager``, ``owner`` ... or ``parent``), else row by row by ``org`` (a person id is
        an assign, an account id a move).
    :param org: the org the plan is for: ids are then checked (an unknown one is an error).
    :raises PlanErrors: bad rows, all of them, each with the sheet's file and line.
    """
    from kamcore.importers.csvread import read_export

    table, problems, _ = read_export(path)
    found: list[KamError] = list(problems)
    if len(table.header) < 2:
        raise WorkspaceError(f"{path} has {plural(len(table.header), 'column')}; the sheet "
                             "needs two: account, then its new manager or new parent",
                             location=Location(str(path), table.header_line),
                             hint="put the account ids in the first column and where each "
                             "goes in the second")
    by_header = kind if kind != "auto" else _kind_of(table.header[1])
    lines: list[PlanLine] = []
    rows: list[int] = []
    seen: dict[str, tuple[int, str]] = {}
    kinds: set[str] = set()
    for number, cells in table.rows:
        account, target = (cells[0].strip(), cells[1].strip()) if len(cells) > 1 else ("", "")
        if not account and not target:
            continue
        where = Location(str(path), number)
        if not account or not target:
            found.append(WorkspaceError(
                f"row {account or '(no account)'}: both cells are needed", location=where,
                hint="first the account id, then its new manager or new parent"))
            continue
        op = by_header or _kind_by_org(org, target)
        if op is None:
            found.append(WorkspaceError(
                f"{account}: {target!r} is neither a person nor an account"
                + ("" if org is not None else " (no org given to tell)"), location=where,
                hint="name the second column 'manager' or 'parent', or pass --as assign|move"
                + ("" if org is not None else ", or --org ORG")))
            continue
        problem = _check_ids(org, op, account, target)
        if problem is not None:
            found.append(WorkspaceError(f"{account}: {problem}", location=where))
            continue
        if account in seen and seen[account][1] != target:
            found.append(WorkspaceError(
                f"{account} is on line {seen[account][0]} with {seen[account][1]!r} and here "
                f"with {target!r}", location=where, hint="keep one row per account"))
            continue
        if account in seen:
            continue  # the same row twice
        seen[account] = (number, target)
        kinds.add(op)
        data = {"op": op, "id": account, "to": target, "reason": reason,
                "effective": effective}
        lines.append(PlanLine.model_validate({k: v for k, v in data.items() if v is not None}))
        rows.append(number)
    if found:
        raise PlanErrors(found)
    return SheetPlan(lines, rows, by_header or ("mixed" if len(kinds) > 1
                                                else next(iter(kinds), "assign")))


def _kind_of(header: str) -> str | None:
    """``assign`` or ``move`` from the second column's name (``None``: it does not say)."""
    words = header.strip().lower().replace("_", " ").replace("-", " ").split()
    if any(w in _PARENT_WORDS for w in words):
        return "move"
    if any(w in _MANAGER_WORDS for w in words):
        return "assign"
    return None


def _kind_by_org(org: Org | None, target: str) -> str | None:
    if org is None:
        return None
    if target in org.people and target not in org.accounts:
        return "assign"
    if target in org.accounts and target not in org.people:
        return "move"
    return None


def _check_ids(org: Org | None, op: str, account: str, target: str) -> str | None:
    if org is None:
        return None
    try:
        org.account(account)
        org.person(target) if op == "assign" else org.account(target)
    except KamError as exc:
        return exc.message + (f" ({exc.hint})" if exc.hint else "")
    return None

"""Drawing the account and people trees with box-drawing characters."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kamcore.org import Org

TIER_STYLE = {"global": "magenta", "national": "blue", "key": "green", "regular": "white"}


def account_label(org: Org, account_id: str) -> str:
    account = org.accounts[account_id]
    manager = org.people.get(account.manager or "")
    who = f"{manager.name} ({manager.role.value.upper()})" if manager else (
        f"{account.manager} (unknown)" if account.manager else "no manager")
    country = f" {account.country}" if account.country else ""
    return f"{account.name} [{account.tier.value}{country}] {account.id} · {who}"


def draw(roots: list[str], children: Callable[[str], list[str]], label: Callable[[str], str],
         *, depth: int | None = None) -> Iterator[str]:
    """Lines of a tree; ``depth`` 0 shows only the roots. Loops are cut, not followed."""
    seen: set[str] = set()

    def walk(node: str, prefix: str, last: bool, level: int, root: bool) -> Iterator[str]:
        branch = "" if root else ("└── " if last else "├── ")
        if node in seen:
            yield f"{prefix}{branch}{node} (loop: already shown)"
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

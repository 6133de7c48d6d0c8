"""The account tree (or the management tree) as Mermaid or Graphviz DOT, for docs and wikis.

Drawn from the reader's tables; the ``Org`` functions convert the org to tables first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kamcore.org import Org
    from kamcore.workspace.tables import RecordTable, WorkspaceTables

#: Tier colours, shared with the HTML chart.
TIER_COLOURS = {"global": "#7c3aed", "national": "#2563eb", "key": "#059669",
                "regular": "#64748b"}
ROLE_COLOURS = {"vp": "#0f172a", "director": "#334155", "gam": "#7c3aed", "nam": "#2563eb",
                "kam": "#059669", "am": "#64748b", "support": "#d97706"}


def _nodes(org: Org, people: bool) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(id, label, class) per node and (senior, junior) edges, in file order."""
    from kamcore.exporters.tables import tables_of

    return table_nodes(tables_of(org), people)


def table_nodes(tables: WorkspaceTables, people: bool
                ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """:func:`_nodes` from the reader's tables (the first row of each id, as an Org holds)."""
    import numpy as np

    from kamcore.structure import account_index

    index = account_index(tables)
    if people:
        table, keep, up = tables.people, index.person_first, index.boss
    else:
        table, keep, up = tables.accounts, index.first, index.parent
    rows = np.flatnonzero(keep)

    def cells(name: str, source: RecordTable = table) -> list[Any]:
        column = source.column(name)
        return [None] * len(rows) if column is None else column.take(rows).to_pylist()

    ids = cells("id")
    names = cells("name")
    nodes = []
    if people:
        roles, specialties = cells("role"), cells("specialty")
        active = index.active[rows].tolist()
        for pid, name, role, specialty, on in zip(ids, names, roles, specialties, active,
                                                  strict=True):
            nodes.append((pid, f"{name}\n{role.upper()}" + (f" {specialty}" if specialty else "")
                          + ("" if on else " (inactive)"), role))
    else:
        tiers, countries, managers = cells("tier"), cells("country"), cells("manager")
        person_names = tables.people.text("name").to_pylist()
        manager_rows = index.manager[rows].tolist()
        for aid, name, tier, country, manager, at in zip(
                ids, names, tiers, countries, managers, manager_rows, strict=True):
            who = person_names[at] if at >= 0 else (manager or "no manager")
            where = f" {country}" if country else ""
            nodes.append((aid, f"{name}\n{tier}{where} · {who}", tier))
    all_ids = table.ids.to_pylist()
    linked = up[rows]
    edges = [(all_ids[int(s)], ids[i]) for i, s in enumerate(linked.tolist()) if s >= 0]
    return nodes, edges


def export_mermaid(org: Org, *, people: bool = False) -> str:
    """A Mermaid ``flowchart`` (node ids n0, n1, ... so any account id is safe)."""
    from kamcore.exporters.tables import tables_of

    return mermaid_text(tables_of(org), people=people)


def mermaid_text(tables: WorkspaceTables, *, people: bool = False) -> str:
    """:func:`export_mermaid` of the reader's tables."""
    nodes, edges = table_nodes(tables, people)
    index = {node_id: f"n{i}" for i, (node_id, _, _) in enumerate(nodes)}
    colours = ROLE_COLOURS if people else TIER_COLOURS
    lines = ["flowchart TD"]
    for name, colour in colours.items():
        lines.append(f"  classDef {name} fill:{colour},stroke:{colour},color:#ffffff")
    for node_id, label, cls in nodes:
        text = _mermaid_text(label)
        lines.append(f'  {index[node_id]}["{text}"]:::{cls}')
    for senior, junior in edges:
        lines.append(f"  {index[senior]} --> {index[junior]}")
    return "\n".join(lines) + "\n"


def _mermaid_text(label: str) -> str:
    escaped = (label.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
               .replace(">", "#gt;"))
    return escaped.replace("\n", "<br/>")


def export_dot(org: Org, *, people: bool = False) -> str:
    """A Graphviz ``digraph``: ``dot -Tsvg tree.dot -o tree.svg``."""
    from kamcore.exporters.tables import tables_of

    return dot_text(tables_of(org), people=people)


def dot_text(tables: WorkspaceTables, *, people: bool = False) -> str:
    """:func:`export_dot` of the reader's tables."""
    nodes, edges = table_nodes(tables, people)
    colours = ROLE_COLOURS if people else TIER_COLOURS
    name = "people" if people else "accounts"
    lines = [f"digraph {name} {{", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", '
             'fontcolor="white"];']
    for node_id, label, cls in nodes:
        lines.append(f"  {_dot(node_id)} [label={_dot(label)}, "
                     f'fillcolor="{colours.get(cls, "#64748b")}"];')
    for senior, junior in edges:
        lines.append(f"  {_dot(senior)} -> {_dot(junior)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

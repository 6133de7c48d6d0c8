"""The account tree (or the management tree) as Mermaid or Graphviz DOT, for docs and wikis."""

from __future__ import annotations

from kamcore.org import Org

#: Tier colours, shared with the HTML chart.
TIER_COLOURS = {"global": "#7c3aed", "national": "#2563eb", "key": "#059669",
                "regular": "#64748b"}
ROLE_COLOURS = {"vp": "#0f172a", "director": "#334155", "gam": "#7c3aed", "nam": "#2563eb",
                "kam": "#059669", "am": "#64748b", "support": "#d97706"}


def _nodes(org: Org, people: bool) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(id, label, class) per node and (senior, junior) edges, in file order."""
    if people:
        nodes = [(p.id, f"{p.name}\n{p.role.value.upper()}"
                  + (f" {p.specialty}" if p.specialty else "")
                  + ("" if p.active else " (inactive)"), p.role.value)
                 for p in org.people.values()]
        edges = [(p.reports_to, p.id) for p in org.people.values()
                 if p.reports_to in org.people]
        return nodes, edges
    nodes = []
    for a in org.accounts.values():
        manager = org.people.get(a.manager or "")
        who = manager.name if manager else (a.manager or "no manager")
        where = f" {a.country}" if a.country else ""
        nodes.append((a.id, f"{a.name}\n{a.tier.value}{where} · {who}", a.tier.value))
    edges = [(a.parent, a.id) for a in org.accounts.values() if a.parent in org.accounts]
    return nodes, edges


def export_mermaid(org: Org, *, people: bool = False) -> str:
    """A Mermaid ``flowchart`` (node ids n0, n1, ... so any account id is safe)."""
    nodes, edges = _nodes(org, people)
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
    nodes, edges = _nodes(org, people)
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

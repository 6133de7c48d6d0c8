"""The core reads as one design: no import cycles at module level anywhere in kamcore, and the
pairs that once imported each other at run time (issue 12) no longer do, even lazily."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, *, module_level: bool, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level else list(ast.walk(tree))
    targets: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        targets.update(name for name in names if name in known)
    return targets


def test_no_module_level_import_cycle():
    known = _modules()
    graph = nx.DiGraph()
    for name, path in known.items():
        graph.add_edges_from((name, target) for target in
                             _imports(path, module_level=True, known=known) if target != name)
    assert list(nx.simple_cycles(graph)) == []


@pytest.mark.parametrize("first, second", [
    ("kamcore.registry", "kamcore.plugins"),
    ("kamcore.importers.engine", "kamcore.importers.people"),
    ("kamcore.hookcall", "kamcore.plugins"),
    ("kamcore.duties", "kamcore.changes.brief"),
])
def test_these_modules_do_not_import_each_other_even_lazily(first, second):
    known = _modules()
    there = second in _imports(known[first], module_level=False, known=known)
    back = first in _imports(known[second], module_level=False, known=known)
    assert not (there and back), f"{first} and {second} import each other"


def test_hookspecs_imports_nothing_from_kamcore_at_run_time():
    known = _modules()
    assert _imports(known["kamcore.hookspecs"], module_level=True, known=known) == set()


def test_plugins_need_no_type_ignore():
    """The plugin-facing API is typed (``org.valid_fields(account, Model) -> Model | None``,
    ``SemicolonList``, ``kamcore.commands.KamContext``): plugins type-check as written."""
    root = SRC.parent
    ignores = [f"{path.relative_to(root)}:{number}"
               for pattern in ("plugins/*/src/**/*.py", "examples/*/src/**/*.py")
               for path in root.glob(pattern)
               for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if "type: ignore" in line]
    assert ignores == []

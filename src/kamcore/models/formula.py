"""Derived metrics: a formula over other metrics (``"mrr * 12"``, ``"revenue - cost"``).

Formulas come from plugins and from kam.yaml (a file users share), so they are never run as
Python: they are parsed into a small tree of metric names, numbers and ``+ - * /`` (with
parentheses and unary minus) and anything else is refused with a message.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import Any

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
}


def parse_formula(text: str) -> ast.expr:
    """The formula's tree. :raises ValueError: it is not names, numbers and ``+ - * /``."""
    if len(text) > 500:
        raise ValueError(f"derive is {len(text)} characters long; keep a formula under 500")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
        _check(tree, text)
    except (SyntaxError, RecursionError, MemoryError):
        raise ValueError(f"derive {text[:60]!r} is not a formula (metric names, numbers, "
                         "+ - * / and parentheses)") from None
    return tree


def _check(node: ast.AST, text: str) -> None:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        _check(node.left, text)
        _check(node.right, text)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        _check(node.operand, text)
    elif not (_is_name(node) or _is_number(node)):
        raise ValueError(f"derive {text!r}: only metric names, numbers, + - * / and "
                         f"parentheses are allowed, not {ast.unparse(node)!r}")


def _is_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and bool(_NAME.match(node.id))


def _is_number(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, int | float)
            and not isinstance(node.value, bool))


def formula_names(text: str) -> list[str]:
    """The metric names a formula uses, in order of first use."""
    return list(dict.fromkeys(node.id for node in ast.walk(parse_formula(text))
                              if isinstance(node, ast.Name)))


def evaluate(text: str, values: Mapping[str, Any]) -> Any:
    """The formula over ``values`` (numbers or numpy arrays, by metric name)."""
    def run(node: ast.expr) -> Any:
        if isinstance(node, ast.BinOp):
            return _OPS[type(node.op)](run(node.left), run(node.right))
        if isinstance(node, ast.UnaryOp):
            return -run(node.operand)
        if isinstance(node, ast.Name):
            return values[node.id]
        assert isinstance(node, ast.Constant)
        return node.value

    return run(parse_formula(text))


def derive_problems(formulas: Mapping[str, str | None], known: set[str]) -> dict[str, str]:
    """What is wrong with each derived metric: a name no metric has, or a loop.

    :param formulas: metric name -> its ``derive`` formula (``None`` for a plain metric).
    :param known: every declared metric name.
    :returns: metric name -> message, for the derived metrics that cannot be computed.
    """
    problems: dict[str, str] = {}
    for name, text in formulas.items():
        if text is None:
            continue
        unknown = [n for n in formula_names(text) if n not in known]
        if unknown:
            problems[name] = (f"metric {name!r} is derived from {', '.join(map(repr, unknown))}"
                              ", which no plugin and no metrics: entry declares")
    for name, text in formulas.items():
        if text is None or name in problems:
            continue
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            for used in formula_names(formulas.get(current) or "0"):
                if used == name:
                    problems[name] = f"metric {name!r} is derived from itself (through " \
                                     f"{current!r})"
                    todo = []
                    break
                if used not in seen:
                    seen.add(used)
                    todo.append(used)
    return problems

"""Derived metrics: a formula over other metrics and numeric fields (``"mrr * 12"``,
``"revenue - cost"``, ``"mrr / telecom.lines"``).

Formulas come from plugins and from kam.yaml (a file users share), so they are never run as
Python: they are parsed into a small tree of names, numbers and ``+ - * /`` (with parentheses
and unary minus) and anything else is refused with a message. A name is a metric (``mrr``) or
a plugin field (``<namespace>.<field>``, one dot, as the accounts.csv column is named).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WHAT = "metric names, <namespace>.<field> names, numbers, + - * / and parentheses"
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
        raise ValueError(f"derive {text[:60]!r} is not a formula ({_WHAT})") from None
    return tree


def _check(node: ast.AST, text: str) -> None:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        _check(node.left, text)
        _check(node.right, text)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        _check(node.operand, text)
    elif not (_is_name(node) or _is_number(node)):
        raise ValueError(f"derive {text!r}: only {_WHAT} are allowed, not "
                         f"{ast.unparse(node)!r}")


def _is_name(node: ast.AST) -> bool:
    return name_of(node) is not None


def name_of(node: ast.AST) -> str | None:
    """The metric (``mrr``) or field (``telecom.lines``) a node names, else ``None``."""
    if isinstance(node, ast.Name):
        return node.id if _NAME.match(node.id) else None
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and _NAME.match(node.value.id) and _FIELD.match(node.attr)):
        return f"{node.value.id}.{node.attr}"
    return None


def _is_number(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, int | float)
            and not isinstance(node.value, bool))


def formula_names(text: str) -> list[str]:
    """The metric and field names a formula uses, in order of first use.

    >>> formula_names("(mrr - cost) / telecom.lines + mrr")
    ['mrr', 'cost', 'telecom.lines']
    """
    names: list[str] = []

    def collect(node: ast.AST) -> None:
        name = name_of(node)
        if name is not None:
            names.append(name)  # a field's namespace is not a name of its own
        else:
            for child in ast.iter_child_nodes(node):
                collect(child)

    collect(parse_formula(text))
    return list(dict.fromkeys(names))


def field_names(names: Iterable[str]) -> list[str]:
    """The ``<namespace>.<field>`` names among formula names (the rest are metrics)."""
    return [name for name in names if "." in name]


def evaluate(text: str, values: Mapping[str, Any]) -> Any:
    """The formula over ``values`` (numbers or numpy arrays, by metric or field name)."""
    def run(node: ast.expr) -> Any:
        if isinstance(node, ast.BinOp):
            return _OPS[type(node.op)](run(node.left), run(node.right))
        if isinstance(node, ast.UnaryOp):
            return -run(node.operand)
        name = name_of(node)
        if name is not None:
            return values[name]
        assert isinstance(node, ast.Constant)
        return node.value

    return run(parse_formula(text))


def derive_problems(formulas: Mapping[str, str | None], known: Collection[str], *,
                    text_fields: Collection[str] = ()) -> dict[str, str]:
    """What is wrong with each derived metric: a name no metric or numeric field has, or a loop.

    :param formulas: metric name -> its ``derive`` formula (``None`` for a plain metric).
    :param known: every declared metric name and numeric field (``telecom.lines``).
    :param text_fields: fields that exist but hold no number (``telecom.sla_tier``).
    :returns: metric name -> message, for the derived metrics that cannot be computed.
    """
    problems: dict[str, str] = {}
    for name, text in formulas.items():
        if text is None:
            continue
        uses = formula_names(text)
        unknown = [n for n in uses if n not in known and n not in text_fields]
        texts = [n for n in uses if n in text_fields and n not in known]
        if unknown:
            fields = field_names(unknown)
            problems[name] = (f"metric {name!r} is derived from {', '.join(map(repr, unknown))}"
                              ", which no plugin and no metrics: entry declares"
                              + (" (a field needs a plugin whose account model has it)"
                                 if fields else ""))
        elif texts:
            problems[name] = (f"metric {name!r} is derived from {', '.join(map(repr, texts))}"
                              ", which is not a number field (a formula takes int, float or "
                              "Decimal fields)")
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

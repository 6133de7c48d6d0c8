"""A plugin field's value as the plugin's model makes it, for the commands that compute with
fields: ``kam rollup --by <namespace>.<field>`` groups by it, a derived metric
(``derive="mrr / telecom.lines"``) computes with it.

One place, so that a group key and a formula read ``" 12 "`` (or ``Gold``) the way the
plugin's validators do; a value the model refuses is ``kam validate``'s to report (KAM140)
and counts as missing here.
"""

from __future__ import annotations

import types
import typing
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    from pydantic import BaseModel

    from kamcore.registry import Registry

__all__ = ["field_kinds", "field_numbers", "field_of", "normal_value"]

_NUMBERS = (int, float, Decimal)


def field_of(registry: Registry | None, name: str) -> tuple[type[BaseModel], str] | None:
    """The account model and field a ``<namespace>.<field>`` name refers to, else ``None``."""
    namespace, _, field = name.partition(".")
    fields = registry.fields.get(namespace) if registry is not None and field else None
    model = fields.account if fields is not None else None
    if model is None or field not in model.model_fields:
        return None
    return model, field


def normal_value(model: type[BaseModel], field: str, value: object) -> Any:
    """``value`` as ``model`` makes it for ``field`` (an enum member as its value).

    :raises ValueError: the model refuses it (pydantic's ``ValidationError`` is one).
    """
    shell = model.model_construct()
    try:
        model.__pydantic_validator__.validate_assignment(shell, field, value)
    except Exception as exc:  # a plugin validator may raise anything: the value is refused
        raise ValueError(str(exc)) from None
    normal = getattr(shell, field)
    return getattr(normal, "value", normal)


def _is_number(annotation: object) -> bool:
    """Whether a field's type holds numbers only (``int``, ``float | None``, ``Decimal``)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(kinds) and all(_is_number(a) for a in kinds)
    return (isinstance(annotation, type) and issubclass(annotation, _NUMBERS)
            and not issubclass(annotation, bool))


def field_kinds(registry: Registry) -> tuple[set[str], set[str]]:
    """Every account field plugins declare, as ``<namespace>.<field>`` names: the number
    fields (a derived metric may use them) and the others.

    Namespaces two plugins claim count too (the conflict is reported on its own).
    """
    numbers: set[str] = set()
    others: set[str] = set()
    sets = [*registry.fields.values(), *(fs for rivals in registry.contested.get(
        "fields", {}).values() for fs in rivals.values())]
    for fields in sets:
        model = getattr(fields, "account", None)
        for name, info in (model.model_fields.items() if model is not None else ()):
            (numbers if _is_number(info.annotation) else others).add(
                f"{fields.namespace}.{name}")
    return numbers, others


def field_numbers(registry: Registry | None, name: str, column: pa.Array | None,
                  length: int) -> np.ndarray:
    """A number field's cells as float64 (NaN where empty or refused by the model).

    :param column: the accounts' text column of that field (``None``: the file has no such
        column, every account is missing it).
    :param length: how many accounts.
    """
    import numpy as np

    found = field_of(registry, name)
    if column is None or found is None:
        return np.full(length, np.nan)
    model, field = found
    enc = column.dictionary_encode()
    table = np.full(len(enc.dictionary) + 1, np.nan)
    for i, cell in enumerate(enc.dictionary.to_pylist()):
        try:
            value = normal_value(model, field, cell)
        except ValueError:
            continue  # KAM140 reports it
        if isinstance(value, _NUMBERS) and not isinstance(value, bool):
            table[i] = float(value)
    codes = enc.indices.fill_null(len(table) - 1).to_numpy(zero_copy_only=False)
    return table[codes]

"""Rollups: metrics summed (or counted, min/max-ed, averaged) up the account tree, the
management chain, or by a field, with facts over time and FX conversion.

The hot path never builds an object per account: ``columnar`` reads files into arrays,
``compile`` puts the tree in level order once, ``engine`` aggregates with numpy ``reduceat``.

``kamcore.rollup`` is this package *and* callable: ``kamcore.rollup(org, ["revenue"])`` is
:func:`kamcore.rollup.api.rollup`, while ``kamcore.rollup.account_totals`` stays reachable.
(A package and a function cannot share the name otherwise: importing any submodule would
rebind ``kamcore.rollup`` to the package.)
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

__all__ = ["RollupResult", "account_totals", "rollup"]


def __getattr__(name: str) -> Any:
    if name in ("rollup", "account_totals"):
        from kamcore.rollup import api

        return getattr(api, name)
    if name == "RollupResult":
        from kamcore.rollup.result import RollupResult

        return RollupResult
    raise AttributeError(f"module 'kamcore.rollup' has no attribute {name!r}")


class _CallablePackage(types.ModuleType):
    """Makes ``kamcore.rollup(...)`` call :func:`kamcore.rollup.api.rollup`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from kamcore.rollup.api import rollup

        return rollup(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage

if TYPE_CHECKING:
    from kamcore.rollup.api import account_totals, rollup
    from kamcore.rollup.result import RollupResult

"""The core metrics every org has: revenue, orders, receivables."""

from __future__ import annotations

from collections.abc import Callable

from kamcore.hookspecs import hookimpl


@hookimpl
def kam_register_metrics(register: Callable[..., None]) -> None:
    register("revenue", label="Revenue", unit="money", aggregation="sum",
             description="Booked revenue in the account's currency.")
    register("orders", label="Orders", unit="orders", aggregation="sum",
             description="Number of orders.")
    register("receivables", label="Receivables", unit="money", aggregation="sum",
             description="Open invoices not yet paid.")

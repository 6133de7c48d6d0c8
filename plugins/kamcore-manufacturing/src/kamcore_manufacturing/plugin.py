"""The manufacturing plugin: industry, fields, backlog metric, Incoterms rules and duties.

Plain functions first; the hook implementations kamcore calls are at the bottom.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kamcore import (
    Duty,
    RegisterFields,
    RegisterIndustry,
    RegisterMetric,
    RegisterRule,
    Violation,
    hookimpl,
    serves,
)
from kamcore_manufacturing.incoterms import ANY_MODE_INSTEAD, INCOTERMS_2020, SEA_ONLY, WATERBORNE

if TYPE_CHECKING:
    from kamcore import Account, Org
    from kamcore_manufacturing.fields import ManufacturingAccount

NAMESPACE = "manufacturing"
INDUSTRY = "manufacturing"


def fields_of(org: Org, account: Account) -> ManufacturingAccount | None:
    """The account's fields; ``None`` when absent or invalid (KAM140 reports those)."""
    from kamcore_manufacturing.fields import ManufacturingAccount

    return org.valid_fields(account, ManufacturingAccount)


def manufacturing_accounts(org: Org) -> Iterator[tuple[Account, ManufacturingAccount]]:
    """Accounts with valid manufacturing fields."""
    from kamcore_manufacturing.fields import ManufacturingAccount

    yield from org.with_fields(ManufacturingAccount)


def check_named_place(org: Org) -> Iterator[Violation]:
    """MFG101: an Incoterm always names a place ("FCA Hamburg"); without it, it means nothing."""
    for account, fields in manufacturing_accounts(org):
        if fields.incoterm and not fields.named_place:
            yield Violation(account.id, f"Incoterm {fields.incoterm} "
                            f"({INCOTERMS_2020[fields.incoterm]}) names no place",
                            "fill manufacturing.named_place, e.g. 'Rotterdam port'",
                            column="manufacturing.named_place")


def check_sea_only(org: Org) -> Iterator[Violation]:
    """MFG102: FAS, FOB, CFR and CIF are for sea and inland waterway transport only."""
    for account, fields in manufacturing_accounts(org):
        if (fields.incoterm in SEA_ONLY and fields.transport is not None
                and fields.transport not in WATERBORNE):
            instead = ANY_MODE_INSTEAD[fields.incoterm]
            yield Violation(account.id, f"Incoterm {fields.incoterm} is for sea and inland "
                            f"waterway transport only, but transport is {fields.transport}",
                            f"use {instead} ({INCOTERMS_2020[instead]}), its any-mode "
                            "counterpart", column="manufacturing.incoterm")


def check_facing(org: Org) -> Iterator[Violation]:
    """MFG103: a manufacturing account says whether it is supplier- or client-facing."""
    for account in org.serving(INDUSTRY):
        fields = fields_of(org, account)
        if fields is None and NAMESPACE in account.ext:
            continue  # invalid: KAM140
        if fields is None or fields.facing is None:
            yield Violation(account.id, "does not say whether it is supplier- or client-facing; "
                            "its duties depend on it", "set manufacturing.facing to supplier "
                            "or client", column="manufacturing.facing")


#: id, title, cadence, who. ``who`` is "manager" or the support specialty it is delegated to.
SUPPLIER_DUTIES: tuple[tuple[str, str, str, str], ...] = (
    ("manufacturing.negotiate", "Negotiate prices and terms with the supplier", "quarterly",
     "manager"),
    ("manufacturing.supply-chain", "Manage supply-chain functions: orders, deliveries, stock",
     "weekly", "logistics"),
    ("manufacturing.materials", "Secure quality materials: specifications, audits, samples",
     "monthly", "quality"),
)
CLIENT_DUTIES: tuple[tuple[str, str, str, str], ...] = (
    ("manufacturing.fit", "Make sure the products meet the client's needs", "quarterly",
     "manager"),
    ("manufacturing.introduce", "Introduce new products to the client", "quarterly", "manager"),
    ("manufacturing.alert", "Alert manufacturing managers to upcoming orders", "weekly",
     "manager"),
)
TERMS_DUTY = ("manufacturing.incoterms", "Check the delivery terms (Incoterms) on contracts",
              "yearly", "manager")


def duties_for(account: Account, org: Org) -> list[Duty]:
    """Supplier- or client-side duties; both while the account does not say which it is."""
    fields = fields_of(org, account)
    facing = fields.facing if fields is not None else None
    rows = [*(SUPPLIER_DUTIES if facing != "client" else ()),
            *(CLIENT_DUTIES if facing != "supplier" else ()), TERMS_DUTY]
    return [Duty(id=i, title=t, cadence=c, who=w, source=NAMESPACE) for i, t, c, w in rows]


# -- hooks ----------------------------------------------------------------------------------


@hookimpl
def kam_register_industries(register: RegisterIndustry) -> None:
    register(INDUSTRY, aliases=("manufacturer", "manufacturers", "industrial", "production",
                                "factory"),
             description="Manufacturers, seen from the supplier or the client side.")


@hookimpl
def kam_register_fields(register: RegisterFields) -> None:
    from kamcore_manufacturing.fields import ManufacturingAccount

    register(NAMESPACE, account=ManufacturingAccount,
             crm={"incoterm": ("Incoterms__c", "Incoterm", "Incoterms"),
                  "named_place": ("Incoterm_Place__c", "Named Place"),
                  "lead_time_days": ("Lead_Time_Days__c", "Lead Time (days)")})


@hookimpl
def kam_register_metrics(register: RegisterMetric) -> None:
    register("order_backlog", label="Order backlog", unit="money", aggregation="sum",
             periods="last", description="Value of orders received and not yet delivered "
             "(point in time: a year's backlog is its last period's, not the sum).")
    register("backlog_per_day", label="Backlog per lead-time day", unit="money",
             aggregation="sum", derive="order_backlog / manufacturing.lead_time_days",
             description="What the plants must ship each day to clear the backlog within the "
             "client's lead time (summed: the daily output a manager's clients need).")


@hookimpl
def kam_register_rules(register: RegisterRule) -> None:
    register("MFG101", "incoterm-named-place", check_named_place, severity="error",
             summary="An Incoterm names its place.",
             fields=(NAMESPACE,))
    register("MFG102", "incoterm-sea-only", check_sea_only, severity="error",
             summary="FAS, FOB, CFR and CIF are used for sea or inland waterway transport only.",
             fields=(NAMESPACE,))
    register("MFG103", "facing-known", check_facing, severity="warning",
             summary="A manufacturing account is supplier- or client-facing.",
             industries=(INDUSTRY,))


@hookimpl
def kam_account_duties(account: Account, org: Org) -> list[Duty] | None:
    if not serves(org, account, INDUSTRY):
        return None
    return duties_for(account, org)

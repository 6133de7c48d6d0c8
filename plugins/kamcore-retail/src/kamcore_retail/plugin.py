"""The retail plugin: industry, fields, store-count metric, GLN rules and retail duties.

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
from kamcore_retail.checks import gln_problem

if TYPE_CHECKING:
    from kamcore import Account, Org
    from kamcore_retail.fields import RetailAccount

NAMESPACE = "retail"
INDUSTRY = "retail"


def fields_of(org: Org, account: Account) -> RetailAccount | None:
    """The account's retail fields, or ``None`` when it has none or they are invalid (KAM140)."""
    from kamcore_retail.fields import RetailAccount

    return org.valid_fields(account, RetailAccount)


def retail_accounts(org: Org) -> Iterator[tuple[Account, RetailAccount]]:
    """Accounts with valid retail fields."""
    from kamcore_retail.fields import RetailAccount

    yield from org.with_fields(RetailAccount)


def check_gln(org: Org) -> Iterator[Violation]:
    """RTL101: the GLN's last digit is its GS1 mod-10 check digit."""
    for account, fields in retail_accounts(org):
        if fields.gln is None:
            continue
        problem = gln_problem(fields.gln)
        if problem:
            yield Violation(account.id, f"GLN {fields.gln}: {problem}",
                            "copy the GLN from the retailer's GS1 record; a typo changes the "
                            "check digit", column="retail.gln")


def check_store_channel(org: Org) -> Iterator[Violation]:
    """RTL102: the stores channel and the store count agree (when the count is in accounts.csv).

    A missing store_count says nothing: the count may live in the facts table.
    """
    for account, fields in retail_accounts(org):
        stores = account.metrics.get("store_count")
        if stores is None or not fields.channels:
            continue
        if "stores" in fields.channels and stores == 0:
            yield Violation(account.id, "sells through stores but store_count is 0",
                            "fill store_count with the number of the retailer's stores, or "
                            "remove 'stores' from retail.channels", column="store_count")
        elif stores > 0 and "stores" not in fields.channels:
            yield Violation(account.id, f"has {stores:g} stores but 'stores' is not among its "
                            f"channels ({';'.join(fields.channels)})",
                            "add 'stores' to retail.channels, or clear store_count",
                            column="retail.channels")


#: id, title, cadence, who. ``who`` is "manager" or the support specialty it is delegated to.
RETAIL_DUTIES: tuple[tuple[str, str, str, str], ...] = (
    ("retail.selection", "Select products for the retailer's range", "quarterly",
     "merchandising"),
    ("retail.inventory", "Manage inventory levels with the retailer", "weekly", "logistics"),
    ("retail.product-info", "Provide product information to the retailer", "monthly",
     "merchandising"),
    ("retail.market", "Strategic planning and analysis of the retailer's market", "quarterly",
     "analytics"),
)
STORE_DUTIES = (
    ("retail.training", "Arrange training for the retailer's sales staff", "quarterly",
     "manager"),
)
ONLINE_DUTIES = (
    ("retail.online", "Keep the retailer's online listings and content up to date", "monthly",
     "merchandising"),
)


def duties_for(account: Account, org: Org) -> list[Duty]:
    """The retail duties of an account; store and online duties follow its channels."""
    rows = list(RETAIL_DUTIES)
    fields = fields_of(org, account)
    channels = list(fields.channels) if fields is not None else []
    if not channels or "stores" in channels or account.metrics.get("store_count"):
        rows += STORE_DUTIES
    if not channels or "online" in channels or "marketplace" in channels:
        rows += ONLINE_DUTIES
    return [Duty(id=i, title=t, cadence=c, who=w, source=NAMESPACE) for i, t, c, w in rows]


# -- hooks ----------------------------------------------------------------------------------


@hookimpl
def kam_register_industries(register: RegisterIndustry) -> None:
    register(INDUSTRY, aliases=("retailer", "retailers", "retail trade", "stores",
                                "e-commerce", "ecommerce"),
             description="Producers and wholesalers selling through retailers, online or in "
             "stores.")


@hookimpl
def kam_register_fields(register: RegisterFields) -> None:
    from kamcore_retail.fields import RetailAccount

    register(NAMESPACE, account=RetailAccount,
             crm={"gln": ("GLN__c", "GLN"), "channels": ("Channels__c", "Sales Channels")})


@hookimpl
def kam_register_metrics(register: RegisterMetric) -> None:
    register("store_count", label="Stores", unit="stores", aggregation="sum",
             periods="last", description="Number of the retailer's physical stores (point in "
             "time: the latest count in a period range).")


@hookimpl
def kam_register_rules(register: RegisterRule) -> None:
    register("RTL101", "gln-check-digit", check_gln, severity="error",
             summary="A retailer's GLN has a valid GS1 check digit.",
             fields=(NAMESPACE,))
    register("RTL102", "store-channel", check_store_channel, severity="warning",
             summary="The stores channel and the store count agree.",
             fields=(NAMESPACE,))


@hookimpl
def kam_account_duties(account: Account, org: Org) -> list[Duty] | None:
    if not serves(org, account, INDUSTRY):
        return None
    return duties_for(account, org)

"""The advertising plugin: industry, fields, ad-spend metric, billing rules and duties.

Plain functions first; the hook implementations kamcore calls are at the bottom.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kamcore import (
    Duty,
    RegisterExporter,
    RegisterFields,
    RegisterIndustry,
    RegisterMetric,
    RegisterRule,
    Violation,
    hookimpl,
    serves,
)

if TYPE_CHECKING:
    from kamcore import Account, Org
    from kamcore.workspace.tables import WorkspaceTables
    from kamcore_advertising.fields import AdvertisingAccount

NAMESPACE = "advertising"
INDUSTRY = "advertising"


def fields_of(org: Org, account: Account) -> AdvertisingAccount | None:
    """The account's fields; ``None`` when absent or invalid (KAM140 reports those)."""
    from kamcore_advertising.fields import AdvertisingAccount

    return org.valid_fields(account, AdvertisingAccount)


def advertising_accounts(org: Org) -> Iterator[tuple[Account, AdvertisingAccount]]:
    """Accounts with valid advertising fields."""
    from kamcore_advertising.fields import AdvertisingAccount

    yield from org.with_fields(AdvertisingAccount)


def check_rate(org: Org) -> Iterator[Violation]:
    """ADV101: every billing model needs its rate, or nobody can bill the account."""
    from kamcore_advertising.fields import RATE_MEANING

    for account, fields in advertising_accounts(org):
        if fields.billing_model and fields.rate is None:
            meaning = RATE_MEANING[fields.billing_model]
            yield Violation(account.id, f"billing model {fields.billing_model} has no rate "
                            f"({meaning})", "fill advertising.rate in the account's currency",
                            column="advertising.rate")


def check_campaign_spend(org: Org) -> Iterator[Violation]:
    """ADV102: running campaigns with zero ad spend in accounts.csv are not being billed.

    A missing ad_spend says nothing: the spend may live in the facts table.
    """
    for account, fields in advertising_accounts(org):
        if fields.campaigns and account.metrics.get("ad_spend") == 0:
            yield Violation(account.id, f"{len(fields.campaigns)} running campaign(s) but "
                            "ad_spend is 0", "record this month's spend in the ad_spend "
                            "column, or clear advertising.campaigns", column="ad_spend")


def check_budget(org: Org) -> Iterator[Violation]:
    """ADV103: spend above the agreed monthly budget needs the client's approval."""
    for account, fields in advertising_accounts(org):
        spend = account.metrics.get("ad_spend")
        if fields.monthly_budget is not None and spend is not None and (
                spend > fields.monthly_budget):
            yield Violation(account.id, f"ad_spend {spend:,.0f} is over the monthly budget of "
                            f"{fields.monthly_budget:,.0f}", "get the client's approval for "
                            "the overspend, or raise advertising.monthly_budget",
                            column="ad_spend")


#: id, title, cadence, who. ``who`` is "manager" or the support specialty it is delegated to.
ADVERTISING_DUTIES: tuple[tuple[str, str, str, str], ...] = (
    ("advertising.launch", "Launch new advertising campaigns", "monthly", "manager"),
    ("advertising.change", "Change running campaigns at the client's request", "weekly",
     "manager"),
    ("advertising.pricing", "Price the advertising: rates, packages, billing model",
     "quarterly", "manager"),
    ("advertising.billing", "Bill the advertising under the agreed billing model", "monthly",
     "billing"),
    ("advertising.copy", "Coordinate copywriters on ad texts", "weekly", "copywriting"),
    ("advertising.seo", "Coordinate SEO specialists", "monthly", "seo"),
    ("advertising.usability", "Coordinate usability specialists on landing pages",
     "quarterly", "usability"),
    ("advertising.contextual", "Coordinate contextual-advertising specialists", "weekly",
     "contextual-ads"),
    ("advertising.analytics", "Review campaign results with the analytics department",
     "monthly", "analytics"),
)


# -- hooks ----------------------------------------------------------------------------------


@hookimpl
def kam_register_industries(register: RegisterIndustry) -> None:
    register(INDUSTRY, aliases=("ads", "advertiser", "advertisers", "media", "marketing"),
             description="Businesses that buy, or may buy, advertising.")


@hookimpl
def kam_register_fields(register: RegisterFields) -> None:
    from kamcore_advertising.fields import AdvertisingAccount

    register(NAMESPACE, account=AdvertisingAccount,
             crm={"billing_model": ("Billing_Model__c", "Billing Model"),
                  "monthly_budget": ("Monthly_Budget__c", "Monthly Budget")})


@hookimpl
def kam_register_metrics(register: RegisterMetric) -> None:
    register("ad_spend", label="Ad spend", unit="money", aggregation="sum",
             description="The client's advertising spend in the month.")


@hookimpl
def kam_register_rules(register: RegisterRule) -> None:
    register("ADV101", "billing-rate", check_rate, severity="error",
             summary="A billing model comes with its rate.",
             fields=(NAMESPACE,))
    register("ADV102", "campaigns-have-spend", check_campaign_spend, severity="warning",
             summary="Running campaigns do not show zero ad spend.",
             fields=(NAMESPACE,))
    register("ADV103", "spend-within-budget", check_budget, severity="warning",
             summary="Ad spend stays within the agreed monthly budget.",
             fields=(NAMESPACE,))


@hookimpl
def kam_account_duties(account: Account, org: Org) -> list[Duty] | None:
    if not serves(org, account, INDUSTRY):
        return None
    return [Duty(id=i, title=t, cadence=c, who=w, source=NAMESPACE)
            for i, t, c, w in ADVERTISING_DUTIES]


def media_plan(tables: WorkspaceTables) -> str:
    """``kam export ORG --format media_plan``: each advertiser's campaigns, channels and
    budget, as CSV for the media team (formula cells neutralised)."""
    from kamcore.commands import render_csv

    accounts = tables.accounts
    ids = accounts.ids.to_pylist()
    names = accounts.text("name").to_pylist()
    wanted = ("campaigns", "channels", "billing_model", "monthly_budget")
    columns = {name: accounts.column(f"{NAMESPACE}.{name}") for name in wanted}
    values = {name: col.to_pylist() if col is not None else [None] * len(ids)
              for name, col in columns.items()}
    rows = [{"id": ids[i], "name": names[i], **{n: values[n][i] for n in wanted}}
            for i in range(len(ids)) if any(values[n][i] for n in wanted)]
    return render_csv(rows, ("id", "name", *wanted))


@hookimpl
def kam_register_exporters(register: RegisterExporter) -> None:
    register("media_plan", media_plan, description="Campaigns, channels and budget per "
             "advertiser (CSV)")

"""The IT/software plugin: industry, fields, ticket and ARR metrics, contract rules, duties.

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

if TYPE_CHECKING:
    from kamcore import Account, Org
    from kamcore_it_software.fields import ITSoftwareAccount

NAMESPACE = "it_software"
INDUSTRY = "it software"


def fields_of(org: Org, account: Account) -> ITSoftwareAccount | None:
    """The account's fields; ``None`` when absent or invalid (KAM140 reports those)."""
    from kamcore_it_software.fields import ITSoftwareAccount

    return org.valid_fields(account, ITSoftwareAccount)


def it_accounts(org: Org) -> Iterator[tuple[Account, ITSoftwareAccount]]:
    """Accounts with valid IT/software fields."""
    from kamcore_it_software.fields import ITSoftwareAccount

    yield from org.with_fields(ITSoftwareAccount)


def check_renewal_date(org: Org) -> Iterator[Violation]:
    """ITS101: a subscription has a renewal date, or it lapses unnoticed."""
    for account, fields in it_accounts(org):
        if fields.contract == "subscription" and fields.renewal_date is None:
            yield Violation(account.id, "subscription without a renewal date",
                            "fill it_software.renewal_date (YYYY-MM-DD)",
                            column="it_software.renewal_date")


def check_arr_recurring(org: Org) -> Iterator[Violation]:
    """ITS102: annual recurring revenue only comes from recurring (subscription, support) deals."""
    from kamcore_it_software.fields import RECURRING

    for account, fields in it_accounts(org):
        if account.metrics.get("arr") and fields.contract and fields.contract not in RECURRING:
            yield Violation(account.id, f"has arr but its contract is {fields.contract}, which "
                            "does not recur", "move the amount to revenue, or correct "
                            "it_software.contract", column="arr")


def check_dev_team(org: Org) -> Iterator[Violation]:
    """ITS103: premium and enterprise SLAs promise a named development team as contact."""
    for account, fields in it_accounts(org):
        if fields.sla in ("premium", "enterprise") and not fields.dev_team:
            yield Violation(account.id, f"{fields.sla} SLA but no development team named",
                            "fill it_software.dev_team", column="it_software.dev_team")


#: id, title, cadence, who. ``who`` is "manager" or the support specialty it is delegated to.
IT_DUTIES: tuple[tuple[str, str, str, str], ...] = (
    ("it.liaison", "Liaise between the development teams and the client", "weekly", "manager"),
    ("it.updates", "Send project updates to the client", "weekly", "manager"),
    ("it.troubleshoot", "Troubleshoot customer and account issues", "as needed",
     "technical-support"),
    ("it.billing", "Resolve billing issues", "as needed", "billing"),
    ("it.account-details", "Change account details: users, licences, contacts", "as needed",
     "customer-service"),
)
RENEWAL_DUTY = ("it.renewal", "Prepare the subscription renewal", "yearly", "manager")


def duties_for(account: Account, org: Org) -> list[Duty]:
    """The IT duties; subscriptions add the renewal."""
    fields = fields_of(org, account)
    rows = list(IT_DUTIES)
    duties = [Duty(id=i, title=t, cadence=c, who=w, source=NAMESPACE) for i, t, c, w in rows]
    if fields is not None and fields.contract == "subscription":
        i, t, c, w = RENEWAL_DUTY
        duties.append(Duty(id=i, title=t, cadence=c, who=w, source=NAMESPACE,
                           due=fields.renewal_date))  # the renewal is due on its date
    return duties


# -- hooks ----------------------------------------------------------------------------------


@hookimpl
def kam_register_industries(register: RegisterIndustry) -> None:
    register(INDUSTRY, aliases=("it", "software", "saas", "it services",
                                "information technology"),
             description="Software and IT services clients.")


@hookimpl
def kam_register_fields(register: RegisterFields) -> None:
    from kamcore_it_software.fields import ITSoftwareAccount

    register(NAMESPACE, account=ITSoftwareAccount,
             crm={"renewal_date": ("Renewal_Date__c", "Renewal Date", "Contract End Date"),
                  "products": ("Products__c", "Products")})


@hookimpl
def kam_register_metrics(register: RegisterMetric) -> None:
    register("open_tickets", label="Open tickets", unit="tickets", aggregation="sum",
             periods="last", description="Support tickets open at the end of the period.")
    register("arr", label="ARR", unit="money", aggregation="sum", periods="last",
             description="Annual recurring revenue of subscription and support contracts "
             "(point in time: a year is its last period's ARR, not the sum).")


@hookimpl
def kam_register_rules(register: RegisterRule) -> None:
    register("ITS101", "subscription-renewal-date", check_renewal_date, severity="warning",
             summary="A subscription has a renewal date.",
             fields=(NAMESPACE,))
    register("ITS102", "arr-recurring-only", check_arr_recurring, severity="error",
             summary="ARR only on subscription or support contracts.",
             fields=(NAMESPACE,))
    register("ITS103", "sla-dev-team", check_dev_team, severity="warning",
             summary="Premium and enterprise SLAs name the development team.",
             fields=(NAMESPACE,))


@hookimpl
def kam_account_duties(account: Account, org: Org) -> list[Duty] | None:
    if not serves(org, account, INDUSTRY):
        return None
    return duties_for(account, org)

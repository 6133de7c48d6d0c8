"""The government plugin: industry, fields, contract-value metric, budget rules and duties.

Plain functions first; the hook implementations kamcore calls are at the bottom.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from kamcore import (
    Duty,
    RegisterFields,
    RegisterIndustry,
    RegisterMetric,
    RegisterRule,
    RegisterSettings,
    Violation,
    hookimpl,
    serves,
)

if TYPE_CHECKING:
    from kamcore import Account, Org, Plan
    from kamcore_government.fields import GovernmentAccount

NAMESPACE = "government"
INDUSTRY = "government"


def fields_of(org: Org, account: Account) -> GovernmentAccount | None:
    """The account's fields; ``None`` when absent or invalid (KAM140 reports those)."""
    from kamcore_government.fields import GovernmentAccount

    return org.valid_fields(account, GovernmentAccount)


def government_accounts(org: Org) -> Iterator[tuple[Account, GovernmentAccount]]:
    """Accounts with valid government fields."""
    from kamcore_government.fields import GovernmentAccount

    yield from org.with_fields(GovernmentAccount)


def check_budget(org: Org) -> Iterator[Violation]:
    """GOV101: a public contract cannot exceed the budget approved for it."""
    for account, fields in government_accounts(org):
        value = account.metrics.get("contract_value")
        if fields.budget_ceiling is not None and value is not None and (
                value > fields.budget_ceiling):
            yield Violation(account.id, f"contract_value {value:,.0f} exceeds the budget "
                            f"ceiling of {fields.budget_ceiling:,.0f}", "renegotiate the scope, "
                            "or record the amended budget in government.budget_ceiling",
                            column="contract_value")


def check_standards(org: Org) -> Iterator[Violation]:
    """GOV102: contractors must know which standards and regulations their work must meet."""
    for account, fields in government_accounts(org):
        if fields.contractors and not fields.standards:
            yield Violation(account.id, f"{len(fields.contractors)} contractor(s) but no "
                            "standards or regulations to hold them to",
                            "list them in government.standards, e.g. ISO 9001;WCAG 2.1",
                            column="government.standards")


def check_reference(org: Org) -> Iterator[Violation]:
    """GOV103: tendered and framework contracts carry their published reference."""
    from kamcore_government.fields import REFERENCED

    for account, fields in government_accounts(org):
        if fields.procurement in REFERENCED and not fields.contract_ref:
            yield Violation(account.id, f"{fields.procurement} contract without a reference",
                            "copy the tender or framework reference into "
                            "government.contract_ref", column="government.contract_ref")


#: id, title, cadence, who. ``who`` is "manager" or the support specialty it is delegated to.
GOVERNMENT_DUTIES: tuple[tuple[str, str, str, str], ...] = (
    ("gov.budget", "Track the client's budget and fiscal year", "monthly", "manager"),
    ("gov.negotiate", "Negotiate contracts, amendments and prices", "quarterly", "manager"),
    ("gov.requirements", "Make sure contractors understand the project requirements",
     "monthly", "manager"),
    ("gov.quality", "Check contractors deliver to quality standards and regulations",
     "monthly", "compliance"),
    ("gov.tender", "Prepare tender and framework documents", "as needed", "bid-management"),
)
#: Common duties a public body's account has not: procurement rules leave no room for them.
NOT_FOR_PUBLIC_BODIES = frozenset({"core.loyalty", "core.brand-campaigns"})


# -- hooks ----------------------------------------------------------------------------------


@hookimpl
def kam_register_industries(register: RegisterIndustry) -> None:
    register(INDUSTRY, aliases=("public sector", "public administration", "gov", "govt",
                                "agency"),
             description="Public bodies: budgets, negotiations and contractors.")


@hookimpl
def kam_register_fields(register: RegisterFields) -> None:
    from kamcore_government.fields import GovernmentAccount

    register(NAMESPACE, account=GovernmentAccount,
             crm={"contract_ref": ("Contract_Reference__c", "Contract Reference",
                                   "Tender Reference"),
                  "procurement": ("Procurement_Procedure__c", "Procurement Procedure")})


@hookimpl
def kam_register_metrics(register: RegisterMetric) -> None:
    register("contract_value", label="Contract value", unit="money", aggregation="sum",
             description="Value of the public contracts held with the body.")


@hookimpl
def kam_register_rules(register: RegisterRule) -> None:
    register("GOV101", "within-budget", check_budget, severity="error",
             summary="Contract value stays within the budget ceiling.",
             fields=(NAMESPACE,))
    register("GOV102", "contractor-standards", check_standards, severity="warning",
             summary="Contractors come with the standards they must meet.",
             fields=(NAMESPACE,))
    register("GOV103", "contract-reference", check_reference, severity="warning",
             summary="Tendered and framework contracts carry their reference.",
             fields=(NAMESPACE,))


@hookimpl
def kam_account_duties(account: Account, org: Org) -> list[Duty] | None:
    if not serves(org, account, INDUSTRY):
        return None
    return [Duty(id=i, title=t, cadence=c, who=w, source=NAMESPACE)
            for i, t, c, w in GOVERNMENT_DUTIES]


@hookimpl(wrapper=True, specname="kam_account_duties")
def drop_core_duties(account: Account, org: Org
                     ) -> Generator[None, list[list[Duty]], list[list[Duty]]]:
    """A public body buys by procurement rules: no loyalty programme, no brand campaigns."""
    results = yield
    if not serves(org, account, INDUSTRY):
        return results
    return [[duty for duty in result if duty.id not in NOT_FOR_PUBLIC_BODIES]
            for result in results]


# -- settings and change checks (hook API 1.0) ----------------------------------------------


def _settings_model() -> type:
    from kamcore_government.settings import GovernmentSettings

    return GovernmentSettings


def check_handover_of_contracts(plan: Plan) -> Iterator[Violation]:
    """A public contract whose accountable manager changes: the contracting authority is told
    (kam.yaml ``plugins: {government: {authority_notice: false}}`` turns the warning off)."""
    from kamcore import plugin_settings

    if not plugin_settings(plan.after, _settings_model()).authority_notice:
        return
    for change in plan.changes:
        if change.kind != "account" or not change.before or not change.after:
            continue
        if change.before.get("manager") == change.after.get("manager"):
            continue
        account = plan.after.accounts.get(change.id)
        if account is None or not serves(plan.after, account, INDUSTRY):
            continue
        fields = fields_of(plan.after, account)
        if fields is not None and fields.contract_ref:
            yield Violation(account.id, f"contract {fields.contract_ref} changes its "
                            "accountable manager", "tell the contracting authority in writing "
                            "before the hand-over takes effect")


@hookimpl
def kam_register_settings(register: RegisterSettings) -> None:
    register(_settings_model())


@hookimpl(specname="kam_register_rules")
def register_change_checks(register: RegisterRule) -> None:
    register("GOV901", "contract-handover-notice", check_handover_of_contracts,
             severity="warning", form="plan",
             summary="A public contract changing hands is announced to the authority.")

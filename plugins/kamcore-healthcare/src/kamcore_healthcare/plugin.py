"""The healthcare plugin: industry, fields, claims metrics, NPI rules and healthcare duties.

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
    Tier,
    Violation,
    hookimpl,
    serves,
)
from kamcore_healthcare.checks import npi_problem

if TYPE_CHECKING:
    import numpy as np

    from kamcore import Account, Org
    from kamcore.workspace.tables import WorkspaceTables
    from kamcore_healthcare.fields import HealthcareAccount

NAMESPACE = "healthcare"
INDUSTRY = "healthcare"


def fields_of(org: Org, account: Account) -> HealthcareAccount | None:
    """The account's healthcare fields; ``None`` when absent or invalid (KAM140 reports those)."""
    from kamcore_healthcare.fields import HealthcareAccount

    return org.valid_fields(account, HealthcareAccount)


def check_npi(org: Org) -> Iterator[Violation]:
    """HC101: the NPI's last digit is its Luhn check digit (with the 80840 prefix)."""
    from kamcore_healthcare.fields import HealthcareAccount

    for account, fields in org.with_fields(HealthcareAccount):
        if fields.npi is None:
            continue
        problem = npi_problem(fields.npi)
        if problem:
            yield Violation(account.id, f"NPI {fields.npi}: {problem}",
                            "look the provider up in the NPPES registry and copy its NPI",
                            column="healthcare.npi")


def metric_column(tables: WorkspaceTables, name: str) -> np.ndarray | None:
    """A metric column of accounts.csv as floats (NaN: empty), or ``None`` when it has none."""
    if name not in tables.accounts.metrics:
        return None
    column = tables.accounts.column(name)
    return None if column is None else column.to_numpy(zero_copy_only=False)


def first_rows(tables: WorkspaceTables, rows: np.ndarray) -> Iterator[int]:
    """Of ``rows``, each that is its id's first row (a later row with the same id is a
    duplicate, which KAM101 reports and the rules leave alone)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(rows):
        return
    ids = tables.accounts.ids
    first = pc.index_in(ids.take(pa.array(rows)), value_set=ids).to_numpy(zero_copy_only=False)
    for row, found in zip(rows.tolist(), first.tolist(), strict=True):
        if found == row:
            yield row


def check_denial_rate(tables: WorkspaceTables) -> Iterator[Violation]:
    """HC102: a claim denial rate is a share of claims, between 0 and 1 (over the tables)."""
    import numpy as np

    rate = metric_column(tables, "claim_denial_rate")
    if rate is None:
        return
    accounts = tables.accounts
    for row in first_rows(tables, np.flatnonzero((rate < 0) | (rate > 1))):
        yield Violation(accounts.ids[row].as_py(), f"claim_denial_rate is {float(rate[row]):g}; "
                        "it is a share of claims between 0 and 1", "write 8% as 0.08",
                        column="claim_denial_rate", location=accounts.location(row))


def check_rate_has_claims(tables: WorkspaceTables) -> Iterator[Violation]:
    """HC103: a denial rate without a claim count cannot be weighted in rollups (over the
    tables)."""
    import numpy as np

    rate = metric_column(tables, "claim_denial_rate")
    if rate is None:
        return
    claims = metric_column(tables, "claims")
    uncounted = np.ones(len(rate), dtype=bool) if claims is None else (
        np.isnan(claims) | (claims == 0))
    accounts = tables.accounts
    for row in first_rows(tables, np.flatnonzero(~np.isnan(rate) & uncounted)):
        yield Violation(accounts.ids[row].as_py(), "has a claim_denial_rate but no claims; "
                        "rollups weight the rate by claims, so it counts for nothing",
                        "fill the claims column (claims submitted in the period)",
                        column="claims", location=accounts.location(row))


def check_payers(org: Org) -> Iterator[Violation]:
    """HC104: a healthcare account above regular names the insurers it bills."""
    for account in org.serving(INDUSTRY):
        if account.tier == Tier.REGULAR:
            continue
        fields = fields_of(org, account)
        if fields is None and NAMESPACE in account.ext:
            continue  # invalid fields: KAM140 says why
        if fields is None or not fields.payers:
            yield Violation(account.id, "names no payers (insurers)",
                            "list them in healthcare.payers, e.g. Aetna;Cigna",
                            column="healthcare.payers")


#: id, title, cadence, who. ``who`` is "manager" or the support specialty it is delegated to.
HEALTHCARE_DUTIES: tuple[tuple[str, str, str, str], ...] = (
    ("healthcare.coverage", "Work with insurers so that the patients' procedures are covered",
     "weekly", "manager"),
    ("healthcare.payer-rules", "Review payer contracts and pre-authorisation rules",
     "quarterly", "manager"),
    ("healthcare.coding", "Correct coding documents (ICD-10, CPT, HCPCS)", "weekly", "coding"),
    ("healthcare.billing", "Correct billing documents and resubmit denied claims", "weekly",
     "billing"),
    ("healthcare.denials", "Analyse claim denials and their causes with the provider",
     "monthly", "manager"),
)


# -- hooks ----------------------------------------------------------------------------------


@hookimpl
def kam_register_industries(register: RegisterIndustry) -> None:
    register(INDUSTRY, aliases=("health care", "health", "hospital", "hospitals", "clinic",
                                "medical"),
             description="Hospitals, clinics and practices: coverage, billing and coding.")


@hookimpl
def kam_register_fields(register: RegisterFields) -> None:
    from kamcore_healthcare.fields import HealthcareAccount, HealthcarePerson

    # Salesforce custom fields (and plain CSV headers) map straight to these on import
    register(NAMESPACE, account=HealthcareAccount, person=HealthcarePerson,
             crm={"payers": ("Payers__c", "Payers"), "npi": ("NPI__c", "NPI"),
                  "billing_workflow": ("Billing_Workflow__c", "Billing Workflow")})


@hookimpl
def kam_register_metrics(register: RegisterMetric) -> None:
    register("claims", label="Claims", unit="claims", aggregation="sum",
             description="Insurance claims submitted for the provider in the period.")
    register("claim_denial_rate", label="Claim denial rate", unit="ratio",
             aggregation="wmean", weight="claims",
             description="Share of claims denied by payers (0..1), weighted by claims.")


@hookimpl
def kam_register_rules(register: RegisterRule) -> None:
    register("HC101", "npi-check-digit", check_npi, severity="error",
             summary="An NPI has a valid Luhn check digit (80840 prefix).",
             fields=(NAMESPACE,))
    register("HC102", "denial-rate-range", check_denial_rate, severity="error",
             summary="A claim denial rate is between 0 and 1.", form="tables")
    register("HC103", "denial-rate-needs-claims", check_rate_has_claims, severity="warning",
             summary="A claim denial rate comes with a claim count to weight it.",
             form="tables")
    register("HC104", "payers-named", check_payers, severity="info",
             summary="Healthcare accounts above regular name their payers.",
             industries=(INDUSTRY,))


@hookimpl
def kam_brief_section(account: Account, org: Org) -> str | None:
    """What a new manager must know first about a provider: who pays and who bills."""
    if not serves(org, account, INDUSTRY):
        return None
    fields = fields_of(org, account)
    if fields is None:
        return None
    payers = ", ".join(fields.payers) or "none named (HC104)"
    return (f"### Payers and billing\n\n- Payers: {payers}\n"
            f"- Billing workflow: {fields.billing_workflow or 'not recorded'}\n"
            f"- Code sets: {', '.join(fields.code_sets) or '-'}")


@hookimpl
def kam_account_duties(account: Account, org: Org) -> list[Duty] | None:
    if not serves(org, account, INDUSTRY):
        return None
    return [Duty(id=i, title=t, cadence=c, who=w, source=NAMESPACE)
            for i, t, c, w in HEALTHCARE_DUTIES]

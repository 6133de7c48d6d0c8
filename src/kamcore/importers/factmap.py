"""Which columns of a CRM deal export make facts: the ``--map facts.yaml`` model and presets.

A deal (Salesforce Opportunity, Dynamics opportunity, any CSV of deals or invoice lines) names
an account, a date, a value and perhaps a currency and an owner. The map says which column is
which, how a date becomes a period, which rows count (``filter``) and which metric the value
feeds. The presets are maps for the headers those CRMs export, matched with
:func:`kamcore.importers.mapping.match_headers` like the account presets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kamcore.errors import Location, WorkspaceError
from kamcore.importers.mapping import RefMode, match_headers, read_model_file

#: How an account cell is looked up: ``crm`` means the ``crm:`` id columns an import kept.
AccountRef = Literal["id", "crm", "name", "auto"]
PeriodGrain = Literal["month", "quarter", "year"]
PRESETS = ("salesforce", "dynamics")


class FactMap(BaseModel):
    """One export of deals -> fact rows ``account,period,metric,value[,owner]``.

    ``metric`` is fixed, or ``metric_column`` names a column whose cells (through
    ``metric_values``) name the metric. ``filter`` keeps the rows whose cell, for every column
    listed, is one of the values given (case and spaces ignored).
    """

    model_config = ConfigDict(extra="forbid")

    account: str
    account_by: AccountRef = "auto"
    date: str
    period: PeriodGrain = "quarter"
    date_format: str | None = Field(
        None, description="strptime format; default: ISO dates, then month/day/year")
    value: str
    metric: str | None = "revenue"
    metric_column: str | None = None
    metric_values: dict[str, str] = Field(default_factory=dict)
    currency: str | None = None
    owner: str | None = None
    owner_by: RefMode = "auto"
    filter: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("filter", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: v if isinstance(v, list) else [v] for k, v in value.items()}
        return value

    @field_validator("metric")
    @classmethod
    def _metric_name(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[a-z][a-z0-9_]*$", value):
            raise ValueError(f"metric name {value!r} must be lower_snake_case (e.g. revenue)")
        return value

    def columns(self) -> dict[str, str]:
        """What each mapped column is for -> its header (every one must be in the file)."""
        out = {"account": self.account, "date": self.date, "value": self.value}
        for name in ("metric_column", "currency", "owner"):
            column = getattr(self, name)
            if column:
                out[name] = column
        for i, column in enumerate(self.filter):
            out[f"filter {i + 1}"] = column
        return out


def read_fact_map(path: str | Path) -> FactMap:
    """Read and check ``facts.yaml``. :raises WorkspaceError: with file and line."""
    return read_model_file(path, FactMap, shape="a facts map is a YAML mapping with at least "
                           "account:, date: and value:",
                           first="see docs/facts.md for an example",
                           hint="see docs/facts.md for the facts map format")


#: Headers of a Salesforce Opportunity export (Data Loader API names, then report labels).
SALESFORCE_HEADERS: dict[str, tuple[str, ...]] = {
    "account": ("AccountId", "Account ID", "Account.Id", "Account Name", "Account"),
    "date": ("CloseDate", "Close Date"),
    "value": ("Amount", "Amount (converted)", "ExpectedRevenue"),
    "currency": ("CurrencyIsoCode", "Opportunity Currency", "Amount Currency"),
    "owner": ("OwnerId", "Opportunity Owner ID", "Owner.Id", "Opportunity Owner", "Owner"),
    "stage": ("StageName", "Stage"),
    "won": ("IsWon", "Won"),
}

#: Headers of a Dynamics 365 opportunity export (schema names, then display names).
DYNAMICS_HEADERS: dict[str, tuple[str, ...]] = {
    "account": ("parentaccountid", "customerid", "Account", "Potential Customer"),
    "date": ("actualclosedate", "Actual Close Date", "estimatedclosedate",
             "Est. Close Date"),
    "value": ("actualvalue", "Actual Revenue", "estimatedvalue", "Est. Revenue"),
    "currency": ("transactioncurrencyid", "Currency"),
    "owner": ("ownerid", "Owner"),
    "status": ("statecode", "Status"),
}


def preset_fact_map(preset: str, header: Sequence[str], path: str) -> FactMap:
    """The map a CRM's deal export needs, from its headers: won deals by close date.

    :raises WorkspaceError: an unknown preset, or a column the preset cannot do without.
    """
    if preset not in PRESETS:
        raise WorkspaceError(f"unknown preset {preset!r}", hint="use salesforce or dynamics")
    found = match_headers(header, SALESFORCE_HEADERS if preset == "salesforce"
                          else DYNAMICS_HEADERS)
    missing = [f for f in ("account", "date", "value") if f not in found]
    if missing:
        raise WorkspaceError(f"no {', '.join(missing)} column for the {preset} preset",
                             location=Location(path, 1),
                             hint="export the opportunity's account, close date and amount, or "
                                  "write a facts map (docs/facts.md)")
    data: dict[str, object] = {k: found[k] for k in ("account", "date", "value", "currency",
                                                     "owner") if k in found}
    if preset == "salesforce":
        if "won" in found:
            data["filter"] = {found["won"]: ["true", "1"]}
        elif "stage" in found:
            data["filter"] = {found["stage"]: ["Closed Won"]}
    elif "status" in found:
        data["filter"] = {found["status"]: ["Won", "1"]}
    return FactMap.model_validate(data)

"""Accounts as a Salesforce Account CSV that Data Loader accepts (API names as headers).

After a Salesforce import, the workspace's crm.yaml gives the original columns and order, and
each ``crm:<column>`` cell holds the original text of a mapped cell ("Germany" where kamcore
stores DE, a 15-character ParentId). The original is written back while it still means what the
account now holds; once the account changed (moved, re-assigned), kamcore's value is written.
So an untouched round trip gives back every cell, and an edited one exports the edits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kamcore.exporters.safety import render_rows
from kamcore.importers.countries import resolve_country
from kamcore.importers.industries import industry_normalizer
from kamcore.importers.rows import RAW_PREFIX, name_key, parse_number
from kamcore.importers.salesforce import id15
from kamcore.importers.tiers import tier_from_value
from kamcore.models import Account
from kamcore.org import Org
from kamcore.workspace.csvio import format_cell

#: Columns for a workspace that did not come from Salesforce: (header, field). Its ids are
#: not Salesforce Ids, so they go to an External ID field, ``KAM_Id__c``, and the parent is
#: referenced through it (``Parent.KAM_Id__c``, the Bulk API's relationship header): create
#: the custom fields, then *upsert* on KAM_Id__c. Owners are kamcore person ids
#: (``KAM_Owner__c``): a workspace's people have no Salesforce User Ids.
DEFAULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("KAM_Id__c", "id"), ("Name", "name"), ("Parent.KAM_Id__c", "parent"),
    ("KAM_Owner__c", "manager"), ("Industry", "industry"), ("AnnualRevenue", "revenue"),
    ("NumberOfEmployees", "employees"), ("BillingCountry", "country"),
    ("CurrencyIsoCode", "currency"), ("KAM_Tier__c", "tier"))


def export_salesforce(org: Org, layout: Mapping[str, Any] | None = None, *,
                      safe: bool = True) -> str:
    """The Account CSV.

    :param layout: the workspace's crm.yaml (see :func:`kamcore.importers.read_layout`); used
        when it came from Salesforce, else Salesforce's standard columns are written, with
        other metrics as ``KAM_<Metric>__c`` and extra columns as they are.
    :param safe: neutralise formula-like cells (the default: the file is opened in a
        spreadsheet as often as it is loaded). Turn it off for a Data Loader round trip, which
        runs no formulas and would store the quote prefix in Salesforce.
    """
    columns: list[dict[str, str]]
    tier_values: dict[str, str] = {}
    countries: dict[str, str] = {}
    decimal = "."
    if layout and layout.get("source") == "salesforce":
        accounts_layout = layout.get("accounts") or {}
        columns = list(accounts_layout.get("columns") or [])
        tier_values = dict(accounts_layout.get("tier_values") or {})
        countries = {str(k).strip().lower(): str(v).upper()
                     for k, v in (layout.get("countries") or {}).items()}
        decimal = str(layout.get("decimal") or ".")
        accounts = list(org.accounts.values())
    else:
        columns = _default_columns(org)
        accounts = _parents_first(org)
    still = _Meaning(org, tier_values, countries, decimal)
    header = [c["header"] for c in columns]
    rows = []
    for account in accounts:
        row = []
        for column in columns:
            if "field" in column:
                row.append(_field_cell(account, column["field"], column["header"], still))
            else:
                row.append(account.extra.get(column["column"], ""))
        rows.append(row)
    return render_rows(header, rows, safe=safe)


def _parents_first(org: Org) -> list[Account]:
    """Accounts top down (a parent before its children), so a serial upsert finds every parent
    by its external id; file order within a level."""
    order = list(org.roots())
    seen = set(order)
    for aid in order:
        for child in org.account_graph.successors(aid):
            if child not in seen:
                seen.add(child)
                order.append(child)
    order += [aid for aid in org.accounts if aid not in seen]  # loops: last, as they are
    return [org.accounts[aid] for aid in order]


def non_salesforce_ids(org: Org) -> list[str]:
    """Accounts whose id is not a Salesforce Id (created in kamcore after an import)."""
    out = []
    for aid in org.accounts:
        try:
            id15(aid)
        except ValueError:
            out.append(aid)
    return out


def _default_columns(org: Org) -> list[dict[str, str]]:
    used_metrics = {m for a in org.accounts.values() for m in a.metrics}
    columns = [{"header": h, "field": f} for h, f in DEFAULT_COLUMNS
               if f != "employees" or "employees" in used_metrics]
    for metric in sorted(used_metrics - {"revenue", "employees"}):
        columns.append({"header": f"KAM_{metric.title().replace('_', '')}__c",
                        "field": metric})
    extras: dict[str, None] = {}
    for account in org.accounts.values():
        extras.update(dict.fromkeys(k for k in account.extra if not k.startswith(RAW_PREFIX)))
    taken = {c["header"] for c in columns}
    columns += [{"header": k, "column": k} for k in extras if k not in taken]
    return columns


def _value(account: Account, field: str) -> Any:
    if field in Account.model_fields:
        value = getattr(account, field)
        return value.value if hasattr(value, "value") else value
    return account.metrics.get(field)


def _field_cell(account: Account, field: str, header: str, still: _Meaning) -> str:
    value = _value(account, field)
    raw = account.extra.get(RAW_PREFIX + header.replace(".", "_"))
    if raw is not None and field != "id" and still.means(field, raw, value, account.id):
        return raw
    return format_cell(value)


class _Meaning:
    """Does an original cell still say what the account holds now?"""

    def __init__(self, org: Org, tier_values: dict[str, str], countries: dict[str, str],
                 decimal: str = ".") -> None:
        self.org = org
        self.decimal = decimal
        self.tier_values = tier_values
        self.countries = countries
        self.industry: Callable[[str], str | None] = industry_normalizer(org.registry)

    def means(self, field: str, raw: str, value: Any, account_id: str) -> bool:
        if field == "parent" and value is None:
            # Found nothing at import (or closed a loop, which the import cut): write it back
            # unless the account has since been made a top on purpose.
            target = _lookup(raw, self.org.accounts)
            return target is None or target in self.org.descendants(account_id)
        if field in ("parent", "manager"):
            return self._ref(raw, value, self.org.accounts if field == "parent"
                             else self.org.people)
        if field == "country":
            code = self.countries.get(raw.strip().lower()) or resolve_country(raw).code
            return code == value
        if field == "industry":
            return self.industry(raw) == value
        if field == "currency":
            return raw.strip().upper() == (value or "")
        if field == "tier":
            return tier_from_value(raw, self.tier_values) == value or (
                tier_from_value(raw, self.tier_values) is None)
        if field == "name":
            return raw.strip() == value
        try:
            return parse_number(raw, self.decimal) == value
        except ValueError:
            return value is None  # an unreadable number, still not replaced

    @staticmethod
    def _ref(raw: str, value: str | None, records: Mapping[str, Any]) -> bool:
        if value is None:  # the reference found nothing at import and was not set since
            return _lookup(raw, records) is None
        if _same_id(raw, value):
            return True
        record = records.get(value)
        return record is not None and name_key(record.name) == name_key(raw)


def _same_id(a: str, b: str) -> bool:
    try:
        return id15(a) == id15(b)
    except ValueError:
        return a.strip() == b.strip()


def _lookup(raw: str, records: Mapping[str, Any]) -> str | None:
    for key in records:
        if _same_id(raw, key):
            return key
    return None

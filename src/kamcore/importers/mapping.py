"""Column mappings: which CRM column feeds which kamcore field, for accounts and people.

The Salesforce and HubSpot importers are presets (lists of the headers their exports use); any
other CRM is described by a small YAML file (``--map``), which
:func:`kamcore.importers.suggest.draft_mapping` drafts from a file's headers and cells.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kamcore.errors import Location, WorkspaceError
from kamcore.models import Role, Tier

if TYPE_CHECKING:
    from kamcore.registry import Registry

RefMode = Literal["id", "name", "auto"]

#: Words a map may write for a scale.
SCALE_WORDS = {"thousands": 1e3, "thousand": 1e3, "k": 1e3, "millions": 1e6, "million": 1e6,
               "m": 1e6, "mn": 1e6, "billions": 1e9, "billion": 1e9, "bn": 1e9}

ACCOUNT_FIELDS = ("id", "name", "parent", "manager", "country", "industry", "currency", "tier")
PERSON_FIELDS = ("id", "name", "first_name", "last_name", "role", "reports_to", "email",
                 "active", "capacity", "specialty")


class AccountMap(BaseModel):
    """Account columns. Leave ``id`` out to make ids from names; leave ``tier`` out to infer."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    name: str | None = None
    parent: str | None = None
    parent_by: RefMode = "auto"
    manager: str | None = None
    manager_by: RefMode = "auto"
    country: str | None = None
    industry: str | None = None
    currency: str | None = None
    tier: str | None = None
    tier_values: dict[str, Tier] = Field(default_factory=dict)
    metrics: dict[str, str] = Field(default_factory=dict)
    #: Metric -> factor its cells are multiplied by: a column "in USD millions" is
    #: ``revenue: 1000000`` (or ``millions``; also ``thousands``, ``billions``).
    scale: dict[str, float] = Field(default_factory=dict)
    #: Plugin fields: ``"<namespace>.<field>"`` -> CRM header. A map file may write them at
    #: the top of ``accounts:`` too (``telecom.sla_tier: SLA Tier``).
    fields: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _dotted_fields(cls, value: object) -> object:
        if isinstance(value, dict) and any("." in str(key) for key in value):
            value = dict(value)
            fields = dict(value.get("fields") or {})
            for key in [k for k in value if "." in str(k)]:
                fields[str(key)] = value.pop(key)
            value["fields"] = fields
        return value

    @field_validator("fields")
    @classmethod
    def _field_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.match(r"^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$", name):
                raise ValueError(f"plugin field {name!r} must be <namespace>.<field>, e.g. "
                                 "telecom.sla_tier")
        return value

    @field_validator("scale", mode="before")
    @classmethod
    def _scale_words(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: SCALE_WORDS.get(str(v).strip().lower(), v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _scaled_metrics_exist(self) -> AccountMap:
        for name, factor in self.scale.items():
            if name not in self.metrics:
                raise ValueError(f"scale names {name!r}, which metrics: does not map")
            if not math.isfinite(factor) or factor <= 0:
                raise ValueError(f"scale of {name!r} must be a positive number, e.g. 1000000 "
                                 "or millions")
        return self

    @field_validator("tier_values", mode="before")
    @classmethod
    def _lower_tiers(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k).strip().lower(): str(v).strip().lower() for k, v in value.items()}
        return value

    @field_validator("metrics")
    @classmethod
    def _metric_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.match(r"^[a-z][a-z0-9_]*$", name) or name in ACCOUNT_FIELDS:
                raise ValueError(f"metric name {name!r} must be lower_snake_case and not a "
                                 "field name (e.g. revenue, employees)")
        return value

    def columns(self) -> dict[str, str]:
        """kamcore field (or metric) -> CRM header, for every mapped column."""
        out = {f: getattr(self, f) for f in ACCOUNT_FIELDS if getattr(self, f)}
        out.update(self.metrics)
        out.update(self.fields)
        return out

    def with_plugin_columns(self, header: Sequence[str], registry: Registry | None
                            ) -> AccountMap:
        """This map plus the plugin fields whose CRM columns (``crm=`` in
        ``kam_register_fields``) are in ``header`` and that nothing maps yet."""
        found = plugin_columns(header, registry)
        taken = set(self.columns().values())
        extra = {target: column for target, column in found.items()
                 if target not in self.fields and column not in taken}
        if not extra:
            return self
        return self.model_copy(update={"fields": {**self.fields, **extra}})


class PersonMap(BaseModel):
    """People columns; ``role_values`` maps a title or role cell to a role (``support:billing``
    gives support staff a specialty)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    role: str | None = None
    role_values: dict[str, str] = Field(default_factory=dict)
    reports_to: str | None = None
    reports_to_by: RefMode = "auto"
    email: str | None = None
    active: str | None = None
    capacity: str | None = None
    specialty: str | None = None

    @field_validator("role_values", mode="before")
    @classmethod
    def _roles(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        out = {}
        for key, target in value.items():
            role = str(target).strip().lower()
            if role.partition(":")[0] not in {r.value for r in Role}:
                raise ValueError(f"{target!r} (for {key!r}) is not a role: use one of "
                                 + ", ".join(r.value for r in Role))
            out[str(key).strip().lower()] = role
        return out

    def columns(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in PERSON_FIELDS if getattr(self, f)}


class TeamMap(BaseModel):
    """Account team rows (Salesforce AccountTeamMember): who else serves an account."""

    model_config = ConfigDict(extra="forbid")

    account: str = "AccountId"
    person: str = "UserId"
    role: str | None = "TeamMemberRole"


class ImportMap(BaseModel):
    """A whole mapping file (``kam import csv --map MAP.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    accounts: AccountMap = Field(default_factory=AccountMap)
    people: PersonMap | None = None
    countries: dict[str, str] = Field(
        default_factory=dict, description="Cell -> alpha-2, for names the importer cannot map.")

    @field_validator("countries")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        check_country_codes(value)
        return value


def check_country_codes(mapping: Mapping[str, str]) -> None:
    """:raises ValueError: a target is not an ISO 3166-1 alpha-2 code."""
    from kamcore.models.codes import country_codes

    for cell, code in mapping.items():
        if str(code).strip().upper() not in country_codes():
            raise ValueError(f"{cell!r}: {code!r} is not an ISO 3166-1 alpha-2 code (e.g. PH)")


M = TypeVar("M", bound=BaseModel)


def updated(model: M, what: str, **changes: object) -> M:
    """``model`` with ``changes``, validated; a bad value is a :class:`WorkspaceError`.

    :param what: what the changes came from, for the message (``--tier-map``).
    """
    try:
        return model.model_validate({**model.model_dump(), **changes})
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        where = ".".join(str(p) for p in err["loc"][1:]) or str(err["loc"][0])
        raise WorkspaceError(f"{what}: {where}: {msg}", hint="tiers are global, national, key "
                             "or regular; roles are " + ", ".join(r.value for r in Role)
                             ) from None


def read_map(path: str | Path) -> ImportMap:
    """Read and check a mapping file. :raises WorkspaceError: with file and line."""
    return read_model_file(path, ImportMap, shape="a mapping file is a YAML mapping with "
                           "'accounts:' (and 'people:')",
                           first="draft one with `kam import csv ACCOUNTS.csv --suggest-map`",
                           hint="see docs/import.md for the mapping format")


def read_model_file(path: str | Path, model: type[M], *, shape: str, first: str,
                    hint: str) -> M:
    """A YAML file checked against a pydantic model; the first error names its line.

    :param shape: the message when the file is not a YAML mapping; ``first`` its hint.
    :param hint: the hint of a field error.
    :raises WorkspaceError: with file and line.
    """
    from kamcore.workspace.yamlio import LINE_KEY, read_yaml, strip_lines

    target = Path(path)
    raw = read_yaml(target)
    if not isinstance(raw, dict):
        raise WorkspaceError(shape, location=Location(str(target), 1), hint=first)
    try:
        return model.model_validate(strip_lines(raw))
    except ValidationError as exc:
        err = exc.errors()[0]
        node: object = raw
        line = raw.get(LINE_KEY)
        for part in err["loc"]:
            if isinstance(node, dict) and part in node:
                node = node[part]
                if isinstance(node, dict) and LINE_KEY in node:
                    line = node[LINE_KEY]
        dotted = ".".join(map(str, err["loc"]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise WorkspaceError(f"{dotted}: {msg}", location=Location(str(target), line),
                             hint=hint) from None


# -- presets and suggestions ---------------------------------------------------------------

#: Headers that CRMs use for each field, most specific first (API names, then report labels).
ACCOUNT_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("Id", "Account ID", "Record ID", "hs_object_id", "accountid", "Account Number",
           "Organization ID", "ID", "Account Id", "Company ID"),
    "name": ("Name", "Account Name", "Company name", "Company Name", "Organization name",
             "Organization - Name", "name", "Company"),
    "parent": ("ParentId", "Parent Account ID", "hs_parent_company_id", "Parent Company ID",
               "parentaccountid", "Parent Company", "Parent Account", "Parent"),
    "manager": ("OwnerId", "Account Owner ID", "hubspot_owner_id", "HubSpot Owner ID",
                "ownerid", "Company owner", "Account Owner", "Owner", "Organization - Owner",
                "Owner ID", "Owner Name"),
    "country": ("BillingCountryCode", "BillingCountry", "Billing Country", "Country/Region",
                "country", "Country", "address1_country", "Organization - Country", "Region"),
    "industry": ("Industry", "industry", "industrycode", "Sector", "Organization - Industry"),
    "currency": ("CurrencyIsoCode", "Account Currency", "Currency", "transactioncurrencyid",
                 "currency"),
    "revenue": ("AnnualRevenue", "Annual Revenue", "annualrevenue", "Revenue", "revenue"),
    "employees": ("NumberOfEmployees", "Employees", "Number of Employees", "numberofemployees",
                  "Employee Count"),
}

PERSON_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("Id", "User ID", "Owner ID", "ID", "id", "systemuserid", "Employee ID"),
    "name": ("Name", "Full Name", "fullname", "Owner Name", "name"),
    "first_name": ("FirstName", "First Name", "firstname", "firstName"),
    "last_name": ("LastName", "Last Name", "lastname", "lastName"),
    "role": ("Title", "Job Title", "jobtitle", "UserRole.Name", "Role", "title"),
    "reports_to": ("ManagerId", "Manager ID", "parentsystemuserid", "Manager", "Reports To",
                   "Manager Name"),
    "email": ("Email", "email", "internalemailaddress", "E-mail", "Email Address"),
    "active": ("IsActive", "Active", "Archived?", "isdisabled", "Status"),
    "capacity": ("Capacity", "capacity", "Max Accounts"),
}


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", header.lower())


def header_matches(header: Sequence[str], candidates: Mapping[str, Sequence[str]], *,
                   fuzzy: bool = False) -> dict[str, tuple[str, str, str]]:
    """Field -> ``(header, how, known)`` for the headers present, surest first: every field's
    exact names, then names that differ only in case or punctuation or by a part in brackets
    (``Annual Revenue (EUR)``), then, with ``fuzzy``,
    close spellings (``how``: ``exact``, ``spelling`` or ``close``; ``known``: the name it
    matched). A header feeds one field at most, and no field's close spelling takes another
    field's exact header.

    >>> header_matches(["owner", "Owner Id"], {"name": ("Owner ID",), "id": ("owner",)})
    {'name': ('Owner Id', 'spelling', 'Owner ID'), 'id': ('owner', 'exact', 'owner')}
    """
    present = set(header)
    by_norm: dict[str, str] = {}
    for name in header:
        by_norm.setdefault(_norm(name), name)
    for name in header:  # "Annual Revenue (EUR)" is spelled as "Annual Revenue"
        by_norm.setdefault(_norm(re.sub(r"\(.*?\)|\[.*?\]", "", name)), name)
    taken: set[str] = set()

    def close(name: str) -> str | None:
        pool = [h for h in header if h not in taken]
        hit = difflib.get_close_matches(_norm(name), [_norm(h) for h in pool], n=1,
                                        cutoff=0.85)
        return next(h for h in pool if _norm(h) == hit[0]) if hit else None

    stages: list[tuple[str, Callable[[str], str | None]]] = [
        ("exact", lambda name: name if name in present else None),
        ("spelling", lambda name: by_norm.get(_norm(name)))]
    if fuzzy:
        stages.append(("close", close))
    found: dict[str, tuple[str, str, str]] = {}
    for how, look in stages:
        for fieldname, names in candidates.items():
            if fieldname in found:
                continue
            for name in names:
                choice = look(name)
                if choice is not None and choice not in taken:
                    found[fieldname] = (choice, how, name)
                    taken.add(choice)
                    break
    return {f: found[f] for f in candidates if f in found}


def match_headers(header: Sequence[str], candidates: Mapping[str, Sequence[str]], *,
                  fuzzy: bool = False) -> dict[str, str]:
    """Field -> header for the headers present (see :func:`header_matches`)."""
    return {f: h for f, (h, _how, _known) in header_matches(header, candidates,
                                                            fuzzy=fuzzy).items()}


def preset_account_map(header: Sequence[str]) -> AccountMap:
    """An account mapping from well-known headers."""
    found = match_headers(header, ACCOUNT_HEADERS)
    metrics = {m: found.pop(m) for m in ("revenue", "employees") if m in found}
    return AccountMap.model_validate({**found, "metrics": metrics})


def preset_person_map(header: Sequence[str]) -> PersonMap:
    found = match_headers(header, PERSON_HEADERS)
    if "first_name" in found and "name" in found and found["name"] in ("Name", "Full Name"):
        found.pop("first_name")
        found.pop("last_name", None)
    return PersonMap.model_validate(found)


def plugin_columns(header: Sequence[str], registry: Registry | None) -> dict[str, str]:
    """``"<namespace>.<field>"`` -> the header that a plugin declares for it (first match;
    case and spacing ignored)."""
    if registry is None:
        return {}
    by_key = {_header_key(h): h for h in header}
    found: dict[str, str] = {}
    for namespace, fieldset in sorted(registry.fields.items()):
        for name, columns in fieldset.crm.items():
            for column in columns:
                if _header_key(column) in by_key:
                    found.setdefault(f"{namespace}.{name}", by_key[_header_key(column)])
                    break
    return found


def _header_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().lower())

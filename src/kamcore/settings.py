"""``kam.yaml``: the org's name, reporting currency, rule settings, metrics and plugin settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kamcore import filenames
from kamcore.models.codes import currency_codes
from kamcore.models.enums import Severity

if TYPE_CHECKING:
    from kamcore.models import MetricDef

# the file names live in kamcore.filenames (it imports nothing); still importable from here
CONFIG_FILE = filenames.CONFIG_FILE
ACCOUNTS_FILE = filenames.ACCOUNTS_FILE
PEOPLE_FILE = filenames.PEOPLE_FILE
FACTS_FILES = filenames.FACTS_FILES
FX_FILE = filenames.FX_FILE
CONTACTS_FILE = filenames.CONTACTS_FILE
CONTACTS_PARQUET = filenames.CONTACTS_PARQUET
TERRITORIES_FILE = filenames.TERRITORIES_FILE
JOURNAL_FILE = filenames.JOURNAL_FILE


class RuleSettings(BaseModel):
    """Turn rules off or change their severity, like ruff's per-rule settings."""

    model_config = ConfigDict(extra="forbid")

    disable: list[str] = Field(default_factory=list)
    severity: dict[str, Severity] = Field(default_factory=dict)


class WorkspaceMetric(BaseModel):
    """A metric the workspace declares for itself (a column a plugin does not know)."""

    model_config = ConfigDict(extra="forbid")

    label: str = ""
    unit: str = ""
    aggregation: str = "sum"
    weight: str | None = None
    description: str = ""
    periods: str | None = None
    derive: str | None = None

    def definition(self, name: str) -> MetricDef:
        """The metric as every command uses it (the one place kam.yaml's metrics are built).

        :raises pydantic.ValidationError: a bogus aggregation or periods, or wmean without
            weight.
        """
        from kamcore.models import MetricDef

        return MetricDef(name=name, plugin="workspace", **self.model_dump())


class ConflictSettings(BaseModel):
    """Which plugin wins a name two plugins claim: kind -> name -> plugin (never load order)."""

    model_config = ConfigDict(extra="forbid")

    industries: dict[str, str] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, str] = Field(default_factory=dict)
    rules: dict[str, str] = Field(default_factory=dict)
    exporters: dict[str, str] = Field(default_factory=dict)
    importers: dict[str, str] = Field(default_factory=dict)
    commands: dict[str, str] = Field(
        default_factory=dict, description="A command two plugins add (kam_add_commands): the "
        "kam.yaml of the workspace a command line names decides.")

    def choices(self) -> dict[str, dict[str, str]]:
        """The non-empty kinds the registry settles (:meth:`kamcore.registry.Registry.settle`);
        ``commands`` are settled when kam's commands are built."""
        return {kind: picks for kind, picks in self.model_dump().items()
                if picks and kind != "commands"}


class ContactSettings(BaseModel):
    """How the contact rules judge the customer side (``contacts:`` in kam.yaml)."""

    model_config = ConfigDict(extra="forbid")

    stale_after_days: int = Field(
        default=180, ge=1, description="A relationship not touched for longer is a warning "
        "(KAM168).")


def _as_list(value: Any) -> Any:
    """One value or a list of them: ``country: DE`` is ``country: [DE]``."""
    if value is None:
        return []
    return [value] if isinstance(value, (str, int, float)) else value


class AssignmentRule(BaseModel):
    """One territory assignment rule: every criterion given must hold; the first rule that
    matches an account wins. Lists mean "any of"."""

    model_config = ConfigDict(extra="forbid")

    territory: str = Field(description="The territory id the matching accounts go to.")
    name: str | None = Field(default=None, description="A label; default 'rule N'.")
    country: list[str] = Field(default_factory=list, description="ISO codes, any of.")
    region: list[str] = Field(default_factory=list,
                              description="Region or state: the accounts.csv column 'region'.")
    industry: list[str] = Field(default_factory=list)
    tier: list[str] = Field(default_factory=list)
    revenue_min: float | None = Field(default=None, description="Revenue band: at least.")
    revenue_max: float | None = Field(default=None, description="Revenue band: below.")
    metric: str = Field(default="revenue", description="The accounts.csv metric of the band.")

    @field_validator("country", "region", "industry", "tier", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return [str(v) for v in _as_list(value)]


class TerritorySettings(BaseModel):
    """Territory assignment (``territories:`` in kam.yaml): the rules, first match wins."""

    model_config = ConfigDict(extra="forbid")

    rules: list[AssignmentRule] = Field(default_factory=list)


class WarehouseSettings(BaseModel):
    """Facts kept as a table of a SQL database (``warehouse:`` in kam.yaml): ``kam rollup``
    totals them there per account (the ``sql`` engine) and rolls the totals up in process."""

    model_config = ConfigDict(extra="forbid")

    database: str | None = Field(
        default=None, description="sqlite:///FILE or duckdb:///FILE, relative to the "
        "workspace (four slashes for an absolute path).")
    table: str = Field(default="facts", description="The facts table: account, period, "
                       "metric, value (and owner).")


class Settings(BaseModel):
    """The settings part of ``kam.yaml``."""

    model_config = ConfigDict(extra="forbid")

    name: str = "Unnamed org"
    currency: str = Field(default="USD", description="Reporting currency (ISO 4217).")
    rules: RuleSettings = Field(default_factory=RuleSettings)
    metrics: dict[str, WorkspaceMetric] = Field(default_factory=dict)
    plugins: dict[str, Any] = Field(default_factory=dict,
                                    description="Per-plugin settings, by plugin name.")
    conflicts: ConflictSettings = Field(
        default_factory=ConflictSettings,
        description="Which plugin wins a metric, field namespace, industry, alias, rule "
        "code, export format, import source or command that two plugins declare.")
    hook_timeout: float | None = Field(
        default=None, gt=0, description="Seconds one plugin hook call may run before it is "
        "named and its plugin skipped (default: KAM_HOOK_TIMEOUT, else 60).")
    contacts: ContactSettings = Field(default_factory=ContactSettings)
    territories: TerritorySettings = Field(default_factory=TerritorySettings)
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)
    accounts: list[dict[str, Any]] | None = Field(
        default=None, description="Inline account records (small orgs); else accounts.csv.")
    people: list[dict[str, Any]] | None = Field(
        default=None, description="Inline people records (small orgs); else people.csv.")

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in currency_codes():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, USD)")
        return code


def settings_data(settings: Settings) -> dict[str, Any]:
    """The settings as kam.yaml writes them: records left out, and what is unset left unsaid
    (no ``hook_timeout: null``, no empty ``conflicts:``; plugin sections as the user wrote
    them, even once validated into their models)."""
    data = settings.model_dump(mode="json", exclude={"accounts", "people", "plugins"})
    if data.get("hook_timeout") is None:
        data.pop("hook_timeout", None)
    data["conflicts"] = {kind: picks for kind, picks in data["conflicts"].items() if picks}
    if not data["conflicts"]:
        del data["conflicts"]
    if settings.warehouse.database is None:
        data.pop("warehouse", None)
    data["plugins"] = {
        name: value.model_dump(mode="json", exclude_unset=True)
        if isinstance(value, BaseModel) else value for name, value in settings.plugins.items()}
    order = list(Settings.model_fields)
    return dict(sorted(data.items(), key=lambda item: order.index(item[0])))


CONFIG_TEMPLATE = """\
# kamcore workspace settings. Docs: docs/workspace.md
name: {name}

# Reporting currency (ISO 4217): rollups convert money metrics into it with fx.csv.
currency: {currency}

# Rule settings. List codes with `kam validate --list-rules`.
rules:
  disable: []          # e.g. [KAM109]
  severity: {{}}         # e.g. {{KAM111: error}}

# Metrics of your own, beyond those the core and plugins declare (columns in accounts.csv).
metrics: {{}}            # e.g. {{margin: {{unit: money, aggregation: sum}}}}

# Settings for plugins, by plugin name.
plugins: {{}}

# Records live in accounts.csv and people.csv. Small orgs may instead list them here:
# accounts:
#   - {{id: ACME, name: Acme Group, tier: global, manager: P1, revenue: 1000}}
"""

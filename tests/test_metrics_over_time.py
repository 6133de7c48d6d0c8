"""Metrics over time: a metric says how an account's periods combine (MRR is point in time),
and --by on a plugin field groups by the value the plugin's model makes of it; a derived
metric computes with other metrics and with a plugin's number fields (``mrr / telecom.lines``)."""

from __future__ import annotations

import json
from decimal import Decimal
from enum import StrEnum

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict, field_validator

import kamcore
from kamcore import hookimpl
from kamcore.cli.app import make_cli
from kamcore.errors import WorkspaceError

pytest_plugins = ["kamcore.testing"]


class Tier(StrEnum):
    gold = "gold"
    silver = "silver"


class TelecomAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sla_tier: Tier | None = None
    lines: int | None = None
    discount: Decimal | None = None

    @field_validator("sla_tier", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class Telecom:
    @hookimpl
    def kam_register_fields(self, register):
        register("telecom", account=TelecomAccount)

    @hookimpl
    def kam_register_metrics(self, register):
        register("mrr", unit="count", periods="last")
        register("calls", unit="count")
        register("peak_lines", unit="count", aggregation="max", periods="max")
        register("csat", unit="ratio", aggregation="mean", periods="mean")


@pytest.fixture
def folder(kam_pm, org_builder, tmp_path):
    kam_pm.register(Telecom(), name="telecom")
    builder = (org_builder().person("P")
               .account("A", manager="P", telecom={"sla_tier": "Gold"})
               .account("B", manager="P", telecom={"sla_tier": "gold "})
               .account("C", manager="P", telecom={"sla_tier": "silver"}))
    for account, q3, q4 in (("A", 100, 120), ("B", 50, 40), ("C", 10, 10)):
        builder.fact(account, "2026-Q3", "mrr", q3).fact(account, "2026-Q4", "mrr", q4)
        builder.fact(account, "2026-Q3", "calls", q3).fact(account, "2026-Q4", "calls", q4)
        builder.fact(account, "2026-Q3", "peak_lines", q3).fact(account, "2026-Q4",
                                                                  "peak_lines", q4)
        builder.fact(account, "2026-Q3", "csat", q3).fact(account, "2026-Q4", "csat", q4)
    return builder.write(tmp_path / "org")


def test_point_in_time_and_other_period_combinations(folder, kam_pm):
    result = kamcore.rollup(folder, ["mrr", "calls", "peak_lines", "csat"], period="2026",
                            pm=kam_pm)
    rows = {row["id"]: row for row in result.rows}
    assert rows["A"]["mrr"] == 120 and rows["B"]["mrr"] == 40  # Q4, not Q3 + Q4
    assert rows["A"]["calls"] == 220  # a flow sums over the year
    assert rows["B"]["peak_lines"] == 50 and rows["A"]["csat"] == 110


def test_group_by_uses_the_normalised_value(folder, kam_pm):
    result = kamcore.rollup(folder, ["mrr"], by="telecom.sla_tier", period="2026-Q4",
                            pm=kam_pm)
    assert {row["telecom.sla_tier"]: (row["accounts"], row["mrr"]) for row in result.rows} == {
        "gold": (2, 160), "silver": (1, 10)}


def test_kam_yaml_metrics_take_periods_too(tmp_path, org_builder):
    builder = (org_builder(settings={"metrics": {"headcount": {"periods": "last"}}})
               .person("P").account("A", manager="P")
               .fact("A", "2026-01", "headcount", 3).fact("A", "2026-02", "headcount", 5))
    folder = builder.write(tmp_path / "org")
    result = CliRunner().invoke(make_cli(builder.pm), ["rollup", str(folder), "--metric",
                                                       "headcount", "--period", "2026",
                                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"headcount": 5' in result.stdout
    (folder / "kam.yaml").write_text((folder / "kam.yaml").read_text().replace(
        "periods: last", "periods: first"))
    bad = CliRunner().invoke(make_cli(builder.pm), ["rollup", str(folder)])
    assert bad.exit_code == 2 and "kam.yaml:" in bad.output and "periods" in bad.output


class Derived:
    @hookimpl
    def kam_register_metrics(self, register):
        register("mrr", unit="count", periods="last")
        register("lines", unit="count", periods="last")
        register("arr", unit="count", derive="mrr * 12")
        register("arpl", unit="count", aggregation="max", derive="mrr / lines")


def test_derived_metrics_from_other_metrics(kam_pm, org_builder, tmp_path):
    kam_pm.register(Derived(), name="derived")
    folder = (org_builder().person("P")
              .account("G", tier="key", manager="P")
              .account("A", parent="G", manager="P", mrr=100, lines=4)
              .account("B", parent="G", manager="P", mrr=30, lines=0)
              .write(tmp_path / "org"))
    rows = {row["id"]: row for row in kamcore.rollup(folder, ["arr", "arpl"], pm=kam_pm).rows}
    assert rows["A"]["arr"] == 1200 and rows["G"]["arr_total"] == 1560
    assert rows["A"]["arpl"] == 25 and rows["B"]["arpl"] is None  # 30 / 0: no value
    assert rows["G"]["arpl_total"] == 25


@pytest.mark.parametrize("derive, message", [
    ("revenue * 2 + nosuch", "metric 'm' is derived from 'nosuch', which no plugin and no "
                             "metrics: entry declares"),
    ("__import__('os').system('x')", "only metric names, <namespace>.<field> names, numbers, "
                                     "+ - * / and parentheses"),
    ("m + 1", "metric 'm' is derived from itself"),
])
def test_a_bad_derived_metric_is_located_in_kam_yaml(kam_pm, tmp_path, derive, message):
    folder = tmp_path / "org"
    folder.mkdir()
    (folder / "kam.yaml").write_text(f"name: T\nmetrics:\n  m:\n    derive: \"{derive}\"\n")
    (folder / "accounts.csv").write_text("id,name,tier,revenue\nA,A,regular,5\n")
    (folder / "people.csv").write_text("id,name,role\nP,P,am\n")
    with pytest.raises(WorkspaceError) as info:
        kamcore.load(folder, pm=kam_pm)
    assert message in str(info.value)
    assert (info.value.location.file, info.value.location.line) == (str(folder / "kam.yaml"), 4)


class FieldMetrics(Telecom):
    """The telecom plugin with metrics derived from its number fields."""

    @hookimpl
    def kam_register_metrics(self, register):
        register("mrr", unit="count")
        register("arpl", label="MRR per line", unit="count", aggregation="max",
                 derive="mrr / telecom.lines")
        register("line_value", unit="count", derive="telecom.lines * (1 - telecom.discount)")


@pytest.fixture
def field_folder(kam_pm, org_builder, tmp_path):
    kam_pm.register(FieldMetrics(), name="telecom")
    return (org_builder(settings={"metrics": {"per_line": {"derive": "revenue / telecom.lines"}}})
            .person("P")
            .account("G", tier="key", manager="P")
            .account("A", parent="G", manager="P", mrr=100, revenue=1000,
                     telecom={"lines": "4", "discount": "0.25", "sla_tier": "gold"})
            .account("B", parent="G", manager="P", mrr=90, revenue=300,
                     telecom={"lines": "3"})
            .account("C", parent="G", manager="P", mrr=50, telecom={"lines": "many"})
            .write(tmp_path / "org"))


def test_plugin_metric_derived_from_a_number_field(field_folder, kam_pm):
    result = kamcore.rollup(field_folder, ["arpl", "line_value"], pm=kam_pm)
    rows = {r["id"]: r for r in result.rows}
    assert rows["A"]["arpl"] == 25 and rows["B"]["arpl"] == 30
    assert rows["C"]["arpl"] is None  # "many" is no number of lines: no value (KAM140's)
    assert rows["G"]["arpl_total"] == 30  # aggregation max
    assert rows["A"]["line_value"] == 3 and rows["B"]["line_value"] is None  # no discount


def test_kam_yaml_metric_derived_from_a_plugin_field_in_the_cli(field_folder, kam_cli):
    result = kam_cli.invoke("rollup", str(field_folder), "--metric", "per_line", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)["rows"]}
    assert rows["A"]["per_line"] == 250 and rows["B"]["per_line"] == 100
    assert rows["G"]["per_line_total"] == 350


def test_without_metric_list_a_derived_field_metric_shows(field_folder, kam_pm):
    result = kamcore.rollup(field_folder, pm=kam_pm)
    assert {"arpl", "per_line", "line_value"} <= set(result.metrics)


class Misderived:
    """A second plugin deriving from the telecom plugin's fields, two of them wrongly."""

    @hookimpl
    def kam_register_metrics(self, register):
        register("per_tier", derive="mrr * telecom.sla_tier")  # text
        register("per_port", derive="mrr * telecom.ports")  # no such field


def test_a_text_or_unknown_field_drops_the_metric_naming_the_plugin(kam_pm):
    from kamcore.registry import build_registry

    kam_pm.register(FieldMetrics(), name="telecom")
    kam_pm.register(Misderived(), name="misderived")
    reg = build_registry(kam_pm)
    assert {"arpl", "line_value"} <= set(reg.metrics)  # another plugin's fields work too
    assert "per_tier" not in reg.metrics and "per_port" not in reg.metrics
    assert sorted((p.plugin, str(p).split(": ", 1)[-1]) for p in reg.problems) == [
        ("misderived", "metric 'per_port' is derived from 'telecom.ports', which no plugin "
                       "and no metrics: entry declares (a field needs a plugin whose account "
                       "model has it)"),
        ("misderived", "metric 'per_tier' is derived from 'telecom.sla_tier', which is not a "
                       "number field (a formula takes int, float or Decimal fields)")]


def test_kam_yaml_formula_over_a_field_nobody_declares_is_located(kam_pm, tmp_path):
    folder = tmp_path / "org"
    folder.mkdir()
    (folder / "kam.yaml").write_text(
        "name: T\nmetrics:\n  m:\n    derive: revenue / telecom.lines\n")
    (folder / "accounts.csv").write_text("id,name,tier,revenue\nA,A,regular,5\n")
    (folder / "people.csv").write_text("id,name,role\nP,P,am\n")
    with pytest.raises(WorkspaceError) as info:
        kamcore.load(folder, pm=kam_pm)
    assert "derived from 'telecom.lines', which no plugin" in str(info.value)
    assert info.value.location.line == 4


@pytest.mark.parametrize("formula", ["telecom.lines.count", "telecom().lines",
                                     "Telecom.lines", "telecom['lines']"])
def test_only_plain_dotted_names(formula):
    from kamcore.models.formula import parse_formula

    with pytest.raises(ValueError, match=r"<namespace>\.<field>"):
        parse_formula(formula)

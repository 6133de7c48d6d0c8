"""Metrics over time: a metric says how an account's periods combine (MRR is point in time),
and --by on a plugin field groups by the value the plugin's model makes of it."""

from __future__ import annotations

from enum import StrEnum

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict, field_validator

import kamcore
from kamcore import hookimpl
from kamcore.cli.app import make_cli

pytest_plugins = ["kamcore.testing"]


class Tier(StrEnum):
    gold = "gold"
    silver = "silver"


class TelecomAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sla_tier: Tier | None = None
    lines: int | None = None

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
    ("__import__('os').system('x')", "only metric names, numbers, + - * / and parentheses"),
    ("m + 1", "metric 'm' is derived from itself"),
])
def test_a_bad_derived_metric_is_located_in_kam_yaml(kam_pm, tmp_path, derive, message):
    from kamcore.errors import WorkspaceError

    folder = tmp_path / "org"
    folder.mkdir()
    (folder / "kam.yaml").write_text(f"name: T\nmetrics:\n  m:\n    derive: \"{derive}\"\n")
    (folder / "accounts.csv").write_text("id,name,tier,revenue\nA,A,regular,5\n")
    (folder / "people.csv").write_text("id,name,role\nP,P,am\n")
    with pytest.raises(WorkspaceError) as info:
        kamcore.load(folder, pm=kam_pm)
    assert message in str(info.value)
    assert (info.value.location.file, info.value.location.line) == (str(folder / "kam.yaml"), 4)

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

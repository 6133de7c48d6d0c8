"""Numbers past float64's range (issue 10): validate and rollup agree, name the accounts, and
no Infinity reaches any output."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import kamcore
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager
from kamcore.rollup.values import TotalOverflow
from tests.hostile.cases import CASES
from tests.test_changes_support import save_small


def kam(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return save_small(tmp_path / "org")


@pytest.mark.parametrize("case", ["1e308 twice", "1e308 twice in facts"])
def test_an_overflowing_total_is_refused_by_rollup_and_found_by_validate(ws, case):
    CASES[case](ws)
    rollup = kam("rollup", str(ws), "--format", "json")
    assert rollup.exit_code == 2
    assert "KAM-R005" in rollup.output and "'G'" in rollup.output and "'N-DE'" in rollup.output
    assert "RuntimeWarning" not in rollup.output
    check = kam("validate", str(ws), "--format", "json")
    assert check.exit_code == 1
    findings = json.loads(check.stdout)["findings"]
    assert [f["code"] for f in findings if f["severity"] == "error"] == ["KAM154"]


def test_large_values_that_still_add_up_are_fine(ws):
    CASES["1e308 twice"](ws)
    (ws / "accounts.csv").write_text((ws / "accounts.csv").read_text().replace("1e308", "1e307"))
    result = kam("rollup", str(ws), "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)["rows"]
    assert rows[0]["revenue_total"] == pytest.approx(2e307, rel=1e-9)


def test_the_python_api_raises_the_same_error_without_a_warning(ws):
    CASES["1e308 twice"](ws)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TotalOverflow, match="revenue") as caught:
            kamcore.rollup(ws, ["revenue"], by="manager")
    assert caught.value.code == "KAM-R005"


def test_a_weighted_mean_whose_products_overflow_is_refused(tmp_path):
    ws = save_small(tmp_path / "org")
    (ws / "kam.yaml").write_text("name: w\ncurrency: USD\nmetrics:\n"
                                 "  score: {aggregation: wmean, weight: revenue}\n")
    text = (ws / "accounts.csv").read_text().splitlines()
    text[0] += ",score"
    text[1:] = [line + ",1e200" for line in text[1:]]
    (ws / "accounts.csv").write_text("\n".join(text).replace(",100,", ",1e200,") + "\n")
    result = kam("rollup", str(ws), "-m", "score", "--format", "json")
    assert result.exit_code == 2 and "KAM-R005" in result.output and "score" in result.output

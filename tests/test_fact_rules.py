"""``kam validate`` passing means ``kam rollup`` runs: facts and FX problems are findings."""

from __future__ import annotations

import json

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager
from tests.test_rollup_cli import ACCOUNTS, make_ws, run
from tests.test_rollup_input import BAD_FACTS, FACTS, FX

pytest_plugins = ["kamcore.testing"]


def validate(ws) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["validate", str(ws), "--format", "json"])
    return result.exit_code, json.loads(result.stdout)["findings"]


def test_bad_fact_rows_are_findings_with_lines(tmp_path):
    ws = make_ws(tmp_path, facts=BAD_FACTS, fx=FX)
    code, findings = validate(ws)
    assert code == 1
    kam150 = sorted(f["line"] for f in findings if f["code"] == "KAM150")
    assert kam150 == [9, 11, 12, 13, 14, 15]   # the rows kam rollup refuses, each located
    assert all(f["file"].endswith("facts.csv") for f in findings if f["code"] == "KAM150")
    unknown = [f for f in findings if f["code"] == "KAM153"]
    assert [(f["line"], f["severity"]) for f in unknown] == [(10, "warning")]
    assert run(str(ws))[0] == 2                # and the rollup does refuse them


def test_missing_rate_is_a_finding_where_the_rollup_would_stop(tmp_path):
    ws = make_ws(tmp_path, fx="currency,period,rate\nUSD,2026Q2,0.5\n",
                 accounts=ACCOUNTS.replace("revenue,orders,receivables", "x,orders,y")
                 .replace(",20,3,", ",,3,"), facts=FACTS)
    code, findings = validate(ws)
    missing = [f for f in findings if f["code"] == "KAM151"]
    assert code == 1 and [f["subject"] for f in missing] == ["N2"]
    assert "no FX rate for USD -> EUR in period 2026Q1" in missing[0]["message"]
    assert missing[0]["line"] == 4 and missing[0]["column"] == "currency"
    rollup_code, _, err = run(str(ws), "--period", "2026Q1")
    assert rollup_code == 2 and "no FX rate for USD -> EUR in period 2026Q1" in err


def test_rates_present_means_validate_and_rollup_both_pass(tmp_path):
    ws = make_ws(tmp_path, facts=FACTS, fx=FX)
    code, findings = validate(ws)
    assert code == 0, findings
    assert [f["code"] for f in findings] == ["KAM152"]   # revenue in both: facts win
    assert "'revenue' is in facts.csv and in accounts.csv columns" in findings[0]["message"]
    rollup_code, out, _ = run(str(ws), "--format", "json")
    assert rollup_code == 0
    assert json.loads(out)["sources"]["revenue"] == "facts.csv"


def test_rollup_title_says_facts_were_used(tmp_path):
    ws = make_ws(tmp_path, facts=FACTS, fx=FX)
    code, out, _ = run(str(ws), "-m", "revenue")
    assert code == 0 and out.splitlines()[0].endswith("· from facts.csv")
    plain = make_ws(tmp_path / "plain")
    assert "from" not in run(str(plain), "-m", "revenue")[1].splitlines()[0]


def test_unreadable_fx_file_is_a_finding(tmp_path):
    ws = make_ws(tmp_path, fx="currency,period,rate\nUSD,*,abc\n")
    code, findings = validate(ws)
    bad = [f for f in findings if f["code"] == "KAM151"]
    assert code == 1 and bad[0]["line"] == 2 and "'abc' is not a number" in bad[0]["message"]


def test_table_form_plugin_rule(kam_pm, tmp_path):
    """A third party's rule over the tables: registered with form="tables", located cells."""
    from kamcore import Violation, hookimpl
    from kamcore import validate as run_rules
    from kamcore.workspace import load

    def no_usd(tables):
        currency = tables.accounts.text("currency").to_pylist()
        for row, code in enumerate(currency):
            if code == "USD":
                yield Violation(tables.accounts.ids[row].as_py(), "USD account",
                                column="currency",
                                location=tables.accounts.location(row, "currency"))

    class Plugin:
        @hookimpl
        def kam_register_rules(self, register):
            register("TST101", "no-usd", no_usd, form="tables")

    kam_pm.register(Plugin(), name="tst")
    ws = make_ws(tmp_path)
    found = [(f.code, f.subject, f.line) for f in run_rules(load(ws, pm=kam_pm))
             if f.code == "TST101"]
    assert found == [("TST101", "N2", 4)]


FX_LINES = ["USD,2026Q1,0.5", "USD,2026Q2,0.4", "USD,2026,0.25", "USD,*,0.3", "USD,2026-05,0.2",
            "GBP,*,1.1", "GBP,2026Q2,1.2"]
FACT_LINES = ["G,2026Q1,revenue,10", "N2,2026Q1,revenue,4", "N2,2026-05,revenue,2",
              "N2,2026Q2,receivables,3", "N1,2026Q2,revenue,7", "N2,2026,orders,1"]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fx=st.lists(st.sampled_from(FX_LINES), unique=True),
       facts=st.lists(st.sampled_from(FACT_LINES), unique=True),
       n2_currency=st.sampled_from(["USD", "GBP", "EUR"]))
def test_validate_finds_a_missing_rate_exactly_when_a_rollup_stops(tmp_path_factory, fx, facts,
                                                                    n2_currency):
    """KAM151 and the rollup's KAM-R002 come from one pass: a rollup of every period runs
    exactly when validate reports no missing rate."""
    root = tmp_path_factory.mktemp("fx")
    ws = make_ws(root, accounts=ACCOUNTS.replace(",USD,20,3,", f",{n2_currency},20,3,"),
                 fx="currency,period,rate\n" + "".join(line + "\n" for line in fx),
                 facts="account,period,metric,value\n" + "".join(f + "\n" for f in facts)
                 if facts else None)
    _, findings = validate(ws)
    missing = [f for f in findings if f["code"] == "KAM151"]
    periods = sorted({f.split(",")[1] for f in facts}) or [None]
    stops = []
    for period in periods:
        code, _, err = run(str(ws), "--format", "json",
                           *(["--period", period] if period else []))
        assert code in (0, 2), err
        stops.append(code == 2 and "KAM-R002" in err)
    assert bool(missing) == any(stops), (missing, stops)


def test_unreadable_history_is_its_own_finding_not_an_fx_one(tmp_path):
    ws = make_ws(tmp_path, facts=FACTS, fx=FX)
    (ws / "history.csv").write_text("record,field,value,valid_from,valid_to,entry\n"
                                    "K1,parent,N1,2026-13-01,,\n")
    code, findings = validate(ws)
    assert code == 1
    assert [f["code"] for f in findings if f["severity"] == "error"] == ["KAM181"]


def test_a_facts_header_naming_a_column_twice_is_refused_with_the_file(tmp_path):
    ws = make_ws(tmp_path, facts="account,account,period,metric,value\nA,A,2026-Q1,revenue,1\n",
                 fx=FX)
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["validate", str(ws)])
    assert result.exit_code in (1, 2), result.output
    assert "facts.csv" in result.output and "account" in result.output
    assert "more than once" in result.output
    assert run(str(ws))[0] == 2

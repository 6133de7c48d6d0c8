"""Bad input on the fast path: every problem with file and line, non-zero exit, no total."""

from __future__ import annotations

import json

import pytest

from tests.test_rollup_cli import ACCOUNTS, make_ws, run

FACTS = """\
account,period,metric,value
G,2026Q1,revenue,10
N1,2026Q1,revenue,5
N2,2026Q1,revenue,4
G,2026Q2,revenue,20
N1,2026Q2,revenue,7
N2,2026-05,revenue,2
N2,2026-06,revenue,2
"""
FX = "currency,period,rate\nUSD,2026Q1,0.5\nUSD,2026,0.25\n"


@pytest.mark.parametrize(("change", "message"), [
    (("N2,Globex US,national,G", "N1,Globex US,national,G"),
     "accounts.csv:4: duplicate account id 'N1'"),
    (("K1,Globex Berlin,key,N1", "K1,Globex Berlin,key,NX"),
     "accounts.csv:5 (column 'parent'): account 'K1': parent 'NX' does not exist"),
    (("G,Globex,global,,", "G,Globex,global,K1,"),
     "account 'G' is its own ancestor: G -> K1 -> N1 -> G"),
    (("EUR,50,2,10", "EUR,5O,2,10"),
     "accounts.csv:3 (column 'revenue'): account 'N1': '5O' is not a number"),
    (("EUR,50,2,10", "EUR,inf,2,10"),
     "accounts.csv:3 (column 'revenue'): account 'N1': 'inf' is not a finite number"),
])
def test_bad_accounts(tmp_path, change, message):
    ws = make_ws(tmp_path, accounts=ACCOUNTS.replace(*change))
    code, out, err = run(str(ws))
    assert code == 2
    assert out == ""
    assert message in err


def test_facts_periods_ranges_and_fx_by_period(tmp_path):
    ws = make_ws(tmp_path, facts=FACTS, fx=FX)
    code, out, _ = run(str(ws), "-m", "revenue", "--format", "json", "--depth", "0")
    assert code == 0
    assert json.loads(out)["period"] == "2026Q2"  # the latest by default
    # 2026Q2: G 20 + N1 7 + N2 (2 + 2) USD at the 2026 rate 0.25 (no 2026Q2 rate) = 28
    assert json.loads(out)["rows"][0]["revenue_total"] == 28
    code, out, _ = run(str(ws), "-m", "revenue", "--period", "2026Q1..2026Q2", "--format",
                       "json", "--depth", "0")
    # 2026Q1: 10 + 5 + 4 * 0.5 = 17 (the quarter's own rate wins over the year's)
    assert json.loads(out)["rows"][0]["revenue_total"] == 17 + 28
    code, out, _ = run(str(ws), "-m", "revenue", "--by-period", "--format", "csv",
                       "--depth", "0")
    assert code == 0
    header, row = out.splitlines()
    assert header.split(",")[-4:] == ['"revenue_2026-05"', '"revenue_total_2026-05"',
                                      '"revenue_2026-06"', '"revenue_total_2026-06"']
    assert row.startswith("G,Globex,global,P1,Gaby,,0,10,17,20,27,,0.5,,0.5")


def test_missing_rate_for_a_period(tmp_path):
    ws = make_ws(tmp_path, facts=FACTS, fx="currency,period,rate\nUSD,2026Q2,0.5\n")
    code, _, err = run(str(ws), "--period", "2026Q1")
    assert code == 2
    assert "no FX rate for USD -> EUR in period 2026Q1 (needed by account 'N2'" in err


BAD_FACTS = FACTS + """\
ZZ,2026Q1,revenue,1
G,2026Q1,profit,1
G,2026Q3,revenue,abc
G,2026Q3,orders,NaN
G,2026Q4,orders,-inf
G,2026Q1,revenue,99
G,26Q1,revenue,1
"""


def test_bad_facts_refused_with_lines(tmp_path):
    ws = make_ws(tmp_path, facts=BAD_FACTS, fx=FX)
    code, out, err = run(str(ws))
    assert code == 2 and out == ""
    facts = str(ws / "facts.csv")
    # line 10 names a metric nobody declares: left out and named, never fatal (KAM153)
    assert "unknown metric 'profit'" not in err
    for expected in [f"{facts}:9: fact: unknown account 'ZZ'",
                     f"{facts}:11: fact: value 'abc' is not a number",
                     f"{facts}:12: fact: value 'NaN' is not finite",
                     f"{facts}:13: fact: value '-inf' is not finite",
                     f"{facts}:14: fact: duplicate of line 2",
                     f"{facts}:15: fact: '26Q1' is not a period"]:
        assert expected in err


def test_skip_bad_prints_totals_and_says_what_it_skipped(tmp_path):
    ws = make_ws(tmp_path, facts=BAD_FACTS, fx=FX)
    code, out, err = run(str(ws), "--skip-bad", "-m", "revenue", "--period", "2026Q1",
                         "--format", "json", "--depth", "0")
    assert code == 0
    data = json.loads(out)
    assert data["rows"][0]["revenue_total"] == 17
    assert len(data["skipped"]) == 7
    assert "warning: skipped 7 bad fact rows" in err
    assert "facts.csv:14: fact: duplicate of line 2" in err


def test_period_errors(tmp_path):
    ws = make_ws(tmp_path, facts=FACTS, fx=FX)
    code, _, err = run(str(ws), "--period", "Q3")
    assert code == 2 and "'Q3' is not a period" in err
    code, _, err = run(str(ws), "--period", "2025Q1..2025Q4")
    assert code == 2 and "no facts in 2025Q1..2025Q4" in err
    assert "the facts cover 2026Q1, 2026Q2, 2026-05, 2026-06" in err
    plain = make_ws(tmp_path / "plain")
    code, _, err = run(str(plain), "--period", "2026Q1")
    assert code == 2 and "--period and --by-period need facts" in err


def test_parquet_facts_give_the_same_totals_and_point_at_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_ws = make_ws(tmp_path / "csv", facts=FACTS, fx=FX)
    pq_ws = make_ws(tmp_path / "pq", fx=FX)
    rows = [line.split(",") for line in FACTS.splitlines()[1:]]
    table = pa.table({"account": [r[0] for r in rows], "period": [r[1] for r in rows],
                      "metric": [r[2] for r in rows], "value": [float(r[3]) for r in rows]})
    pq.write_table(table, pq_ws / "facts.parquet")
    args = ("-m", "revenue", "--period", "2026", "--format", "csv")
    assert run(str(pq_ws), *args)[1] == run(str(csv_ws), *args)[1]
    bad = table.set_column(3, "value", pa.array([1.0, 2.0, float("nan"), 4, 5, 6, 7]))
    pq.write_table(bad, pq_ws / "facts.parquet")
    code, _, err = run(str(pq_ws))
    assert code == 2 and "facts.parquet:3: fact: value nan is not finite" in err


def test_progress_only_on_a_terminal(monkeypatch):
    import io
    import time

    from kamcore.rollup.progress import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    piped = io.StringIO()
    with Progress(["a", "b"], stream=piped, delay=0) as progress:
        progress.step("a")
        time.sleep(0.25)
    assert piped.getvalue() == ""
    tty = Tty()
    with Progress(["a", "b"], stream=tty, delay=0) as progress:
        progress.step("b")
        time.sleep(0.25)
    assert "2/2 b" in tty.getvalue() and tty.getvalue().endswith("\r\033[K")
    quick = Tty()
    with Progress(["a"], stream=quick, delay=1.0) as progress:
        progress.step("a")
    assert quick.getvalue() == ""  # under a second: nothing drawn
    monkeypatch.setenv("CI", "true")
    ci = Tty()
    with Progress(["a"], stream=ci, delay=0) as progress:
        time.sleep(0.25)
    assert ci.getvalue() == ""


@pytest.mark.parametrize("metrics", [1, 40])
def test_duplicate_facts_found_by_counting_and_by_sorting(tmp_path, metrics):
    """A small key space (accounts x periods x metrics) is counted, a large one sorted."""
    import pyarrow as pa

    from kamcore.rollup.facts import BadFacts, read_facts

    accounts = 50
    rows = ["account,period,metric,value"]
    rows += [f"A{i},2026Q{q},revenue,{i}" for i in range(accounts) for q in (1, 2)]
    rows.append("A1,2026Q2,revenue,7")
    path = tmp_path / "facts.csv"
    path.write_text("\n".join(rows) + "\n")
    ids = pa.array([f"A{i}" for i in range(accounts)])
    with pytest.raises(BadFacts) as info:
        read_facts(path, ids, ["revenue", *(f"m{i}" for i in range(metrics - 1))])
    assert [str(p.location) + " " + p.message for p in info.value.problems] == [
        f"{path}:{len(rows)} fact: duplicate of line 5"]


BROKEN = ("K1,Globex Berlin,key,N1", "K1,Globex Berlin,key,NX")  # a parent that does not exist


@pytest.mark.parametrize("other", [
    ("-m", "no_such_metric"),                      # an unknown metric
    ("--by", "tier"),                              # a view that never asks for the tree
    ("--by", "no_such_field"),                     # an unknown field to group by
    ("--by", "manager", "--credit", "owner"),      # a view that replaces the accounts
    ("--period", "2026Q3"),                        # a period, and no facts to take it from
])
def test_a_broken_tree_is_the_error_shown_first(tmp_path, other):
    """The tree links on another core while the rest goes on; its errors still come first,
    whatever else is wrong, and a view that never walks the tree still refuses it."""
    ws = make_ws(tmp_path, accounts=ACCOUNTS.replace(*BROKEN))
    code, out, err = run(str(ws), *other)
    assert (code, out) == (2, "")
    assert "account 'K1': parent 'NX' does not exist [KAM102]" in err


def test_a_missing_rate_and_a_broken_tree_name_the_tree(tmp_path):
    ws = make_ws(tmp_path, accounts=ACCOUNTS.replace(*BROKEN), fx=None)
    code, _, err = run(str(ws), "-m", "revenue")
    assert code == 2 and "parent 'NX' does not exist" in err and "KAM-R002" not in err


def test_linking_later_gives_the_same_rows_and_errors(tmp_path):
    from kamcore.errors import BadTree
    from kamcore.rollup.columnar import columns_from_table
    from kamcore.workspace.tables import read_workspace

    tables = read_workspace(make_ws(tmp_path), columns=())
    now = columns_from_table(tables.accounts)
    later = columns_from_table(tables.accounts, later=True)
    assert later.parent.tolist() == now.parent.tolist() == [-1, 0, 0, 1]
    broken = read_workspace(make_ws(tmp_path / "b", accounts=ACCOUNTS.replace(*BROKEN)),
                            columns=())
    later = columns_from_table(broken.accounts, later=True)
    for _ in range(2):  # asked again (an error path asks twice): the same error
        with pytest.raises(BadTree, match="parent 'NX' does not exist"):
            later.parent  # noqa: B018
    with pytest.raises(AttributeError):
        later.no_such_attribute  # noqa: B018

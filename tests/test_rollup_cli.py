"""``kam rollup`` end to end on a tiny workspace whose totals are worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

ACCOUNTS = """\
id,name,tier,parent,manager,country,industry,currency,revenue,orders,receivables
G,Globex,global,,P1,DE,retail,EUR,100,1,
N1,Globex DE,national,G,P2,DE,retail,EUR,50,2,10
N2,Globex US,national,G,P2,US,retail,USD,20,3,
K1,Globex Berlin,key,N1,P1,DE,retail,EUR,,4,5
"""
PEOPLE = """\
id,name,role,reports_to,capacity,email,active,specialty
P0,Vera,vp,,,,true,
P1,Gaby,gam,P0,,,true,
P2,Nils,nam,P1,,,true,
P3,Kim,kam,P0,,,true,
"""


def make_ws(root: Path, *, accounts: str = ACCOUNTS, fx: str | None = "currency,period,rate\n"
            "USD,*,0.5\n", facts: str | None = None) -> Path:
    ws = root / "ws"
    ws.mkdir(parents=True)
    (ws / "kam.yaml").write_text("name: Tiny\ncurrency: EUR\n")
    (ws / "accounts.csv").write_text(accounts)
    (ws / "people.csv").write_text(PEOPLE)
    if fx is not None:
        (ws / "fx.csv").write_text(fx)
    if facts is not None:
        (ws / "facts.csv").write_text(facts)
    return ws


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["rollup", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_ws(tmp_path)


def test_account_tree_csv_exact(ws):
    code, out, err = run(str(ws), "--format", "csv")
    assert code == 0, err
    assert out == (
        '"id","name","tier","manager","manager_name","parent","depth","revenue","revenue_total",'
        '"orders","orders_total","receivables","receivables_total"\n'
        "G,Globex,global,P1,Gaby,,0,100,160,1,10,,15\n"
        "N1,Globex DE,national,P2,Nils,G,1,50,50,2,6,10,15\n"
        "K1,Globex Berlin,key,P1,Gaby,N1,2,,,4,4,5,5\n"
        "N2,Globex US,national,P2,Nils,G,1,10,10,3,3,,\n")


def test_account_tree_table(ws):
    code, out, _ = run(str(ws), "-m", "revenue", "-m", "orders")
    assert code == 0
    assert out.splitlines() == [
        "Tiny · account tree: subtree totals · money in EUR",
        "",
        "Account                     Tier      Manager  Revenue (EUR)  Orders",
        "--------------------------  --------  -------  -------------  ------",
        "Globex (G)                  global    Gaby               160      10",
        "├── Globex DE (N1)          national  Nils                50       6",
        "│   └── Globex Berlin (K1)  key       Gaby                 -       4",
        "└── Globex US (N2)          national  Nils                10       3",
    ]


def test_manager_table_person_without_accounts(ws):
    code, out, _ = run(str(ws), "--by", "manager", "-m", "orders")
    assert code == 0
    assert out.splitlines()[2:] == [
        "Id  Person        Role  Own accts  Team accts  Book Orders  Team Orders",
        "--  ------------  ----  ---------  ----------  -----------  -----------",
        "P0  Vera          vp            0           4            -           10",
        "P1  ├── Gaby      gam           2           4            5           10",
        "P2  │   └── Nils  nam           2           2            5            5",
        "P3  └── Kim       kam           0           0            -            -",
    ]


def test_manager_book_counts_own_values_only(ws):
    """P1 manages G and its grandchild K1: the book adds G's and K1's OWN orders (1 + 4),
    never G's subtree total; P3 manages nothing; the team adds the reports' books."""
    code, out, _ = run(str(ws), "--by", "manager", "--format", "json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)["rows"]}
    assert list(rows) == ["P0", "P1", "P2", "P3"]
    assert (rows["P1"]["orders_book"], rows["P1"]["orders_team"]) == (5, 10)
    assert (rows["P1"]["revenue_book"], rows["P1"]["revenue_team"]) == (100, 160)
    assert (rows["P2"]["orders_book"], rows["P2"]["revenue_book"]) == (5, 60)
    assert (rows["P0"]["accounts"], rows["P0"]["team_accounts"]) == (0, 4)
    assert rows["P0"]["orders_book"] is None and rows["P0"]["orders_team"] == 10
    assert rows["P3"]["accounts"] == 0 and rows["P3"]["orders_team"] is None


def test_group_by_country_and_unknown_field(ws):
    code, out, _ = run(str(ws), "--by", "country", "-m", "revenue", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [(r["country"], r["accounts"], r["revenue"]) for r in data["rows"]] == [
        ("DE", 3, 150), ("US", 1, 10)]
    assert data["total"] == {"country": "(all)", "accounts": 4, "revenue": 160}
    code, out, _ = run(str(ws), "--by", "tier", "-m", "orders")
    assert out.splitlines()[-2:] == ["--------  --------  ------", "(all)            4      10"]
    code, _, err = run(str(ws), "--by", "colour")
    assert code == 2 and "cannot group by 'colour'" in err and "tier" in err


def test_a_misspelt_view_or_field_says_which_was_meant_and_lists_the_choices(ws):
    choices = ("--by takes a view (account, manager, territory) or a field of accounts to "
               "group by (tier, country, industry, currency)")
    for wrong, meant in (("contry", "country"), ("Tier", "tier"), ("manger", "manager")):
        code, out, err = run(str(ws), "--by", wrong)
        assert (code, out) == (2, "")
        assert err == (f"Error: [KAM-E000] cannot group by {wrong!r}: it is no view and "
                       f"accounts have no such field\n  hint: did you mean {meant!r}? "
                       f"{choices}\n")
    code, _, err = run(str(ws), "--by", "zzz")
    assert code == 2 and err.endswith(f"hint: {choices}\n")


def test_top_depth_and_output_file(ws, tmp_path):
    target = tmp_path / "out.csv"
    code, out, err = run(str(ws), "-m", "orders", "--depth", "1", "--top", "2", "--format",
                         "csv", "-o", str(target))
    assert code == 0 and out == ""
    assert "wrote 2 rows" in err
    lines = target.read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["G", "N1"]


def test_missing_fx_rate_names_currency_and_period(tmp_path):
    ws = make_ws(tmp_path, fx=None)
    code, _, err = run(str(ws), "-m", "revenue")
    assert code == 2
    assert "no FX rate for USD -> EUR in undated values (accounts.csv)" in err
    assert "account 'N2'" in err and "accounts.csv:4" in err


def test_unknown_metric(ws):
    code, _, err = run(str(ws), "-m", "profit")
    assert code == 2 and "unknown metric 'profit'" in err and "revenue" in err


def test_a_misspelt_metric_says_which_was_meant_and_lists_the_metrics(ws):
    known = "known metrics: orders, receivables, revenue"
    for wrong, meant in (("revnue", "revenue"), ("Orders", "orders")):
        assert run(str(ws), "-m", wrong) == (
            2, "", f"Error: [KAM-R004] unknown metric {wrong!r}\n"
                   f"  hint: did you mean {meant!r}? {known}\n")
    assert run(str(ws), "-m", "zzz") == (
        2, "", f"Error: [KAM-R004] unknown metric 'zzz'\n  hint: {known}\n")


def test_tree_with_metric_totals(ws):
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["tree", str(ws), "--metric", "revenue", "-m", "orders"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith(" · revenue 160 EUR · orders 10")
    assert lines[2].endswith("K1 · Gaby (GAM) · revenue - · orders 4")


def test_unknown_manager_lands_in_unassigned(tmp_path):
    ws = make_ws(tmp_path, accounts=ACCOUNTS.replace("N2,Globex US,national,G,P2",
                                                     "N2,Globex US,national,G,PX"))
    code, out, _ = run(str(ws), "--by", "manager", "-m", "orders", "--format", "json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)["rows"]}
    assert list(rows)[-1] == "(unassigned)"
    assert rows["(unassigned)"]["name"] == "no or unknown manager"
    assert (rows["(unassigned)"]["accounts"], rows["(unassigned)"]["orders_book"]) == (1, 3)
    assert rows["P0"]["orders_team"] + rows["(unassigned)"]["orders_team"] == 10


def test_group_by_plugin_field_and_extra_column(tmp_path):
    lines = ACCOUNTS.splitlines()
    extra = ["retail.channels,region", "web,north", "store,north", "web,south", ","]
    ws = make_ws(tmp_path, accounts="\n".join(f"{a},{b}" for a, b in zip(lines, extra,
                                                                         strict=True)) + "\n")
    code, out, _ = run(str(ws), "--by", "retail.channels", "-m", "orders", "--format", "json")
    assert code == 0
    assert [(r["retail.channels"], r["orders"]) for r in json.loads(out)["rows"]] == [
        ("web", 4), ("store", 2), ("(none)", 4)]
    code, out, _ = run(str(ws), "--by", "region", "-m", "orders", "--format", "csv")
    assert out.splitlines()[1:] == ["north,2,3", "south,1,3", "(none),1,4"]


def test_account_table_names_managers_and_falls_back_to_ids(tmp_path):
    ws = make_ws(tmp_path, accounts=ACCOUNTS.replace("K1,Globex Berlin,key,N1,P1",
                                                     "K1,Globex Berlin,key,N1,P9"))
    code, out, _ = run(str(ws), "--format", "json", "-m", "orders")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)["rows"]}
    assert (rows["G"]["manager"], rows["G"]["manager_name"]) == ("P1", "Gaby")
    assert (rows["K1"]["manager"], rows["K1"]["manager_name"]) == ("P9", "P9")

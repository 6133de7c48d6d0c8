"""Rollups as they were and restated, the reconciliation between them, and kam diff."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import kamcore
from kamcore import changes
from kamcore.cli.app import make_cli
from kamcore.errors import KamError
from kamcore.plugins import get_plugin_manager
from kamcore.rollup.periods import parse_period
from kamcore.rollup.restate import parse_hierarchy, period_end
from tests.test_changes_support import save_small

FACTS = "account,period,metric,value\n" + "".join(
    f"{a},2026Q{q},revenue,{v * q}\n" for q in (1, 2, 3, 4)
    for a, v in (("R1", 5), ("R2", 7), ("K2", 10), ("K3", 20), ("R3", 3)))


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """R2 moves from K1 to K2 on 2026-04-01 (a back-dated change, today is 2026-06-15)."""
    monkeypatch.setenv("KAM_TODAY", "2026-06-15")
    folder = save_small(tmp_path / "org")
    (folder / "facts.csv").write_text(FACTS)
    org = kamcore.load(folder, pm=get_plugin_manager(load_entrypoints=False),
                       as_of="2026-04-01")
    changes.apply(changes.move(org, "R2", to="K2"))
    return folder


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def totals(result, metric="revenue"):
    return {r["id"]: {p: r[f"{metric}_total_{p}"] for p in result.periods}
            for r in result.rows}


def test_period_ends_and_hierarchy_words():
    assert period_end(parse_period("2026Q1")) == date(2026, 3, 31)
    assert period_end(parse_period("2026-12")) == date(2026, 12, 31)
    assert period_end(parse_period("2024-02")) == date(2024, 2, 29)
    assert parse_hierarchy("as-was").as_was
    assert parse_hierarchy("Current").day is None
    assert parse_hierarchy("2025-12-31").day == date(2025, 12, 31)
    with pytest.raises(KamError, match="neither as-was, current nor a date"):
        parse_hierarchy("then")


def test_as_was_rolls_each_period_up_its_own_tree_and_restated_uses_one(ws):
    was = kamcore.rollup(ws, ["revenue"], period="2026Q1..2026Q4", hierarchy="as-was")
    now = kamcore.rollup(ws, ["revenue"], period="2026Q1..2026Q4", hierarchy="current")
    then = kamcore.rollup(ws, ["revenue"], period="2026Q1..2026Q4", hierarchy="2026-01-01")
    assert was.periods == now.periods == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    w, n, t = totals(was), totals(now), totals(then)
    # Q1 ended before the move: R2 (7 in Q1) counted under K1 as it was
    assert w["K1"]["2026Q1"] == 5 + 7 and w["K2"]["2026Q1"] == 10
    assert w["K1"]["2026Q2"] == 5 * 2 and w["K2"]["2026Q2"] == (10 + 7) * 2
    assert n["K1"]["2026Q1"] == 5 and n["K2"]["2026Q1"] == 10 + 7    # restated on today's
    assert t["K1"]["2026Q4"] == (5 + 7) * 4                          # restated on January's
    # nothing is lost either way: the roots agree
    assert w["G"] == n["G"] == t["G"]
    assert was.hierarchy == "as was: each period on the tree at its end"
    assert now.hierarchy == "restated on the tree of today"


def test_the_reconciliation_lists_what_differs_in_table_csv_and_json(ws):
    args = ["rollup", str(ws), "--period", "2026Q1..2026Q4", "--hierarchy", "as-was",
            "--reconcile", "-m", "revenue"]
    table = run(*args)
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[2:] == [
        "Account id  Account        Period  As was under  Restated under  Revenue (USD)",
        "----------  -------------  ------  ------------  --------------  -------------",
        "R2          Berlin shop 2  2026Q1  K1            K2                          7",
    ]
    csv = run(*args, "--format", "csv")
    assert csv.stdout.splitlines()[1:] == ["R2,Berlin shop 2,2026Q1,K1,K2,7"]
    data = json.loads(run(*args, "--format", "json").stdout)
    assert data["view"] == "reconciliation"
    assert data["rows"] == [{"id": "R2", "name": "Berlin shop 2", "period": "2026Q1",
                             "from": "K1", "to": "K2", "revenue": 7.0}]
    # against January's tree instead of today's, Q2..Q4 differ and Q1 does not
    against = json.loads(run(*args, "--as-of", "2026-01-01", "--format", "json").stdout)
    assert [r["period"] for r in against["rows"]] == ["2026Q2", "2026Q3", "2026Q4"]
    assert [r["revenue"] for r in against["rows"]] == [14.0, 21.0, 28.0]


def test_hierarchy_misuse_is_a_clear_error(ws):
    for args, message in (
            (["--hierarchy", "as-was", "--by", "manager"], "works with the account tree"),
            (["--reconcile"], "add --hierarchy as-was"),
            (["--hierarchy", "current", "--reconcile"], "use --hierarchy as-was --reconcile"),
            (["--hierarchy", "yesterday"], "neither as-was, current nor a date")):
        result = run("rollup", str(ws), *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr
    (ws / "facts.csv").unlink()
    result = run("rollup", str(ws), "--hierarchy", "as-was")
    assert result.exit_code == 2 and "need facts" in result.stderr


def test_diff_lists_moves_assignments_tiers_hires_and_leavers_with_what_they_carried(ws):
    org = kamcore.load(ws, as_of="2026-05-01")
    changes.apply(changes.hire(org, id="KAM9", name="Nia New", role="kam", reports_to="NAM1"))
    org = kamcore.load(ws, as_of="2026-05-02")
    changes.apply(changes.leave(org, "KAM1", to=["KAM9"]))
    result = run("diff", str(ws), "--from", "2026-01-01", "--to", "2026-06-01", "--format",
                 "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    got = [(c["change"], c["record"], c["from"], c["to"], c["amount"]) for c in data["changes"]]
    assert got == [("move", "R2", "K1", "K2", 28.0),
                   ("assign", "K1", "KAM1", "KAM9", None),
                   ("assign", "K2", "KAM1", "KAM9", 40.0),
                   ("hire", "KAM9", None, None, 40.0),
                   ("leave", "KAM1", None, None, 40.0)]
    assert data["currency"] == "USD"
    none = run("diff", str(ws), "--from", "2026-01-01", "--to", "2026-01-02")
    assert none.stdout == "No changes between those days.\n"
    bad = run("diff", str(ws), "--from", "2026-06-01", "--to", "2026-01-01")
    assert bad.exit_code == 2 and "is before --from" in bad.stderr
    typo = run("diff", str(ws), "--from", "2026-01-01", "-m", "revnue")
    assert typo.exit_code == 2 and typo.stderr == (
        "Error: [KAM-E000] no metric 'revnue' in this org\n"
        "  hint: did you mean 'revenue'? known metrics: orders, receivables, revenue\n")


# -- as-was against restated, on random histories --------------------------------------------

QUARTERS = ["2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4"]
MOVES = {"R1": ["K1", "K2", "K3"], "R2": ["K1", "K2", "K3"], "R3": ["K1", "K2", "K3"],
         "K1": ["N-DE", "N-FR"], "K2": ["N-DE", "N-FR"], "K3": ["N-DE", "N-FR"]}
EDGES = ["", "2025-05-10", "2025-09-30", "2025-10-01", "2026-01-15", "2026-03-31",
         "2026-06-15", "2026-08-01", "2026-12-31", "2027-02-01"]


@st.composite
def parent_histories(draw: st.DrawFn) -> list[str]:
    """Parent rows of regular accounts (under any key account) and key accounts (under either
    national one): gaps where the file's parent holds, overlaps where the later start wins,
    open and bounded ends, manager rows beside them (another field's run)."""
    rows = []
    for record, parents in MOVES.items():
        for _ in range(draw(st.integers(0, 4))):
            start = draw(st.sampled_from(EDGES))
            later = [e for e in EDGES if e > start] + [""]
            end = draw(st.sampled_from(later))
            rows.append(f"{record},parent,{draw(st.sampled_from(parents))},{start},{end},")
        if draw(st.booleans()):
            rows.append(f"{record},manager,{draw(st.sampled_from(['KAM1', 'KAM2']))},"
                        f"{draw(st.sampled_from(EDGES))},,")
    return draw(st.permutations(rows))


@settings(max_examples=30, deadline=None)
@given(history=parent_histories())
def test_as_was_is_each_period_restated_on_its_own_end(
        tmp_path_factory: pytest.TempPathFactory, history: list[str]):
    """Each period of an as-was rollup holds what a rollup restated on that period's last day
    holds for it, whatever day the tables were read as of (the period trees start from that
    day's tree and put back the files' parent where its rows no longer cover)."""
    folder = save_small(tmp_path_factory.mktemp("org"))
    (folder / "facts.csv").write_text("account,period,metric,value\n" + "".join(
        f"{a},{q},revenue,{(i + 1) * (j + 2)}\n" for j, q in enumerate(QUARTERS)
        for i, a in enumerate(["G", "N-DE", "K1", "K2", "R1", "R2", "N-FR", "K3", "R3"])))
    (folder / "history.csv").write_text(
        "record,field,value,valid_from,valid_to,entry\n" + "".join(r + "\n" for r in history))
    span = f"{QUARTERS[0]}..{QUARTERS[-1]}"
    restated = {q: totals(kamcore.rollup(folder, ["revenue"], period=span,
                                         hierarchy=period_end(parse_period(q)).isoformat()))
                for q in QUARTERS}
    for as_of in (None, "2025-01-01", "2026-02-01", "2027-06-01"):
        was = totals(kamcore.rollup(folder, ["revenue"], period=span, hierarchy="as-was",
                                    as_of=as_of))
        for q in QUARTERS:
            assert {a: t[q] for a, t in was.items()} == \
                {a: t[q] for a, t in restated[q].items()}, (as_of, q)

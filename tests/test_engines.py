"""One answer: the in-process, DuckDB and Spark engines total the same facts to the same
numbers (integers exactly, floats to 1e-9 relative) on random forests and fact tables; and
their refusals are located errors.

Spark starts one local session for the whole module (a JVM start is the slow part) and runs a
handful of examples; it is skipped, saying why, without pyspark or Java.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kamcore
from kamcore.cli.app import make_cli
from kamcore.errors import KamError
from kamcore.plugins import get_plugin_manager
from kamcore.rollup.engines import choose_engine

PERIODS = ["2025Q4", "2026Q1", "2026Q2", "2026-04", "2026"]
METRICS = ["revenue", "orders", "peak", "low", "score"]
KAM_YAML = """name: engines
currency: EUR
metrics:
  peak: {aggregation: max}
  low: {aggregation: min}
  score: {aggregation: mean}
"""


@st.composite
def workspaces(draw: st.DrawFn) -> dict[str, object]:
    n = draw(st.integers(min_value=1, max_value=25))
    parents = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, n)]
    currencies = [draw(st.sampled_from(["EUR", "USD", ""])) for _ in range(n)]
    owners = draw(st.booleans())
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=60))):
        metric = draw(st.sampled_from(METRICS))
        value: float = (draw(st.integers(-10**6, 10**6)) if metric == "orders" else
                        draw(st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)))
        rows.append((draw(st.integers(0, n - 1)), draw(st.sampled_from(PERIODS)), metric,
                     value, draw(st.sampled_from(["P1", "P2", None])) if owners else None))
    seen: set[tuple[object, ...]] = set()
    unique = []
    for row in rows:
        key = (row[0], row[1], row[2], row[4])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return {"parents": parents, "currencies": currencies, "facts": unique, "owners": owners,
            "period": draw(st.sampled_from([None, "2026", "2026Q1..2026Q2", "2025Q4"])),
            "by": draw(st.sampled_from(["account", "manager", "currency"]))}


def write(folder: Path, ws: dict[str, object], *, partitioned: bool = False) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "kam.yaml").write_text(KAM_YAML)
    parents, currencies = ws["parents"], ws["currencies"]
    assert isinstance(parents, list) and isinstance(currencies, list)
    lines = ["id,name,tier,parent,manager,currency"] + [
        f"A{i},A{i},regular,{'' if p is None else f'A{p}'},{'P1' if i % 2 else 'P2'},{c}"
        for i, (p, c) in enumerate(zip(parents, currencies, strict=True))]
    (folder / "accounts.csv").write_text("\n".join(lines) + "\n")
    (folder / "people.csv").write_text("id,name,role,reports_to\nP1,One,director,\n"
                                       "P2,Two,am,P1\n")
    (folder / "fx.csv").write_text("currency,period,rate\nUSD,*,0.5\n")
    facts = ws["facts"]
    assert isinstance(facts, list)
    columns = {"account": [f"A{r[0]}" for r in facts], "period": [r[1] for r in facts],
               "metric": [r[2] for r in facts],
               "value": pa.array([float(r[3]) for r in facts], pa.float64())}
    if ws["owners"]:
        columns["owner"] = [r[4] for r in facts]
    table = pa.table(columns)
    if partitioned:
        pq.write_to_dataset(table, folder / "facts.parquet", partition_cols=["period"])
    else:
        pq.write_table(table, folder / "facts.parquet")


def totals(folder: Path, ws: dict[str, object], engine: str) -> list[dict[str, object]]:
    try:
        result = kamcore.rollup(folder, METRICS, by=str(ws["by"]), period=ws["period"],
                                engine=engine, pm=get_plugin_manager(load_entrypoints=False),
                                credit="owner" if ws["owners"] and ws["by"] == "manager"
                                else "account")
    except KamError as exc:
        return [{"error": exc.message}]
    return result.table.to_pylist()


def same(a: list[dict[str, object]], b: list[dict[str, object]]) -> None:
    assert len(a) == len(b)
    for left, right in zip(a, b, strict=True):
        assert left.keys() == right.keys()
        for key, x in left.items():
            y = right[key]
            if isinstance(x, float) and isinstance(y, (int, float)):
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6), (key, x, y)
            else:
                assert x == y, (key, left, right)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ws=workspaces(), partitioned=st.booleans())
def test_duckdb_gives_the_in_process_totals(tmp_path_factory: pytest.TempPathFactory,
                                            ws: dict[str, object], partitioned: bool):
    folder = tmp_path_factory.mktemp("ws")
    write(folder, ws, partitioned=partitioned)
    same(totals(folder, ws, "memory"), totals(folder, ws, "duckdb"))


def bad_workspace(tmp_path: Path) -> Path:
    ws = {"parents": [None, 0], "currencies": ["EUR", "EUR"], "owners": False,
          "facts": [(0, "2026Q1", "orders", 3), (1, "2026Q1", "orders", 4)],
          "period": None, "by": "account"}
    write(tmp_path / "ws", ws)
    pq.write_table(pa.table({
        "account": ["A0", "A1", "ZZ", "A1", "A0"],
        "period": ["2026Q1", "2026Q1", "2026Q1", "Q9", "2026Q2"],
        "metric": ["orders", "orders", "orders", "orders", "orders"],
        "value": [3.0, 4.0, 5.0, 6.0, float("inf")]}), tmp_path / "ws" / "facts.parquet")
    return tmp_path / "ws"


def test_duckdb_refusals_are_located_and_skip_bad_agrees(tmp_path: Path):
    folder = bad_workspace(tmp_path)
    runner = CliRunner()
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    result = runner.invoke(cli, ["rollup", str(folder), "--engine", "duckdb", "-m", "orders",
                                 "--period", "2026"])
    assert result.exit_code == 2, result.output
    assert "facts.parquet:3: fact: unknown account 'ZZ'" in result.output
    assert "facts.parquet:4: fact: 'Q9' is not a period" in result.output
    assert "facts.parquet:5: fact: value 'inf' is not finite" in result.output
    assert "Traceback" not in result.output
    # the engines read (and check) the rows of the periods shown and every non-period cell
    only_q2 = runner.invoke(cli, ["rollup", str(folder), "--engine", "duckdb", "-m", "orders"])
    assert "'ZZ'" not in only_q2.output and "'Q9' is not a period" in only_q2.output
    for period in ("2026Q1", "2026Q2"):
        outs = [runner.invoke(cli, ["rollup", str(folder), "--engine", engine, "-m", "orders",
                                    "--skip-bad", "--period", period, "--format", "csv"])
                for engine in ("memory", "duckdb")]
        assert outs[0].exit_code == 0 and outs[0].stdout == outs[1].stdout


def test_auto_engine_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = bad_workspace(tmp_path)
    path = folder / "facts.parquet"
    assert choose_engine(None, path) == "memory"
    monkeypatch.setenv("KAM_ENGINE_BYTES", "10")
    assert choose_engine(None, path) == "duckdb"
    assert choose_engine("memory", path) == "memory"
    assert choose_engine(None, folder / "facts.csv") == "memory"  # CSV stays in process


def test_unreachable_spark_master_is_a_clear_error(tmp_path: Path):
    folder = bad_workspace(tmp_path)
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), [
        "rollup", str(folder), "--engine", "spark", "--master", "spark://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "cannot reach the Spark master spark://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output


def test_engines_need_parquet(tmp_path: Path):
    folder = bad_workspace(tmp_path)
    (folder / "facts.parquet").unlink()
    (folder / "facts.csv").write_text("account,period,metric,value\nA0,2026Q1,orders,1\n")
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), [
        "rollup", str(folder), "--engine", "duckdb"])
    assert result.exit_code == 2 and "read Parquet facts" in result.output


def test_unreadable_parquet_is_a_clear_error(tmp_path: Path):
    folder = bad_workspace(tmp_path)
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    (folder / "facts.parquet").write_bytes(b"not parquet at all")
    result = CliRunner().invoke(cli, ["rollup", str(folder), "--engine", "duckdb"])
    assert result.exit_code == 2 and "DuckDB cannot read" in result.output
    pq.write_table(pa.table({"account": ["A0"], "amount": [1.0]}), folder / "facts.parquet")
    result = CliRunner().invoke(cli, ["rollup", str(folder), "--engine", "duckdb"])
    assert result.exit_code == 2
    assert "missing column(s) period, metric, value in facts.parquet" in result.output


@pytest.fixture(scope="module")
def spark_master() -> str:
    """One local Spark session for the module's Spark tests. Skipped (saying why) without
    pyspark or Java, except in CI, whose .ci/run installs both: there it fails."""
    import importlib.util
    import os

    missing = ("pyspark is not installed (pip install kamcore[spark])"
               if importlib.util.find_spec("pyspark") is None else
               "Spark needs Java (apt-get install openjdk-17-jre-headless)"
               if shutil.which("java") is None and not os.environ.get("JAVA_HOME") else None)
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI installs Spark's requirements, yet {missing}")
        pytest.skip(missing)
    from kamcore.rollup.engines.spark import session

    master = "local[2]"
    session(master)
    return master


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ws=workspaces())
def test_spark_gives_the_in_process_totals(tmp_path_factory: pytest.TempPathFactory,
                                           spark_master: str, ws: dict[str, object]):
    import os

    folder = tmp_path_factory.mktemp("ws")
    write(folder, ws, partitioned=True)
    os.environ["SPARK_MASTER"] = spark_master
    try:
        same(totals(folder, ws, "memory"), totals(folder, ws, "spark"))
    finally:
        del os.environ["SPARK_MASTER"]


def test_spark_docs_command(spark_master: str, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch):
    """docs/warehouse.md's Spark line runs (in the shared session) on the org its shell block
    makes, and agrees with the in-process engine."""
    import re
    import shlex

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "examples" / "crm" / "salesforce", tmp_path / "sf")
    monkeypatch.chdir(tmp_path / "sf")
    monkeypatch.setenv("SPARK_MASTER", spark_master)
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    text = (root / "docs" / "warehouse.md").read_text()
    block = text.split("On Spark", 1)[0].rsplit("```console\n", 1)[1].split("```", 1)[0]
    for line in block.splitlines()[1:3]:  # the two imports after `cd`
        assert CliRunner().invoke(cli, shlex.split(line)[1:]).exit_code == 0, line
    line = re.search(r"```text\n(kam rollup .*--engine spark.*)\n```", text)
    assert line is not None
    args = shlex.split(line[1])[1:]
    spark = CliRunner().invoke(cli, [*args, "--format", "csv"])
    memory = CliRunner().invoke(cli, [*[a if a != "spark" else "memory" for a in args],
                                      "--format", "csv"])
    assert spark.exit_code == 0, spark.output
    assert spark.stdout == memory.stdout and "150000" in spark.stdout


def test_dialect_layer_transpiles_for_warehouses():
    pytest.importorskip("sqlglot")
    from kamcore.rollup.engines.sql import totals_sql, transpile

    sql = totals_sql(owner=True, chosen=[0, 1])
    for dialect in ("spark", "snowflake", "bigquery", "postgres"):
        out = transpile(sql, dialect)
        assert "kam_raw" in out and "GROUP BY" in out.upper(), dialect
    assert transpile(sql, "duckdb") == sql


def huge_workspace(tmp_path: Path, values: list[object]) -> Path:
    """A parent and a child with revenue facts of two quarters: ``values`` are A0's 2026Q1,
    A1's 2026Q1 and A0's 2026Q2 cells (numbers, or text as a Parquet string column)."""
    ws = {"parents": [None, 0], "currencies": ["EUR", "EUR"], "owners": False,
          "facts": [], "period": None, "by": "account"}
    write(tmp_path / "ws", ws)
    pq.write_table(pa.table({"account": ["A0", "A1", "A0"],
                             "period": ["2026Q1", "2026Q1", "2026Q2"],
                             "metric": ["revenue"] * 3, "value": values}),
                   tmp_path / "ws" / "facts.parquet")
    return tmp_path / "ws"


@pytest.mark.parametrize("engine", ["memory", "duckdb", "spark"])
def test_totals_past_float64_are_refused_alike(engine: str, tmp_path: Path,
                                              request: pytest.FixtureRequest,
                                              monkeypatch: pytest.MonkeyPatch):
    """1e308 twice: under one parent (a subtree total), and in two periods of one account
    (its own value over 2026): every engine refuses with KAM-R005 naming the accounts, and
    no ``inf`` reaches the output; a cell past float64 is a located fact error in each."""
    if engine == "spark":
        monkeypatch.setenv("SPARK_MASTER", request.getfixturevalue("spark_master"))
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    folder = huge_workspace(tmp_path, [1e308, 1e308, 1e308])
    runner = CliRunner()
    subtree = runner.invoke(cli, ["rollup", str(folder), "--engine", engine, "--period",
                                  "2026Q1", "--format", "json"])
    assert subtree.exit_code == 2 and "Traceback" not in subtree.output
    message = " ".join(subtree.output.split())
    assert ("[KAM-R005] revenue: the values add up past the largest number a total can hold "
            "(about 1.8e308); the largest: account 'A0' at ") in message
    assert "accounts.csv:2: 1e+308; account 'A1' at " in message
    periods = runner.invoke(cli, ["rollup", str(folder), "--engine", engine, "--period",
                                  "2026", "-m", "revenue", "--format", "csv"])
    assert periods.exit_code == 2 and "[KAM-R005]" in periods.output
    assert "accounts.csv:2: past 1.8e308 on its own;" in " ".join(periods.output.split())
    assert "inf" not in periods.output.replace("info", "")
    alone = runner.invoke(cli, ["rollup", str(folder), "--engine", engine, "--period",
                                "2026Q2", "--format", "csv"])
    assert alone.exit_code == 0 and "1e+308" in alone.stdout  # one 1e308 is a fine total
    text = huge_workspace(tmp_path / "t", ["1e309", "-1e308", "2"])
    cell = runner.invoke(cli, ["rollup", str(text), "--engine", engine, "--period", "2026"])
    assert cell.exit_code == 2 and "[KAM-R001]" in cell.output
    assert "facts.parquet:1: fact: value '1e309' is not finite" in cell.output

"""One answer: the in-process, DuckDB and Spark engines total the same facts to the same
numbers (integers exactly, floats to 1e-9 relative) on random forests and fact tables; and
their refusals are located errors.

Spark starts one local session for the whole module (a JVM start is the slow part) and runs a
handful of examples; it is skipped, saying why, without pyspark or Java.
"""

from __future__ import annotations

import math
import shutil
import subprocess
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


def to_database(folder: Path, kind: str) -> str:
    """The workspace's facts.parquet (one file) as the table ``facts`` of a SQLite or DuckDB
    database file beside it, as a user's warehouse would hold them; its URL (absolute)."""
    table = pq.read_table(folder / "facts.parquet")
    file = folder / ("facts.db" if kind == "sqlite" else "facts.duckdb")
    if kind == "sqlite":
        import sqlite3

        real = pa.types.is_floating(table.schema.field("value").type)
        columns = ", ".join(f"{name} REAL" if name == "value" and real else name
                            for name in table.column_names)
        with sqlite3.connect(file) as con:  # value REAL: numbers; untyped: text stays text
            con.execute(f"CREATE TABLE facts ({columns})")
            marks = ", ".join("?" for _ in table.column_names)
            con.executemany(f"INSERT INTO facts VALUES ({marks})",
                            [tuple(row.values()) for row in table.to_pylist()])
        con.close()
    else:
        import duckdb

        with duckdb.connect(str(file)) as con:
            con.register("source", table)
            con.execute("CREATE TABLE facts AS SELECT * FROM source")
    return f"{kind}:///{file}"


def totals(folder: Path, ws: dict[str, object], engine: str) -> list[dict[str, object]]:
    database = None
    if engine in ("sqlite", "duckdb-file"):
        database, engine = to_database(folder, engine.removesuffix("-file")), "sql"
    try:
        result = kamcore.rollup(folder, METRICS, by=str(ws["by"]), period=ws["period"],
                                engine=engine, database=database,
                                pm=get_plugin_manager(load_entrypoints=False),
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


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ws=workspaces(), kind=st.sampled_from(["sqlite", "duckdb-file"]))
def test_a_sql_database_gives_the_in_process_totals(tmp_path_factory: pytest.TempPathFactory,
                                                   ws: dict[str, object], kind: str):
    """The facts as a table of a SQLite database (the sqlite dialect, through the standard
    library's DB-API) or of a DuckDB database file (through DuckDB's DB-API)."""
    folder = tmp_path_factory.mktemp("ws")
    write(folder, ws)
    same(totals(folder, ws, "memory"), totals(folder, ws, kind))


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


def kam_process(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """``kam`` as a user runs it: its own process, so the JVM's stderr is the process's."""
    import os
    import sys

    return subprocess.run([sys.executable, "-c", "from kamcore.cli.app import main; main()",
                           *args],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "KAM_LOAD_PLUGINS": "", **env})


def test_spark_keeps_the_jvm_quiet(spark_master: str, tmp_path: Path):
    """log4j's banner, the hostname and native-library warnings stay off the terminal."""
    write(tmp_path / "ws", {"parents": [None, 0], "currencies": ["EUR", "EUR"],
                            "owners": False, "facts": [(0, "2026Q1", "orders", 3),
                                                       (1, "2026Q1", "orders", 4)],
                            "period": None, "by": "account"})
    done = kam_process(["rollup", str(tmp_path / "ws"), "--engine", "spark", "--master",
                        "local[1]", "-m", "orders", "--format", "csv"])
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "A0," in done.stdout


def test_a_jvm_that_does_not_start_is_shown(tmp_path: Path):
    """What the JVM said is in the error, since it no longer reaches the terminal."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed (pip install kamcore[spark])")
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\necho 'Error: this Java refuses to start' >&2\nexit 1\n")
    java.chmod(0o755)
    folder = bad_workspace(tmp_path)
    done = kam_process(["rollup", str(folder), "--engine", "spark", "--master", "local[1]"],
                       JAVA_HOME=str(tmp_path / "jdk"))
    assert done.returncode == 2, done.stderr
    assert "Spark did not start (local[1])" in done.stderr
    assert "the JVM said:" in done.stderr and "this Java refuses to start" in done.stderr
    assert "Traceback" not in done.stderr


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


@pytest.mark.parametrize("engine", ["memory", "duckdb", "spark", "sqlite"])
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
    where = "facts.parquet:1"
    if engine == "sqlite":  # the facts as a SQLite table: located by database and table
        engine, where = "sql", "facts.db (table facts)"
        monkeypatch.setenv("KAM_ENGINE", "sql")
        (folder / "kam.yaml").write_text(KAM_YAML + "warehouse: {database: sqlite:///facts.db}\n")
        to_database(folder, "sqlite")
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
    if engine == "sql":
        (text / "kam.yaml").write_text(KAM_YAML + "warehouse: {database: sqlite:///facts.db}\n")
        to_database(text, "sqlite")
    cell = runner.invoke(cli, ["rollup", str(text), "--engine", engine, "--period", "2026"])
    assert cell.exit_code == 2 and "[KAM-R001]" in cell.output
    assert f"{where}: fact: value '1e309' is not finite" in cell.output


def sqlite_workspace(tmp_path: Path) -> tuple[Path, str]:
    """bad_workspace's facts as a SQLite table whose value column has no type, so text cells
    stay text ('abc', 'inf') as a loosely typed source table holds them."""
    import sqlite3

    folder = bad_workspace(tmp_path)
    (folder / "facts.parquet").unlink()
    with sqlite3.connect(folder / "facts.db") as con:
        con.execute("CREATE TABLE facts (account TEXT, period TEXT, metric TEXT, value)")
        con.executemany("INSERT INTO facts VALUES (?, ?, ?, ?)", [
            ("A0", "2026Q1", "orders", 3), ("A1", "2026Q1", " Orders ", "4.5"),
            ("ZZ", "2026Q1", "orders", 5), ("A1", "Q9", "orders", 6),
            ("A0", "2026Q2", "orders", "inf"), ("A1", "2026Q2", "orders", "abc"),
            ("A0", "2026Q2", "orders", "12abc"), ("A1", "2026Q2", "orders", " +7 ")])
    con.close()
    return folder, f"sqlite:///{folder / 'facts.db'}"


def test_sql_refusals_are_located_and_skip_bad_agrees(tmp_path: Path):
    """SQLite's CAST('abc' AS REAL) is 0.0 and CAST('12abc' AS REAL) is 12.0: the value check
    there is the in-process reader's (kam_number), so both are refused, as in process."""
    folder, url = sqlite_workspace(tmp_path)
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    runner = CliRunner()
    result = runner.invoke(cli, ["rollup", str(folder), "--database", url, "-m", "orders",
                                 "--period", "2026"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    where = f"{folder / 'facts.db'} (table facts): fact: "
    for message in ("unknown account 'ZZ'", "'Q9' is not a period", "value 'inf' is not finite",
                    "value 'abc' is not a number", "value '12abc' is not a number"):
        assert where + message in result.output, message
    # the same rows as CSV facts, read in process: the same totals once the bad rows are out
    rows = "\n".join(["account,period,metric,value", "A0,2026Q1,orders,3",
                      "A1,2026Q1, Orders ,4.5", "ZZ,2026Q1,orders,5", "A1,Q9,orders,6",
                      "A0,2026Q2,orders,inf", "A1,2026Q2,orders,abc",
                      "A0,2026Q2,orders,12abc", "A1,2026Q2,orders, +7 "]) + "\n"
    (folder / "facts.csv").write_text(rows)
    for period in ("2026Q1", "2026Q2"):
        sql = runner.invoke(cli, ["rollup", str(folder), "--database", url, "-m", "orders",
                                  "--skip-bad", "--period", period, "--format", "csv"])
        memory = runner.invoke(cli, ["rollup", str(folder), "--engine", "memory", "-m",
                                     "orders", "--skip-bad", "--period", period,
                                     "--format", "csv"])
        assert sql.exit_code == 0 and sql.stdout == memory.stdout, (sql.output, memory.output)
    assert sql.stdout.splitlines()[1:] == ["A0,A0,regular,P2,Two,,0,,7",  # ' +7 ' is a number
                                           "A1,A1,regular,P1,One,A0,1,7,7"]


@pytest.mark.parametrize(("args", "message"), [
    (["--engine", "sql"], "--engine sql reads the facts from a database: none is named"),
    (["--engine", "memory", "--database", "sqlite:///facts.db"],
     "--database is read by --engine sql, not memory"),
    (["--database", "sqlite:///nowhere.db"], "nowhere.db does not exist"),
    (["--database", "sqlite:///accounts.csv"], "file is not a database"),
    (["--database", "postgresql://kam@db.example/sales"],
     "cannot open the database 'postgresql://kam@db.example/sales': kam opens "
     "sqlite:///FILE, duckdb:///FILE itself"),
    (["--database", "sqlite:///facts.db", "--facts-table", "invoices"],
     "cannot read the table invoices of"),
    (["--database", "sqlite:///facts.db", "--facts-table", "facts; DROP TABLE facts"],
     "'facts; DROP TABLE facts' is not a table name"),
    (["--database", "sqlite:///facts.db", "--facts-table", "wrong"],
     "missing column(s) period, metric in the table wrong of"),
])
def test_sql_engine_errors_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     args: list[str], message: str):
    import sqlite3

    folder, _ = sqlite_workspace(tmp_path)
    with sqlite3.connect(folder / "facts.db") as con:
        con.execute("CREATE TABLE wrong (account TEXT, value REAL)")
    con.close()
    before = (folder / "facts.db").read_bytes()
    monkeypatch.chdir(folder)  # a URL typed on the command line is relative to here
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["rollup", str(folder), *args])
    assert result.exit_code == 2, result.output
    assert "[KAM-R006]" in result.output and message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert (folder / "facts.db").read_bytes() == before  # opened read-only: nothing written
    assert not (folder / "nowhere.db").exists()


def test_kam_yaml_names_the_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """warehouse: in kam.yaml: the URL is relative to the workspace, wherever kam runs, and
    auto then means the sql engine; a command-line URL wins."""
    import duckdb

    folder, _ = sqlite_workspace(tmp_path)
    (folder / "facts.db").rename(folder / "sales.db")
    with duckdb.connect(str(folder / "sales.duckdb")) as con:
        con.execute("CREATE TABLE invoices AS SELECT 'A1' AS account, '2026Q1' AS period, "
                    "'orders' AS metric, 40.0 AS value")
    (folder / "kam.yaml").write_text(
        KAM_YAML + "warehouse:\n  database: duckdb:///sales.duckdb\n  table: invoices\n")
    monkeypatch.chdir(tmp_path)
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    result = CliRunner().invoke(cli, ["rollup", str(folder), "-m", "orders", "--format",
                                      "csv"])
    assert result.exit_code == 0, result.output
    assert "A0,A0,regular,P2,Two,,0,,40" in result.stdout
    other = CliRunner().invoke(cli, ["rollup", str(folder), "-m", "orders", "--period",
                                     "2026Q1", "--skip-bad", "--format", "csv",
                                     "--database", f"sqlite:///{folder.name}/sales.db",
                                     "--facts-table", "facts"])
    assert other.exit_code == 0, other.output
    assert "A0,A0,regular,P2,Two,,0,3,7.5" in other.stdout
    assert kamcore.load(folder).settings.warehouse.table == "invoices"


def test_any_dbapi_connection_with_its_dialect(tmp_path: Path):
    """The seam for other warehouses: a DB-API connection and a sqlglot dialect, from Python.
    kam leaves the connection open and its own temporary tables gone."""
    import sqlite3

    folder, _ = sqlite_workspace(tmp_path)
    con = sqlite3.connect(folder / "facts.db")
    pm = get_plugin_manager(load_entrypoints=False)
    result = kamcore.rollup(folder, ["orders"], period="2026Q1", engine="sql", database=con,
                            dialect="sqlite", skip_bad=True, pm=pm)
    assert [(r["id"], r["orders_total"]) for r in result.rows] == [("A0", 7.5), ("A1", 4.5)]
    assert con.execute("SELECT count(*) FROM sqlite_temp_master").fetchone() == (0,)
    with pytest.raises(KamError, match="needs its SQL dialect"):
        kamcore.rollup(folder, ["orders"], engine="sql", database=con, pm=pm)
    con.close()


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "postgres"])
def test_warehouse_sql_transpiles(dialect: str):
    """What the sql engine would send to a warehouse (the facts table read as kam_raw, the
    checks, the totals) parses back in its dialect and reads the table as named."""
    import sqlglot

    from kamcore.rollup.engines.sql import problems_sql, totals_sql, transpile, with_raw

    source = ("SELECT account, period, metric, value, owner, CAST(NULL AS VARCHAR) AS file, "
              "CAST(NULL AS BIGINT) AS row_no FROM sales.invoices")
    for sql in (totals_sql(owner=True, chosen=[0, 1], labels=["2026Q1", "2026-02"]),
                problems_sql(owner=True)):
        out = transpile(with_raw(sql, source), dialect)
        tree = sqlglot.parse_one(out, read=dialect)
        assert {t.name for t in tree.find_all(sqlglot.exp.Table)} >= {
            "invoices", "kam_accounts", "kam_metrics", "kam_periods"}, out
        assert "FROM sales.invoices" in out
        # the value check stays a check: no plain CAST of the raw value to a number
        check = {"snowflake": "TRY_CAST(CAST(r.value AS VARCHAR) AS DOUBLE)",
                 "bigquery": "SAFE_CAST(r.value AS FLOAT64)",
                 "postgres": "CASE WHEN CAST(r.value AS VARCHAR) ~ "}[dialect]
        assert check in out, out
        assert "CAST(r.value AS DOUBLE) IS NULL" not in out


def test_sqlite_sql_checks_numbers_with_kam_number():
    from kamcore.rollup.engines.dbapi import number
    from kamcore.rollup.engines.sql import totals_sql, transpile

    out = transpile(totals_sql(owner=False, chosen=[0]), "sqlite")
    assert "TRY_CAST" not in out.upper() and "KAM_NUMBER(R.VALUE)" in out.upper()
    assert [number(v) for v in (" +7 ", "1e3", 2, ".5", "abc", "12abc", "", None, "١٢")] == [
        7.0, 1000.0, 2.0, 0.5, None, None, None, None, None]
    assert number("NaN") == number("1e999") == float("inf")


def test_sql_docs_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """docs/warehouse.md's --database line runs on the org its shell block makes, with the
    imported facts copied into a SQLite table, and agrees with the in-process engine."""
    import re
    import shlex
    import sqlite3

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "examples" / "crm" / "salesforce", tmp_path / "sf")
    monkeypatch.chdir(tmp_path / "sf")
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    text = (root / "docs" / "warehouse.md").read_text()
    block = text.split("On Spark", 1)[0].rsplit("```console\n", 1)[1].split("```", 1)[0]
    for line in block.splitlines()[1:3]:  # the two imports after `cd`
        assert CliRunner().invoke(cli, shlex.split(line)[1:]).exit_code == 0, line
    facts = pq.read_table("big-org/facts.parquet")
    with sqlite3.connect("sales.db") as con:
        con.execute("CREATE TABLE opportunities (account, period, metric, value REAL, owner)")
        con.executemany("INSERT INTO opportunities VALUES (?, ?, ?, ?, ?)",
                        [(r["account"], r["period"], r["metric"], r["value"], r.get("owner"))
                         for r in facts.to_pylist()])
    con.close()
    line = re.search(r"```text\n(kam rollup .*--database .*)\n```", text)
    assert line is not None
    args = shlex.split(line[1])[1:]
    sql = CliRunner().invoke(cli, [*args, "--format", "csv"])
    at = args.index("--database")
    memory = CliRunner().invoke(cli, [*args[:at], *args[at + 4:], "--engine", "memory",
                                      "--format", "csv"])
    assert sql.exit_code == 0, sql.output
    assert sql.stdout == memory.stdout and len(sql.stdout.splitlines()) > 2


def test_auto_picks_duckdb_above_the_size_end_to_end(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch):
    """Which engine ran shows in the progress label, and in what --skip-bad does with two
    rows for one key (in process the first is kept, an engine leaves both out)."""
    ws = {"parents": [None, 0], "currencies": ["EUR", "EUR"], "owners": False,
          "facts": [(0, "2026Q1", "orders", 3), (1, "2026Q1", "orders", 4),
                    (1, "2026Q1", "orders", 40)], "period": None, "by": "account"}
    write(tmp_path / "ws", ws)
    pm = get_plugin_manager(load_entrypoints=False)

    def run() -> tuple[list[str], list[object]]:
        labels: list[str] = []
        result = kamcore.rollup(tmp_path / "ws", ["orders"], skip_bad=True, pm=pm,
                                step=labels.append)
        return ([label for label in labels if label.startswith("reading facts")],
                [row["orders_total"] for row in result.rows])

    assert run() == (["reading facts"], [7.0, 4.0])
    monkeypatch.setenv("KAM_ENGINE_BYTES", "10")
    assert run() == (["reading facts (duckdb)"], [3.0, None])
    monkeypatch.setenv("KAM_ENGINE", "memory")  # a named engine is never second-guessed
    assert run() == (["reading facts"], [7.0, 4.0])

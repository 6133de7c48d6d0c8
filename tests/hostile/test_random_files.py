"""Random bytes and random CSV shapes in every workspace file (issue 10): the reader gives a
clean read or a located error (exit 1 or 2 naming the file), never a crash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager
from tests.test_changes_support import save_small

FILES = ["kam.yaml", "accounts.csv", "people.csv", "facts.csv", "fx.csv", "history.csv",
         "contacts.csv", "territories.csv"]
HEADERS = {
    "accounts.csv": ["id", "name", "tier", "parent", "manager", "country", "currency", "revenue",
                     "x.y", " id", "REVENUE"],
    "people.csv": ["id", "name", "role", "reports_to", "capacity", "active", "email"],
    "facts.csv": ["account", "period", "metric", "value", "currency"],
    "fx.csv": ["currency", "period", "rate"],
    "history.csv": ["record", "field", "value", "valid_from", "valid_to", "entry"],
    "contacts.csv": ["id", "account", "name", "title", "role", "reports_to", "email", "phone",
                     "primary", "owner", "last_contact"],
    "territories.csv": ["id", "name", "parent", "manager", "territory"],
    "kam.yaml": [],
}
CELLS = st.one_of(
    st.sampled_from(["G", "N-DE", "K1", "KAM1", "global", "key", "regular", "gam", "am", "DE",
                     "parent", "manager", "exists", "2026-01-31", "2026-02-30", "1999-12-31",
                     "de ", "EUR", "USD", "2026Q1", "2026-13", "revenue", "1e308", "-0",
                     "nan", "1,000", "١٢٣", "true", "no", "=1+1", "", " ", '"', '""', "\r",
                     "\n", "\x00", "\ufeff", "a\"b"]),
    st.text(max_size=8),
    st.integers(-10**30, 10**30).map(str),
    st.floats().map(repr),
)


@st.composite
def csv_text(draw: st.DrawFn, name: str) -> bytes:
    header = draw(st.lists(st.sampled_from(HEADERS[name] or ["a"]), min_size=0, max_size=8))
    rows = draw(st.lists(st.lists(CELLS, max_size=9), max_size=6))
    sep = draw(st.sampled_from([",", ";", ",", "\t"]))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    quote = draw(st.booleans())
    cell = (lambda c: '"' + c.replace('"', '""') + '"') if quote else (lambda c: c)
    text = end.join(sep.join(cell(c) for c in row) for row in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


@st.composite
def yaml_text(draw: st.DrawFn) -> bytes:
    key = st.sampled_from(["name", "currency", "metrics", "rules", "plugins", "accounts",
                           "people", "disable", "aggregation", "weight", "x"])
    value = st.recursive(st.one_of(CELLS, st.none(), st.booleans()),
                         lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                 st.dictionaries(key, inner, max_size=3)),
                         max_leaves=10)
    return json.dumps(draw(st.dictionaries(key, value, max_size=5)),
                      default=str).encode()  # JSON is YAML


def spoiled(name: str) -> st.SearchStrategy[bytes]:
    shaped = yaml_text() if name == "kam.yaml" else csv_text(name)
    return st.one_of(st.binary(max_size=200), shaped)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_small(tmp_path_factory.mktemp("pristine") / "org")


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_file_content_is_read_or_refused_with_its_name(tmp_path_factory, pristine, data):
    name = data.draw(st.sampled_from(FILES))
    content = data.draw(spoiled(name))
    ws = tmp_path_factory.mktemp("ws") / "org"
    shutil.copytree(pristine, ws)
    (ws / name).write_bytes(content)
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    for argv in (["validate", str(ws), "--format", "json"],
                 ["rollup", str(ws), "--format", "json"]):
        result = CliRunner().invoke(cli, argv)
        assert result.exit_code in (0, 1, 2), result.output[-1500:]
        assert "Traceback" not in result.output, result.output[-1500:]
        if result.exit_code == 0:
            json.loads(result.stdout)
        elif result.exit_code == 2:
            assert name in result.output or str(ws) in result.output, result.output[-1500:]


SF_HEADER = ["Id", "Name", "ParentId", "OwnerId", "BillingCountry", "AnnualRevenue", "Type",
             "CurrencyIsoCode"]


@st.composite
def salesforce_text(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(st.binary(max_size=200))
    ids = ["001A", "001B", "001C", "005X", ""]
    cells = st.one_of(st.sampled_from(ids), CELLS)
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=10), max_size=6))
    lines = [",".join(SF_HEADER), *(",".join(r) for r in rows)]
    return "\n".join(lines).encode("utf-8", errors="replace")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=salesforce_text())
def test_an_import_of_any_bytes_writes_a_whole_workspace_or_nothing(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("import")
    (folder / "Account.csv").write_bytes(content)
    out = folder / "org"
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    result = CliRunner().invoke(cli, ["import", "salesforce", str(folder / "Account.csv"),
                                      "-o", str(out)])
    assert result.exit_code in (0, 1, 2), result.output[-1500:]
    assert "Traceback" not in result.output, result.output[-1500:]
    if out.exists():  # what an import writes, kam reads back
        check = CliRunner().invoke(cli, ["validate", str(out), "--format", "json"])
        assert check.exit_code in (0, 1), check.output[-1500:]


PLAN_CELLS = st.one_of(st.sampled_from(["move", "assign", "tier", "handover", "leave", "hire",
                                        "G", "N-DE", "K1", "R1", "KAM1", "KAM2", "NEW", "key",
                                        "true", "2026-13-01", "2026-01-01", "../x", ""]), CELLS)


@st.composite
def plan_text(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["csv", "yaml", "bytes"]))
    if kind == "bytes":
        return draw(st.sampled_from(["plan.csv", "plan.yaml"])), draw(st.binary(max_size=200))
    header = "op,id,to,name,role,reports_to,capacity,reason,effective"
    rows = draw(st.lists(st.lists(PLAN_CELLS, max_size=9), max_size=5))
    if kind == "csv":
        text = "\n".join([header, *(",".join(r) for r in rows)])
        return "plan.csv", text.encode("utf-8", errors="replace")
    keys = header.split(",")
    lines = [dict(zip(keys, row, strict=False)) for row in rows]
    return "plan.yaml", json.dumps({"changes": lines} if draw(st.booleans()) else lines,
                                   default=str).encode()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plan_text())
def test_a_plan_file_of_any_content_is_checked_or_refused_and_writes_nothing(
        tmp_path_factory, pristine, plan):
    name, content = plan
    ws = tmp_path_factory.mktemp("plan") / "org"
    shutil.copytree(pristine, ws)
    (ws.parent / name).write_bytes(content)
    before = {p.name: p.read_bytes() for p in ws.iterdir() if p.is_file()}
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    result = CliRunner().invoke(cli, ["plan", "check", str(ws), str(ws.parent / name),
                                      "--format", "json"])
    assert result.exit_code in (0, 1, 2), result.output[-1500:]
    assert "Traceback" not in result.output, result.output[-1500:]
    if result.exit_code == 0:
        json.loads(result.stdout)
    assert {p.name: p.read_bytes() for p in ws.iterdir() if p.is_file()} == before

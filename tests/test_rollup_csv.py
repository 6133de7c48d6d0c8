"""The rollup's CSV: the text pyarrow gives each cell, whatever shortcut writes it."""

from __future__ import annotations

import io
import math

import pyarrow as pa
import pyarrow.csv as pacsv
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.rollup.result import WHOLE_AS_INT_BELOW, Column, RollupResult
from kamcore.rollup.views import manager_names

#: whole numbers on both sides of the limit, fractions, -0.0, infinities and missing values
cells = st.one_of(
    st.none(),
    st.integers(-10**12, 10**12).map(float),
    st.sampled_from([0.0, -0.0, WHOLE_AS_INT_BELOW, -WHOLE_AS_INT_BELOW,
                     WHOLE_AS_INT_BELOW - 1, 2.0 ** 53, 1e300, math.inf]),
    st.floats(-1e12, 1e12),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(cells, cells), min_size=1, max_size=40))
def test_float_columns_are_written_as_pyarrow_writes_them(rows: list[tuple[float | None,
                                                                          float | None]]
                                                          ) -> None:
    table = pa.table({"id": pa.array([f"A{i}" for i in range(len(rows))]),
                      "revenue": pa.array([r[0] for r in rows], pa.float64()),
                      "revenue_total": pa.array([r[1] for r in rows], pa.float64())})
    result = RollupResult("account", [Column("id", "Id"), Column("revenue", "Own", "money"),
                                      Column("revenue_total", "Total", "money")],
                          table, "EUR", ["revenue"])
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="none"))
    assert result.to_csv_bytes() == sink.getvalue().to_pybytes()


def test_a_nan_value_is_written_as_nan_not_as_a_number() -> None:
    table = pa.table({"x": pa.array([1.0, math.nan, None], pa.float64())})
    result = RollupResult("account", [Column("x", "X", "number")], table, "EUR", [])
    assert result.to_csv_bytes() == b'"x"\n1\nnan\n\n'


def test_a_manager_not_in_people_shows_as_its_id() -> None:
    ids, names = pa.array(["P1", "P2"]), pa.array(["Ana", "Bo"])
    known = pa.chunked_array([["P2", None], ["P1"]])
    assert manager_names(known, ids, names).to_pylist() == ["Bo", None, "Ana"]
    unknown = pa.chunked_array([["P2", "P9"], [None, "P1"]])
    assert manager_names(unknown, ids, names).to_pylist() == ["Bo", "P9", None, "Ana"]


def test_chunks_with_and_without_large_numbers_write_as_one_table() -> None:
    n = 200_000  # several of the writer's chunks
    values = [float(i * 7919 % 10**9) if i % 5 else None for i in range(n)]
    values[100_000:100_010] = [1e10 + i for i in range(10)]  # exponents in one chunk only
    table = pa.table({"v": pa.array(values, pa.float64())})
    result = RollupResult("account", [Column("v", "V", "money")], table, "EUR", [])
    out = io.BytesIO()
    result.write_csv(out)
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="none"))
    assert out.getvalue() == sink.getvalue().to_pybytes()


texts = st.text(st.sampled_from('ab =+-@,"\r\n1.'), min_size=1, max_size=6).map(str.strip) \
    .filter(bool)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(texts, st.booleans()), min_size=1, max_size=8), texts)
def test_columns_found_plain_are_written_as_the_slow_path_writes_them(
        accounts: list[tuple[str, bool]], person: str) -> None:
    """The account view finds which text columns need no ``'`` and no quotes while the tree
    links; the CSV is the one written when every column is looked at again."""
    import dataclasses

    import kamcore
    from kamcore import Account, Org, Person
    from kamcore.rollup.render import write_csv

    people = [Person(id="P1", name=person, role="kam")]
    records = [Account(id=f"A{i}", name=name, tier="key", manager="P1" if managed else None,
                       parent=None if i == 0 else "A0", metrics={"revenue": float(i)})
               for i, (name, managed) in enumerate(accounts)]
    pm = kamcore.get_plugin_manager(load_entrypoints=False)
    result = kamcore.rollup(Org.build(records, people, registry=kamcore.registry_for(pm)),
                            ["revenue"])
    fast, slow = io.BytesIO(), io.BytesIO()
    write_csv(result, fast)
    write_csv(dataclasses.replace(result, plain=frozenset()), slow)
    assert fast.getvalue() == slow.getvalue()
    assert ("manager_name" in result.plain) == (person[0] not in "=+-@" and not any(
        c in person for c in ',"\r\n'))

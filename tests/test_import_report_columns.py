"""The import report's long lists kept as columns (inferred tiers) or made when read
(findings) behave as the lists they replaced and render the same Markdown."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.importers.report import ImportReport, InferredTier, InferredTiers, LazyLines
from kamcore.models import Tier


def tiers() -> InferredTiers:
    return InferredTiers(pa.array(["A|1", "B"]), pa.array(["Acme\nInc", "Beta"]),
                         pa.array(["key", "regular"]), pa.array(["why | not", "below key A|1"]),
                         np.array([2, 0]))


def test_inferred_tiers_read_as_a_list_of_records() -> None:
    got = tiers()
    listed = [InferredTier("A|1", "Acme\nInc", Tier.KEY, "why | not", 2),
              InferredTier("B", "Beta", Tier.REGULAR, "below key A|1", None)]
    assert list(got) == listed
    assert got[-1] == listed[1] and got[0:1] == listed[:1]
    with pytest.raises(IndexError):
        got[2]


def test_the_markdown_and_json_of_columns_and_of_records_are_the_same() -> None:
    by_columns, by_records = ImportReport("csv"), ImportReport("csv")
    by_columns.tiers, by_records.tiers = tiers(), list(tiers())
    lines = [f"line {i}" for i in range(60)]
    by_columns.finding_lines = LazyLines(60, lines.__getitem__)
    by_records.finding_lines = lines
    assert by_columns.to_markdown() == by_records.to_markdown()
    assert "| 2 | A\\|1 | Acme Inc | key | why \\| not |" in by_columns.to_markdown()
    assert by_columns.to_json() == by_records.to_json()
    assert json.loads(by_columns.to_json())["tiers"][1] == {
        "record": "B", "name": "Beta", "tier": "regular", "reason": "below key A|1",
        "line": None}


_TEXT = st.text(st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    ['"', "\\", "\n  \"tiers\": []", "\x00\x1f\x7f", "\u2028é漢", "", " "])


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(_TEXT, st.none() | _TEXT, st.sampled_from(["global", "key", "regular"]),
                          _TEXT, st.integers(0, 2**40)), max_size=12), _TEXT)
def test_the_json_of_tiers_written_from_columns_is_byte_identical(rows, source) -> None:
    """``json_bytes`` writes columnar tiers as ``json.dumps(indent=2, ensure_ascii=False)``
    writes the records: escapes, non-ASCII, null names, no line, any text around them (a
    source that looks like the tiers' key included)."""
    columns = list(zip(*rows, strict=True)) if rows else [[], [], [], [], []]
    made = InferredTiers(*(pa.array(list(c), pa.string()) for c in columns[:4]),
                         np.array(columns[4], dtype=np.int64))
    by_columns, by_records = ImportReport(source), ImportReport(source)
    by_columns.tiers, by_records.tiers = made, list(made)
    by_columns.notes = by_records.notes = [source]
    expected = json.dumps(dataclasses.asdict(by_records), indent=2, ensure_ascii=False) + "\n"
    assert by_columns.json_bytes() == by_records.json_bytes() == expected.encode("utf-8")


def test_lazy_lines_make_only_the_lines_read() -> None:
    made: list[int] = []
    lines = LazyLines(1_000, lambda i: made.append(i) or f"#{i}")
    assert len(lines) == 1_000 and lines[:2] == ["#0", "#1"] and lines[-1] == "#999"
    assert made == [0, 1, 999]


def test_a_cut_tier_section_and_its_listing_are_the_same_from_columns_and_records() -> None:
    n = 130
    kinds = ["regular", "key", "global", "national", "regular"]
    many = InferredTiers(pa.array([f"A{i}" for i in range(n)]),
                         pa.array([f"=N|{i}" for i in range(n)]),
                         pa.array([kinds[i % 5] for i in range(n)]),
                         pa.array([f"why {i}" for i in range(n)]), np.arange(n) % 7)
    by_columns, by_records = ImportReport("csv"), ImportReport("csv")
    by_columns.tiers, by_records.tiers = many, list(many)
    text = by_columns.to_markdown()
    assert text == by_records.to_markdown()
    assert text.count("| global |") == 10 and "| 1 | A8 | =N\\|8 | national | why 8 |" in text
    listed, recorded = by_columns.listings()["tiers"], by_records.listings()["tiers"]
    assert listed.equals(recorded)
    assert listed.column("line").to_pylist()[:8] == [None, 1, 2, 3, 4, 5, 6, None]

"""The fast YAML loader builds what SafeLoader's constructors build (issue 14, item 7).

``kamcore.workspace.yamlio`` builds text scalars, lists and mappings with text keys itself
(a 10,000-line plan file is 70,000 such nodes) and hands every other node to SafeLoader's own
constructors. Both ways must give the same data, line bookkeeping included.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.workspace import yamlio

pytestmark = pytest.mark.skipif(yamlio._LOADER is not yamlio._FastLineLoader,
                                reason="libyaml is not installed")


class _Standard(yamlio._FastLineLoader):
    """The same loader with SafeLoader's construction of every node."""

    construct_document = yaml.constructor.BaseConstructor.construct_document  # type: ignore[assignment]


def _both(text: str) -> tuple[Any, Any]:
    return _load(text, yamlio._FastLineLoader), _load(text, _Standard)


def _load(text: str, loader: Any) -> Any:
    """The data, or the error (the same error both ways)."""
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        return ("error", type(exc).__name__, str(exc))


DOCUMENTS = [
    "lines:\n  - {op: move, id: A, to: B}\n  - {op: hire, id: P, capacity: 4, active: yes}\n",
    "name: t\ncurrency: EUR\nrules:\n  disable: [KAM101, KAM102]\n  severity: {KAM130: info}\n",
    "a: 1\nb: 1.5\nc: null\nd: ~\ne: true\nf: 2026-12-02\ng: 2026-12-02T10:00:00Z\nh: '1'\n",
    "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n",  # refused: an alias
    "use:\n  <<: {x: 1}\n  y: 2\n",
    "use:\n  <<: [{x: 1}, {z: 3}]\n  y: 2\n",
    "{1: one, null: none, true: yes, 1.5: x, 2026-01-01: d}\n",
    "? [a, b]\n: complex\n",
    "= : value key\nplain: text\n",
    "dup: 1\ndup: 2\n",
    "s: !!str 123\nb: !!binary aGVsbG8=\nset: !!set {a, b}\nomap: !!omap [{a: 1}, {b: 2}]\n",
    "- [1, [2, [3, {k: [v]}]]]\n- 'quoted: text'\n- \"double\\tquoted\"\n- |\n  block\n",
    "__line__: mine\nkey: value\n",
    "",
    "just text\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_documents_are_built_the_same_both_ways(text: str) -> None:
    fast, standard = _both(text)
    assert fast == standard
    assert repr(fast) == repr(standard)  # same types and key order too


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                     st.floats(allow_nan=False), st.text(max_size=8),
                     st.dates(min_value=date(1990, 1, 1)),
                     st.datetimes(min_value=datetime(1990, 1, 1)))
_DATA = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=6), st.integers(0, 9)), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(_DATA, st.booleans())
def test_any_dumped_data_is_built_the_same_both_ways(data: Any, flow: bool) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    fast, standard = _both(text)
    assert repr(fast) == repr(standard)


def test_the_example_plans_and_settings_read_the_same(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    for path in [*root.glob("examples/**/*.yaml"), *root.glob("docs/**/*.yaml")]:
        text = path.read_text(encoding="utf-8-sig")
        if "*" in text:
            continue  # aliases are refused before construction
        fast, standard = _both(text)
        assert repr(fast) == repr(standard), path

"""Issue 11, item 12: output that fits. Tables fit ``COLUMNS`` (or the terminal) by cutting
names, never numbers, and are left whole when piped or written to a file; ``--top`` shows the
shown rows' total beside the whole; counts say ``1 account``; an empty org says so."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.cli.layout import ELLIPSIS, layout, shorten
from kamcore.plugins import get_plugin_manager
from kamcore.wording import noun, plural
from tests.test_rollup_cli import make_ws

ROOT = Path(__file__).resolve().parent.parent
ACME = str(ROOT / "examples" / "acme")
#: A number standing alone (not a digit inside an id such as GAM1 or ACME-DE-BER-01).
NUMBER = re.compile(r"(?<![\w\-.])\d[\d,.]*%?(?![\w\-])")


def kam(*args: str, columns: int | None = None) -> tuple[int, str, str]:
    env = {"COLUMNS": str(columns)} if columns else {}
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def numbers(text: str) -> collections.Counter[str]:
    return collections.Counter(NUMBER.findall(text))


@pytest.mark.parametrize("width", [80, 100, 120])
def test_rollup_by_manager_fits_the_width_and_keeps_every_number(width):
    """The issue's case: 207 characters wide for ``rollup --by manager``."""
    code, whole, _ = kam("rollup", ACME, "--by", "manager")
    assert code == 0
    assert max(map(len, whole.splitlines())) > 150 and ELLIPSIS not in whole  # piped: as is
    code, fitted, _ = kam("rollup", ACME, "--by", "manager", columns=width)
    assert code == 0
    assert max(map(len, fitted.splitlines())) <= width
    assert ELLIPSIS in fitted or width > 80  # names were cut (at 80 they must be) ...
    assert numbers(fitted) == numbers(whole)  # ... and not one number, nor one lost
    assert "Vera Lindqvist" in fitted  # the short names stay whole


def test_every_table_command_fits(tmp_path):
    """One formatter: ``kam duties`` goes through it as ``kam rollup`` does."""
    code, whole, _ = kam("duties", ACME, "--person", "KAM-ZENITH-GB")
    code, fitted, _ = kam("duties", ACME, "--person", "KAM-ZENITH-GB", columns=70)
    assert code == 0
    table = fitted.splitlines()[1:]  # the heading line is a sentence, not a table
    assert max(map(len, table)) <= 70 and ELLIPSIS in fitted
    assert max(map(len, whole.splitlines())) > 70 and ELLIPSIS not in whole


def test_a_file_written_with_o_is_never_cut(tmp_path):
    target = tmp_path / "totals.txt"
    code, _, _ = kam("rollup", ACME, "--by", "manager", "-o", str(target), columns=60)
    assert code == 0
    text = target.read_text()
    assert ELLIPSIS not in text and max(map(len, text.splitlines())) > 150


def test_layout_cuts_text_wraps_headers_and_continues_numbers_below():
    headers = ["Person", "Book Revenue (EUR)", "Team Revenue (EUR)"]
    cells = [["Vera Lindqvist of Stockholm", "1,234,567", "7,106,642"],
             ["│   └── Daniel Okafor", "-", "12"]]
    text = layout(headers, cells, [False, True, True], width=34)
    lines = text.splitlines()
    assert max(map(len, lines)) <= 34
    assert lines[0].split() == ["Book", "Team"]  # headers wrap onto lines of their own
    assert "1,234,567" in text and "7,106,642" in text
    assert f"Vera Lindqv{ELLIPSIS}" in text and "└ Daniel" in text  # tree drawn narrow
    # narrower than label and numbers together: the numbers continue in a second block
    text = layout(headers, cells, [False, True, True], width=24)
    blocks = text.split("\n\n")
    assert len(blocks) == 2 and all("Person" in block for block in blocks)
    assert "1,234,567" in blocks[0] and "7,106,642" in blocks[1]
    assert max(map(len, text.splitlines())) <= 24


def test_shorten_keeps_an_id_in_brackets():
    assert shorten("Acme Industrial Group (ACME)", 18) == f"Acme Indus{ELLIPSIS} (ACME)"
    assert shorten("Short", 18) == "Short"


def test_top_shows_the_shown_rows_total_and_the_whole(tmp_path):
    """Issue 11: the ``(all)`` line under ``--top`` counted every account under N rows."""
    ws = str(make_ws(tmp_path))
    code, out, _ = kam("rollup", ws, "--by", "country", "-m", "revenue", "--top", "1")
    assert code == 0
    assert out.splitlines()[-5:] == [
        "-------  --------  -------------",
        "DE              3            150",
        "-------  --------  -------------",
        "(shown)         3            150",
        "(all)           4            160"]
    code, out, _ = kam("rollup", ws, "--by", "country", "-m", "revenue", "--top", "1",
                       "--format", "json")
    data = json.loads(out)
    assert data["shown_total"] == {"country": "(shown)", "accounts": 3, "revenue": 150}
    assert data["total"] == {"country": "(all)", "accounts": 4, "revenue": 160}
    code, out, _ = kam("rollup", ws, "--by", "country", "-m", "revenue", "--top", "5")
    assert "(shown)" not in out and out.splitlines()[-1].startswith("(all)")


def test_counts_are_singular_for_one():
    assert plural(1, "account") == "1 account" and plural(2, "account") == "2 accounts"
    assert plural(1, "person") == "1 person" and plural(3, "person") == "3 people"
    assert plural(2, "duty") == "2 duties" and noun(2, "bad fact row") == "bad fact rows"


def test_tree_of_an_empty_org_says_it_is_empty(tmp_path):
    org = tmp_path / "empty"
    assert kam("init", str(org))[0] == 0
    code, out, _ = kam("tree", str(org))
    assert code == 0 and out == (f"The org {org} is empty: accounts.csv has no accounts (add "
                                 "some, or kam import).\n")
    code, out, _ = kam("tree", str(org), "--people")
    assert code == 0 and "people.csv has no people" in out

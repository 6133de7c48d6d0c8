"""The columnar end of an import agrees with the object model it stands in for.

An import keeps the accounts as text columns and writes accounts.csv from them; the Org is
built from the tables only when asked for. Hypothesis draws messy Salesforce exports (ids in
both forms and any case, padding, unknown parents and owners, names of countries, spellings of
industries, numbers with separators, kept columns, quoted cells) and checks that the columns
write the same bytes as saving the Org does, and that loading the written workspace gives
that Org back.
"""

from __future__ import annotations

import csv
import io
import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamcore import load
from kamcore.importers import ImportOptions, id15, id18, import_salesforce, write_import
from kamcore.importers.salesforce import id15_many
from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for
from kamcore.structure import account_index, linked_rows
from kamcore.workspace.saver import render_accounts, render_people
from kamcore.workspace.tables import read_workspace

ALNUM = string.ascii_letters + string.digits


def _expected_key(value: str) -> str | None:
    try:
        return id15(value)
    except ValueError:
        return None


@st.composite
def id_cells(draw: st.DrawFn) -> str:
    base = draw(st.text(ALNUM, min_size=15, max_size=15))
    kind = draw(st.sampled_from(["18", "15", "18-any-case", "bad-suffix", "junk"]))
    if kind == "18":
        return id18(base)
    if kind == "15":
        return base
    if kind == "18-any-case":
        flips = draw(st.lists(st.booleans(), min_size=18, max_size=18))
        return "".join(c.swapcase() if f else c for c, f in zip(id18(base), flips, strict=True))
    if kind == "bad-suffix":
        return base + draw(st.text(ALNUM, min_size=3, max_size=3))
    return draw(st.text(ALNUM + " ,-é", max_size=20)).strip()


@settings(deadline=None)
@given(st.lists(id_cells(), max_size=40))
def test_id15_many_agrees_with_id15_cell_by_cell(values: list[str]) -> None:
    assert id15_many(values) == [_expected_key(v) for v in values]


COUNTRIES = ["Germany", "DE", "de", " France ", "UK", "USA", "Holland", "Atlantis", ""]
INDUSTRIES = ["Manufacturing", "manufacturing ", "Health Care", "Healthcare", "RETAIL", ""]
OWNERS = ["005000000000001", "005000000000002AAA", "005000000000003", "Jane Doe", ""]


@st.composite
def salesforce_exports(draw: st.DrawFn) -> tuple[str, str]:
    """Account.csv and User.csv texts."""
    n = draw(st.integers(1, 25))
    ids = [f"001{i:012d}" for i in range(n)]
    rows = []
    for i, aid in enumerate(ids):
        form = draw(st.sampled_from(["15", "18", "18-lower"]))
        cell = aid if form == "15" else id18(aid) if form == "18" else id18(aid).lower()
        parent = ""
        if i and draw(st.booleans()):
            up = ids[draw(st.integers(0, i - 1))]
            parent = draw(st.sampled_from([up, id18(up), " " + up, "001MISSING00000"]))
        rows.append({
            "Id": draw(st.sampled_from([cell, " " + cell + " "])),
            "Name": draw(st.sampled_from([f"Account {i}", f"Account, {i}", "", "Dup"])),
            "ParentId": parent,
            "OwnerId": draw(st.sampled_from(OWNERS)),
            "BillingCountry": draw(st.sampled_from(COUNTRIES)),
            "Industry": draw(st.sampled_from(INDUSTRIES)),
            "AnnualRevenue": draw(st.sampled_from(["", "1,250,000", "1.5E7", "300", "abc",
                                                   "12.5"])),
            "CurrencyIsoCode": draw(st.sampled_from(["USD", "eur", "XXX", ""])),
            "Type": draw(st.sampled_from(["Customer - Direct", "", "Partner"])),
            "Description": draw(st.sampled_from(["", "line one\nline two", 'said "hi"',
                                                 "=1+1"])),
        })
    if draw(st.booleans()) and n > 1:  # a duplicate id
        rows.append(dict(rows[0]))
    accounts = io.StringIO()
    writer = csv.DictWriter(accounts, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    users = io.StringIO()
    uw = csv.writer(users, lineterminator="\n")
    uw.writerow(["Id", "FirstName", "LastName", "Email", "Title", "ManagerId"])
    uw.writerow([id18("005000000000001"), "Ann", "Boss", "ann@example.com", "VP Sales", ""])
    uw.writerow(["005000000000002", "Bo", "Kam", "bo@example", "Key Account Manager",
                 "005000000000001"])
    return accounts.getvalue(), users.getvalue()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(salesforce_exports())
def test_columns_write_what_the_org_would_and_load_back_to_it(export: tuple[str, str]
                                                              ) -> None:
    registry = registry_for(get_plugin_manager(load_entrypoints=False))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "Account.csv").write_text(export[0], encoding="utf-8")
        (folder / "User.csv").write_text(export[1], encoding="utf-8")
        result = import_salesforce(str(folder / "Account.csv"), users=str(folder / "User.csv"),
                                   registry=registry)
        write_import(result, folder / "ws")
        assert not result.org_built  # written from the columns
        written = (folder / "ws" / "accounts.csv").read_text(encoding="utf-8")
        org = result.org
        assert written == render_accounts(org)
        assert (folder / "ws" / "people.csv").read_text(encoding="utf-8") == render_people(org)
        loaded = load(folder / "ws")
        assert loaded.accounts == org.accounts
        assert loaded.people == org.people
        assert list(loaded.accounts) == list(org.accounts)
        # the parent links the import handed to the rules are those of the written files
        fresh = account_index(read_workspace(str(folder / "ws")))
        index = account_index(result.tables)
        assert index.first_row.tolist() == fresh.first_row.tolist()
        assert index.parent.tolist() == fresh.parent.tolist()


def test_the_import_hands_its_parent_links_to_the_rules() -> None:
    sample = Path(__file__).resolve().parent / "data" / "crm" / "salesforce" / "Account.csv"
    result = import_salesforce(str(sample), options=ImportOptions(validate=False))
    index = account_index(result.tables)
    assert "_account_links" in index.__dict__  # given, not worked out again
    first, (parent,) = linked_rows(result.tables.accounts.ids,
                                   result.tables.accounts.text("parent"))
    assert index.first_row.tolist() == first.tolist()
    assert index.parent.tolist() == parent.tolist() and (parent >= 0).any()


def test_a_changed_org_is_what_gets_written(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parent / "data" / "crm" / "salesforce" / "Account.csv"
    result = import_salesforce(str(sample))
    first = next(iter(result.org.accounts.values()))
    result.org.accounts[first.id] = first.model_copy(update={"name": "Renamed in Python"})
    write_import(result, tmp_path / "ws")
    assert load(tmp_path / "ws").accounts[first.id].name == "Renamed in Python"

"""The import report's findings stay columns until their lines are read, with the names of the
ids they mention looked up for the lines read: the lines are those of every finding ``kam
validate`` gives, named from the whole org, in order, however they are read."""

from __future__ import annotations

from pathlib import Path

from kamcore.importers import engine, import_salesforce
from kamcore.validation import validate_tables


def _export(folder: Path) -> tuple[str, str]:
    """A global account with 30 national ones below, all owned by an account manager: a
    KAM107 finding each, quoting the owner's id."""
    accounts = ["Id,Name,ParentId,OwnerId,BillingCountry",
                "001000000000000,Root Holding,,005000000000001,DE"]
    accounts += [f"0010000000000{i:02d},Part {i},001000000000000,005000000000001,"
                 f"{'DE' if i % 2 else 'FR'}" for i in range(1, 31)]
    users = ["Id,FirstName,LastName,Title", "005000000000001,Pat,Smith,Account Manager"]
    (folder / "Account.csv").write_text("\n".join(accounts) + "\n", encoding="utf-8")
    (folder / "User.csv").write_text("\n".join(users) + "\n", encoding="utf-8")
    return str(folder / "Account.csv"), str(folder / "User.csv")


def test_finding_lines_are_validates_findings_named(tmp_path: Path) -> None:
    accounts, users = _export(tmp_path)
    result = import_salesforce(accounts, users=users)
    found = validate_tables(result.tables)
    assert len(found) > 30
    names = {pid: person.name for pid, person in result.people.people.items()}
    names.update(zip(result.accounts.cells["id"].to_pylist(),
                     result.accounts.cells["name"].to_pylist(), strict=True))
    expected = [engine._named_finding(names, f) for f in found]
    assert "(Pat Smith)" in expected[-1] and "(Part " in expected[-1]  # both kinds named
    lines = result.report.finding_lines
    assert lines[-1] == expected[-1] and lines[3] == expected[3]  # read out of order
    assert lines[5:9] == expected[5:9] and lines[::7] == expected[::7]
    assert list(lines) == expected
    assert result.report.findings == {"error": len(found), "warning": 0, "info": 0}
    assert result.report.finding_codes == {"KAM107": len(found)}

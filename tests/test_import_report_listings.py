"""A long section of the import report shows its first rows and names the CSV listing beside it,
which holds every row (neutralised for spreadsheets); a re-import removes stale listings."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.importers import import_salesforce
from kamcore.importers.report import EXAMPLES, LISTINGS, SHOWN
from kamcore.plugins import get_plugin_manager
from kamcore.workspace.csvio import neutralise

HOSTILE = ['=HYPERLINK("http://evil")', "a|b", "two\nlines", "-5", "+1 555 0100", 'say "hi", ok']


def export(folder: Path, n: int = SHOWN + 10, users: int = SHOWN + 5) -> tuple[Path, Path]:
    """Account.csv of ``n`` accounts (a few roots, the rest below them; hostile names first)
    and User.csv of ``users`` of their owners, each with a title."""
    folder.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Id", "Name", "ParentId", "OwnerId", "BillingCountry", "AnnualRevenue"])
    for i in range(n):
        parent = "" if i % 20 == 0 else f"001A{i - i % 20:011d}"
        name = HOSTILE[i] if i < len(HOSTILE) else f"Account {i}"
        writer.writerow([f"001A{i:011d}", name, parent, f"005A{i:011d}",
                         ["DE", "FR", "GB"][i % 3], 1000 * i])
    accounts = folder / "Account.csv"
    accounts.write_text(out.getvalue(), encoding="utf-8")
    people = folder / "User.csv"
    people.write_text("Id,Name,Title\n" + "".join(f"005A{i:011d},Person {i},Account Manager\n"
                                                  for i in range(users)), encoding="utf-8")
    return accounts, people


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def test_long_sections_are_cut_and_listed_in_full(tmp_path: Path) -> None:
    accounts, people = export(tmp_path / "crm")
    out = tmp_path / "org"
    done = run("import", "salesforce", str(accounts), "--users", str(people), "-o", str(out))
    assert done.exit_code == 0, done.output
    result = import_salesforce(str(accounts), users=str(people))
    tiers = list(result.report.tiers)
    assert len(tiers) == SHOWN + 10

    report = (out / "import-report.md").read_text(encoding="utf-8")
    assert f"All {SHOWN + 10} accounts are listed in `{LISTINGS['tiers']}`" in report
    section = report.split("## Inferred tiers")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and
            not line.startswith("| line")]
    by_tier = {str(t.tier) for t in tiers}
    assert len(rows) == sum(min(EXAMPLES, sum(str(t.tier) == tier for t in tiers))
                            for tier in by_tier)
    assert "a\\|b" in section and "two lines" in section  # escaped for Markdown

    listed = read(out / LISTINGS["tiers"])
    assert listed[0] == ["line", "account", "name", "tier", "why"]
    assert listed[1:] == [[neutralise(c) for c in (str(t.line or ""), t.record, t.name,
                                                   str(t.tier), t.reason)] for t in tiers]
    names = [row[2] for row in listed[1:]]
    assert names[:len(HOSTILE)] == ["'" + HOSTILE[0], "a|b", "two\nlines", "-5",
                                    "'+1 555 0100", 'say "hi", ok']

    roles = read(out / LISTINGS["roles"])
    assert len(roles) == 1 + SHOWN + 5 and roles[1] == [f"005A{0:011d}", "Account Manager", "am"]
    assert "By role: am 55." in report and f"the first {SHOWN}:" in report
    assert not (out / LISTINGS["placeholders"]).exists()  # 5 placeholders: all in the report


def test_a_reimport_removes_listings_it_does_not_write(tmp_path: Path) -> None:
    accounts, people = export(tmp_path / "crm")
    out = tmp_path / "org"
    assert run("import", "salesforce", str(accounts), "--users", str(people),
               "-o", str(out)).exit_code == 0
    assert (out / LISTINGS["tiers"]).exists()
    again = run("import", "salesforce", str(accounts), "--users", str(people), "-o", str(out),
                "--force", "--report", "json")
    assert again.exit_code == 0, again.output
    assert not any((out / name).exists() for name in LISTINGS.values())  # JSON holds all

    small, _ = export(tmp_path / "small", n=5, users=5)
    assert run("import", "salesforce", str(accounts), "-o", str(out), "--force").exit_code == 0
    assert (out / LISTINGS["placeholders"]).exists()  # every owner is a placeholder
    assert run("import", "salesforce", str(small), "-o", str(out), "--force").exit_code == 0
    assert not any((out / name).exists() for name in LISTINGS.values())
    assert "All " not in (out / "import-report.md").read_text(encoding="utf-8")


def test_problems_over_the_limit_are_listed_one_a_line(tmp_path: Path) -> None:
    crm = tmp_path / "crm"
    crm.mkdir()
    accounts = crm / "Account.csv"
    accounts.write_text("Id,Name,ParentId\n" + "".join(
        f"001A{i:011d},Account {i},001A{i + 900:011d}\n" for i in range(SHOWN + 1)),
        encoding="utf-8")
    out = tmp_path / "org"
    assert run("import", "salesforce", str(accounts), "-o", str(out)).exit_code == 0
    report = (out / "import-report.md").read_text(encoding="utf-8")
    assert f"All {SHOWN + 1} problems are listed in `{LISTINGS['problems']}`" in report
    listed = read(out / LISTINGS["problems"])
    assert listed[0] == ["kind", "file", "line", "record", "problem", "hint"]
    assert [row[2] for row in listed[1:]] == [str(i + 2) for i in range(SHOWN + 1)]
    assert {row[0] for row in listed[1:]} == {"parent"}

"""Every public entry point gives the same answer for the same workspace: an Org loaded from
it, its path, the reader's tables and the CLI (contacts.csv and territories.csv included)."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import kamcore
from kamcore.changes.coverage import coverage
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager
from kamcore.validation import validate_tables
from kamcore.workspace.tables import read_workspace


@pytest.fixture
def broken(tmp_path: Path, acme_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example org with contact and territory findings, and no external plugins."""
    monkeypatch.setenv("KAM_LOAD_PLUGINS", "")
    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    old = (datetime.date.today() - datetime.timedelta(days=400)).isoformat()
    contacts = (folder / "contacts.csv").read_text(encoding="utf-8")
    contacts = contacts.replace("C-ORBIT-1,ORBIT,", "C-ORBIT-1,ORBIT-X,")  # ORBIT: no DM
    contacts += (f"X1,ORBIT-01,Old,,user,,,,,KAM-DE,{old}\n"
                 "X2,ORBIT-01,Odd,,wizard,,,,,GHOST,\n"
                 "X3,ORBIT-01,Loop a,,user,X4,,,,KAM-DE,\n"
                 "X4,ORBIT-01,Loop b,,user,X3,,,,KAM-DE,\n")
    (folder / "contacts.csv").write_text(contacts, encoding="utf-8")
    with (folder / "territories.csv").open("a", encoding="utf-8") as handle:
        handle.write("APAC,Again,,VP1\nORPHAN,Orphan,NOWHERE,GHOST\n")
    return folder


def keys(findings: list[kamcore.Finding]) -> list[tuple[object, ...]]:
    return [(f.code, f.severity.value, f.subject, f.file, f.line, f.column, f.message)
            for f in findings]


def test_validate_gives_the_same_findings_from_every_entry_point(broken: Path) -> None:
    from_path = keys(kamcore.validate(broken))
    codes = {code for code, *_ in from_path}
    # the customer side is checked: contact rules and territory rules both fire
    assert {"KAM161", "KAM162", "KAM163", "KAM166", "KAM168", "KAM170"} <= codes
    assert {"KAM190", "KAM191"} <= codes
    assert keys(kamcore.validate(kamcore.load(broken))) == from_path
    tables = read_workspace(broken)
    tables.require_readable()
    assert keys(kamcore.validate(tables)) == from_path
    assert keys(validate_tables(tables)) == from_path
    result = CliRunner().invoke(make_cli(get_plugin_manager()),
                                ["validate", str(broken), "--format", "json"])
    assert result.exit_code == 1, result.output
    cli = [(f["code"], f["severity"], f["subject"], f["file"], f["line"], f["column"],
            f["message"]) for f in json.loads(result.output)["findings"]]
    assert cli == from_path


def test_an_org_with_an_unreadable_contacts_file_is_refused_like_its_path(broken: Path
                                                                          ) -> None:
    org = kamcore.load(broken)
    with (broken / "contacts.csv").open("a", encoding="utf-8") as handle:
        handle.write("X9,ORBIT-01,Bad mail,,user,,not-an-address,,,KAM-DE,\n")
    with pytest.raises(kamcore.RecordErrors, match="not an email address"):
        kamcore.validate(broken)
    with pytest.raises(kamcore.RecordErrors, match="not an email address"):
        kamcore.validate(org)


def test_coverage_is_the_same_from_an_org_and_from_its_path(broken: Path) -> None:
    from_path = coverage(broken).to_json()
    assert [gap["account"] for gap in from_path["no_decision_maker"]] == ["ORBIT"]
    assert coverage(kamcore.load(broken)).to_json() == from_path


def test_an_org_built_in_python_has_no_customer_side(broken: Path) -> None:
    org = kamcore.load(broken)
    built = kamcore.Org.build(org.accounts.values(), org.people.values())
    assert not [f for f in kamcore.validate(built) if f.code.startswith(("KAM16", "KAM17",
                                                                          "KAM19"))]

"""History from CRMs: Salesforce AccountHistory and parent links with validity (SAP KNVH)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import kamcore
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager
from tests.test_changes_support import save_small, snapshot

ROOT = Path(__file__).resolve().parent.parent
SF = ROOT / "examples" / "crm" / "salesforce"


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


@pytest.fixture
def sf_org(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_TODAY", "2026-06-15")
    result = run("import", "salesforce", str(SF / "Account.csv"), "--users", str(SF / "User.csv"),
                 "-o", str(tmp_path / "org"))
    assert result.exit_code in (0, 1), result.output
    return tmp_path / "org"


def test_account_history_dates_parent_and_owner_changes(sf_org):
    result = run("import", "history", str(sf_org), "--salesforce", str(SF / "AccountHistory.csv"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Dated 2 record fields from {SF / 'AccountHistory.csv'} (1 manager, 1 parent); "
        "4 rows.")
    assert "ignored: 1 row: name rows (the Id rows date the change)" in result.stdout
    org = kamcore.load(sf_org, as_of="2025-01-01")
    assert org.accounts["001DnAbC0000001IFA"].manager == "005Dn00000Ux003IAB"
    assert org.accounts["001DnAbC0000002"].parent == "001DnAbC0000001IFA"
    assert kamcore.load(sf_org, as_of="2024-01-31").accounts["001DnAbC0000002"].parent is None
    assert kamcore.load(sf_org).accounts["001DnAbC0000001IFA"].manager == "005Dn00000Ux001IAB"
    again = run("import", "history", str(sf_org), "--salesforce",
                str(SF / "AccountHistory.csv"), "--format", "json")
    data = json.loads(again.stdout)
    assert data["entry"] is None and len(data["kept"]) == 2   # nothing dated twice


def test_a_bad_date_or_an_unknown_account_stops_the_import(sf_org, tmp_path):
    bad = tmp_path / "AccountHistory.csv"
    bad.write_text("AccountId,Field,OldValue,NewValue,CreatedDate\n"
                   "001DnAbC0000002,Parent,,001DnAbC0000001IFA,yesterday\n"
                   "001DnAbC0000099,Owner,005Dn00000Ux003IAB,005Dn00000Ux001IAB,2025-01-01\n")
    before = snapshot(sf_org)
    result = run("import", "history", str(sf_org), "--salesforce", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2" in result.stderr and "'yesterday' is not a date" in result.stderr
    assert "and 1 more problem in this file" in result.stderr
    assert "nothing was written" in result.stderr
    assert snapshot(sf_org) == before
    bad.write_text("AccountId,Field,OldValue,NewValue,CreatedDate\n"
                   "001DnAbC0000099,Owner,005Dn00000Ux003IAB,005Dn00000Ux001IAB,2025-01-01\n")
    skipped = run("import", "history", str(sf_org), "--salesforce", str(bad), "--skip-unknown")
    assert skipped.exit_code == 0
    assert "skipped: " in skipped.stdout and "'001DnAbC0000099' not in the workspace" in \
        skipped.stdout


def test_parent_links_with_validity_knvh_style(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_TODAY", "2026-06-15")
    org = save_small(tmp_path / "org")
    links = tmp_path / "knvh.csv"
    links.write_text("KUNNR;HKUNNR;DATAB;DATBI\nR2;K1;20240101;20250630\n"
                     "R2;K2;20250701;99991231\n")
    result = run("import", "history", str(org), "--links", str(links))
    assert result.exit_code == 0, result.output
    assert kamcore.load(org, as_of="2025-06-30").accounts["R2"].parent == "K1"
    assert kamcore.load(org, as_of="2025-07-01").accounts["R2"].parent == "K2"
    assert run("validate", str(org), "--select", "KAM18").exit_code == 0
    links.write_text("account,parent,valid_from,valid_to\nR1,K2,2025-07-01,2025-01-01\n")
    bad = run("import", "history", str(org), "--links", str(links))
    assert bad.exit_code == 2 and f"{links}:2" in bad.stderr
    assert "is before valid from" in bad.stderr


def test_one_source_is_needed(tmp_path):
    org = save_small(tmp_path / "org")
    result = run("import", "history", str(org))
    assert result.exit_code == 2 and "needs one of --salesforce FILE or --links FILE" in \
        result.stderr
    shutil.rmtree(org)

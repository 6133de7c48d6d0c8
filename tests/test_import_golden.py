"""Every importer writes what it wrote before the columnar rewrite, byte for byte.

The expected outputs were recorded with the record-by-record importer (see
``tests/import_golden.py``): the workspace files, both report formats, the summary and the
exit code, for the sample exports and a generated 10,000-account Salesforce org.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.import_golden import GOLDEN, big_case, cases, digests, run_case

CASES = {case[0]: case for case in cases()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_import_writes_what_it_wrote_before(name: str, tmp_path: Path) -> None:
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    got = run_case(CASES[name], tmp_path)
    assert sorted(got) == sorted(expected)
    for key in expected:
        assert got[key] == expected[key], key


def test_generated_10k_salesforce_org_writes_what_it_wrote_before(tmp_path: Path) -> None:
    expected = json.loads((GOLDEN / "generated-10000.json").read_text(encoding="utf-8"))
    case = big_case(10_000, tmp_path / "export")
    got = digests(run_case(case, tmp_path / "run"))
    assert got == expected

"""The relationship map in kam chart: contacts by role, linked to their owners; no personal
data unless asked; checked in headless Chromium with a screenshot."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.test_chart import ARTIFACTS, _browse, run


def _embedded(page: Path) -> str:
    found = re.search(r'id="kam-data">(.*?)</script>', page.read_text(encoding="utf-8"), re.S)
    assert found
    return found.group(1)


def test_the_page_carries_contacts_linked_by_index_without_personal_data(acme_path, tmp_path):
    import json

    page = tmp_path / "acme.html"
    assert run("chart", str(acme_path), "-o", str(page)).exit_code == 0
    data = json.loads(_embedded(page))
    contacts = data["contacts"]
    assert set(contacts) == {"id", "name", "title", "role", "account", "owner", "primary",
                             "reportsTo"}
    first = contacts["id"].index("C-ACME-DE-1")
    assert data["accounts"]["id"][contacts["account"][first]] == "ACME-DE"
    assert data["people"]["id"][contacts["owner"][first]] == "NAM-ACME-DE"
    assert contacts["primary"][first] == 1
    second = contacts["id"].index("C-ACME-DE-2")
    assert contacts["reportsTo"][second] == first
    assert "@acme.example" not in page.read_text(encoding="utf-8")
    shared = tmp_path / "personal.html"
    assert run("chart", str(acme_path), "-o", str(shared), "--with-personal-data").exit_code == 0
    assert "carla.oliveira@acme.example" in _embedded(shared)


def test_a_workspace_without_contacts_gives_empty_columns(acme_path, tmp_path):
    import json

    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    (folder / "contacts.csv").unlink()
    page = tmp_path / "c.html"
    assert run("chart", str(folder), "-o", str(page)).exit_code == 0
    assert json.loads(_embedded(page))["contacts"]["id"] == []


def test_relationship_map_in_headless_chromium(acme_path, tmp_path):
    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    with (folder / "contacts.csv").open("a", encoding="utf-8") as handle:
        handle.write("X1,ACME-DE,Ida Brandt,Head of Finance,billing,C-ACME-DE-1,,,,"
                     "AM-ACME-DE,\nX2,ACME-DE,Ole Falk,Engineer,user,X1,,,,,\n")
    page = tmp_path / "acme.html"
    assert run("chart", str(folder), "-o", str(page)).exit_code == 0
    shot = ARTIFACTS / "chart-relationship-map.png"
    seen = _browse(page, "", tmp_path, shot, fragment="relmap=ACME-DE")
    assert seen["found"] is True
    assert seen["contacts"] == 4 and seen["primary"] == 1
    assert seen["roles"] == ["decision-maker", "champion", "billing", "user"]
    assert seen["owners"] == 2  # NAM-ACME-DE and AM-ACME-DE; X2 has no owner of ours
    assert seen["links"] == 3 and seen["personal"] == 0
    assert shot.exists() and shot.stat().st_size > 10_000

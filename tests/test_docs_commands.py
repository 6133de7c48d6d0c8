"""Every `kam` command shown in the customer-side docs runs (against a copy of the examples)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("contacts.md", "territories.md")
#: CRM exports the pages' import examples read (written into the folder the commands run in).
EXPORTS = {
    "Contact.csv": "Id,AccountId,FirstName,LastName,Title,ReportsToId,Email,Phone,OwnerId\n"
                   "003A1,ACME-DE,Carla,Oliveira,Managing Director,,,,NAM-ACME-DE\n",
    "contacts-dynamics.csv": "Full Name,Company Name,Job Title,Decision influence labels,Owner\n"
                             "Greta Hahn,Acme Industrial Group,CPO,Decision Maker,GAM1\n",
    "hubspot-contacts.csv": "Record ID,First Name,Last Name,Associated Company,Buying Role\n"
                            "101,Ana,Silva,Orbit Klinikum,Budget Holder\n",
    "territories-dynamics.csv": "Territory Name,Manager,Parent\nAmericas,DIR1,\n"
                                "Northwest,Tom Berg,Americas\n",
    "Territory2.csv": "Id,Name,DeveloperName,ParentTerritory2Id\n0MI1,Worldwide,WORLD,\n",
    "ObjectTerritory2Association.csv": "ObjectId,Territory2Id\nORBIT,0MI1\n",
}


def _commands() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
            found += [(page, line.strip()) for line in block.splitlines()
                      if line.strip().startswith("kam ")]
    return found


def test_the_pages_show_commands():
    assert len(_commands()) >= 5


@pytest.mark.parametrize(("page", "command"), _commands())
def test_command_runs(page, command, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples" / "acme", tmp_path / "examples" / "acme")
    for name, text in EXPORTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                shlex.split(command)[1:])
    assert result.exit_code == 0, f"{page}: {command}\n{result.output}"

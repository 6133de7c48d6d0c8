"""Plugin fields end to end: CSV columns and YAML keys, validation, unknown plugins, save."""

from __future__ import annotations

import json
import textwrap

import pytest
from pydantic import BaseModel, Field

from kamcore import SemicolonList, hookimpl, load, save, validate

pytest_plugins = ["kamcore.testing"]


class Shop(BaseModel):
    gln: str | None = Field(None, pattern=r"^\d{13}$")
    channels: SemicolonList = Field(default_factory=list)


class Staff(BaseModel):
    badge: int


class ShopPlugin:
    @hookimpl
    def kam_register_fields(self, register):
        register("shop", account=Shop, person=Staff)


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(ShopPlugin(), name="shop")
    return kam_pm


def write_csv_workspace(folder, account_cells="4006381333931,online;stores", badge="7"):
    folder.mkdir(exist_ok=True)
    (folder / "kam.yaml").write_text("name: Fields\ncurrency: EUR\n")
    (folder / "accounts.csv").write_text(
        "id,name,tier,manager,shop.gln,shop.channels,other.colour\n"
        f"A1,Alpha,regular,P1,{account_cells},blue\n")
    (folder / "people.csv").write_text(f"id,name,role,shop.badge\nP1,Pat,am,{badge}\n")
    return folder


def test_csv_columns_become_plugin_fields(pm, tmp_path):
    org = load(write_csv_workspace(tmp_path / "ws"), pm=pm)
    account = org.accounts["A1"]
    assert account.ext == {"shop": {"gln": "4006381333931", "channels": "online;stores"},
                           "other": {"colour": "blue"}}
    assert org.fields(account, "shop") == Shop(gln="4006381333931",
                                               channels=["online", "stores"])
    assert org.fields(org.people["P1"], "shop") == Staff(badge=7)


def test_invalid_field_names_file_line_record_column_and_plugin(pm, kam_cli, tmp_path):
    folder = write_csv_workspace(tmp_path / "ws", account_cells="12345,online", badge="x")
    result = kam_cli.invoke("validate", str(folder), "--format", "json")
    assert result.exit_code == 1
    findings = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "KAM140"]
    assert [(f["subject"], f["column"], f["line"], f["file"].rsplit("/", 1)[-1])
            for f in findings] == [("A1", "shop.gln", 2, "accounts.csv"),
                                   ("P1", "shop.badge", 2, "people.csv")]
    assert all("(plugin 'shop')" in f["message"] for f in findings)


def test_unknown_namespace_is_a_warning_naming_the_plugin(pm, tmp_path):
    org = load(write_csv_workspace(tmp_path / "ws"), pm=pm)
    (finding,) = [f for f in validate(org) if f.code == "KAM130"]
    assert finding.severity == "warning"
    assert finding.message == ("columns 'other.*' belong to plugin 'other', which is not "
                               "installed; they are kept as they are")
    assert finding.hint.startswith("pip install kamcore-other")


def test_nothing_is_dropped_on_save_without_the_plugin(kam_pm, tmp_path):
    import csv

    folder = write_csv_workspace(tmp_path / "ws")
    org = load(folder, pm=kam_pm)  # the shop plugin is not installed here
    save(org)
    with (folder / "accounts.csv").open(newline="") as f:
        (row,) = csv.DictReader(f)
    assert {k: row[k] for k in ("shop.gln", "shop.channels", "other.colour")} == {
        "shop.gln": "4006381333931", "shop.channels": "online;stores", "other.colour": "blue"}
    assert (folder / "people.csv").read_text().startswith("id,name,role,shop.badge")
    assert load(folder, pm=kam_pm).accounts == org.accounts


def test_inline_yaml_fields_live_under_the_plugin_key(pm, kam_cli, tmp_path):
    (tmp_path / "kam.yaml").write_text(textwrap.dedent("""\
        name: Inline
        currency: EUR
        accounts:
          - id: A1
            name: Alpha
            tier: regular
            shop: {gln: "4006381333931", channels: [online, stores]}
          - id: A2
            name: Beta
            tier: regular
            shop: {gln: "not a gln"}
        people: []
        """))
    org = load(tmp_path, pm=pm)
    assert org.fields(org.accounts["A1"], "shop").channels == ["online", "stores"]
    result = kam_cli.invoke("validate", str(tmp_path), "--format", "json")
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "KAM140"]
    assert (finding["subject"], finding["column"], finding["line"]) == ("A2", "shop.gln", 8)
    save(org)
    assert load(tmp_path, pm=pm).accounts == org.accounts


def test_kam_schema_includes_plugin_fields(pm, kam_cli):
    data = json.loads(kam_cli.invoke("schema").stdout)
    shop = data["plugins"]["shop"]
    assert shop["plugin"] == "shop"
    assert set(shop["account"]["properties"]) == {"gln", "channels"}
    assert shop["person"]["required"] == ["badge"]


def test_kam130_says_installed_but_not_loaded_for_a_disabled_plugin(kam_pm, tmp_path):
    pytest.importorskip("kamcore_retail")  # installed by scripts/install-dev.sh
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "kam.yaml").write_text("name: T\n")
    (folder / "accounts.csv").write_text("id,name,tier,retail.gln\nA,A,regular,4006381333931\n")
    (folder / "people.csv").write_text("id,name,role\nP,P,am\n")
    (finding,) = [f for f in validate(load(folder, pm=kam_pm)) if f.code == "KAM130"]
    assert finding.message == ("columns 'retail.*' belong to plugin 'retail', which is "
                               "installed but not loaded in this run; they are kept as they are")
    assert "pip install" not in finding.hint and "KAM_DISABLE_PLUGINS" in finding.hint

"""Import and export for plugins: a plugin maps CRM columns to its fields (Salesforce
SLA_Tier__c -> telecom.sla_tier), map files take plugin fields, --suggest-map proposes them,
and a plugin adds an export format."""

from __future__ import annotations

from pydantic import BaseModel

import kamcore
from kamcore import hookimpl

pytest_plugins = ["kamcore.testing"]


class TelecomAccount(BaseModel):
    sla_tier: str | None = None


def render_sla(tables):
    ids = tables.accounts.ids.to_pylist()
    column = tables.accounts.column("telecom.sla_tier")
    tiers = column.to_pylist() if column is not None else [None] * len(ids)
    return "".join(f"{i}\t{t or '-'}\n" for i, t in zip(ids, tiers, strict=True))


class Telecom:
    @hookimpl
    def kam_register_fields(self, register):
        register("telecom", account=TelecomAccount,
                 crm={"sla_tier": ("SLA_Tier__c", "SLA Tier")})

    @hookimpl
    def kam_register_exporters(self, register):
        register("sla_sheet", render_sla, description="SLA tier per account")


ACCOUNTS = ("Id,Name,OwnerId,AnnualRevenue,SLA_Tier__c\n"
            "001DnAbC0000001,Acme,005Dn00000Ux001IAB,100,gold\n"
            "001DnAbC0000002,Bolt,005Dn00000Ux001IAB,50,\n")


def test_a_salesforce_column_lands_in_the_plugin_field(kam_pm, kam_cli, tmp_path):
    kam_pm.register(Telecom(), name="telecom")
    (tmp_path / "Account.csv").write_text(ACCOUNTS)
    result = kam_cli.invoke("import", "salesforce", str(tmp_path / "Account.csv"), "-o",
                            str(tmp_path / "org"))
    assert result.exit_code == 0, result.output
    org = kamcore.load(tmp_path / "org", pm=kam_pm)
    tiers = {a.name: a.ext.get("telecom", {}).get("sla_tier") for a in org.accounts.values()}
    assert tiers == {"Acme": "gold", "Bolt": None}
    assert "SLA_Tier__c" not in next(iter(org.accounts.values())).extra


def test_suggest_map_proposes_plugin_fields_and_map_files_take_them(kam_pm, kam_cli,
                                                                      tmp_path):
    kam_pm.register(Telecom(), name="telecom")
    (tmp_path / "accounts.csv").write_text("Account ID,Account Name,SLA Tier\nA1,Acme,Gold\n")
    suggested = kam_cli.invoke("import", "csv", str(tmp_path / "accounts.csv"), "--suggest-map")
    assert suggested.exit_code == 0, suggested.output
    assert "  telecom.sla_tier: SLA Tier\n" in suggested.stdout
    (tmp_path / "map.yaml").write_text("accounts:\n  id: Account ID\n  name: Account Name\n"
                                       "  telecom.sla_tier: SLA Tier\n")
    result = kam_cli.invoke("import", "csv", str(tmp_path / "accounts.csv"), "--map",
                            str(tmp_path / "map.yaml"), "-o", str(tmp_path / "org"))
    assert result.exit_code == 0, result.output
    org = kamcore.load(tmp_path / "org", pm=kam_pm)
    assert org.accounts["A1"].ext == {"telecom": {"sla_tier": "Gold"}}


def test_hook_kam_register_exporters(kam_pm, kam_cli, org_builder, tmp_path):
    kam_pm.register(Telecom(), name="telecom")
    folder = (org_builder().person("P").account("A", manager="P", telecom={"sla_tier": "gold"})
              .account("B", manager="P").write(tmp_path / "org"))
    result = kam_cli.invoke("export", str(folder), "--format", "sla_sheet")
    assert (result.exit_code, result.stdout) == (0, "A\tgold\nB\t-\n"), result.output
    out = tmp_path / "sla.tsv"
    assert kam_cli.invoke("export", str(folder), "--format", "sla_sheet", "-o",
                          str(out)).exit_code == 0
    assert out.read_text() == "A\tgold\nB\t-\n"
    typo = kam_cli.invoke("export", str(folder), "--format", "sla_sheat")
    assert typo.exit_code == 2 and "did you mean 'sla_sheet'?" in typo.output


class Broken:
    @hookimpl
    def kam_register_exporters(self, register):
        register("broken", lambda tables: 1 / 0)


def test_a_failing_export_format_names_its_plugin(kam_pm, kam_cli, org_builder, tmp_path):
    kam_pm.register(Broken(), name="broken")
    folder = org_builder().person("P").account("A", manager="P").write(tmp_path / "org")
    result = kam_cli.invoke("export", str(folder), "--format", "broken", "-o",
                            str(tmp_path / "out.txt"))
    assert result.exit_code == 3
    assert "plugin 'broken' in hook kam_register_exporters: export format 'broken': " \
        "ZeroDivisionError" in result.output
    assert not (tmp_path / "out.txt").exists()


def read_billing(source):
    """A billing system's export: semicolon-separated, its own column names."""
    from pathlib import Path

    lines = Path(source).read_text().splitlines()
    return "".join(line.replace(";", ",") + "\n" for line in lines)


class BillingSystem:
    @hookimpl
    def kam_register_importers(self, register):
        register("billing_system", read_billing, description="A billing system's export.",
                 mapping={"id": "CustomerNo", "name": "Customer", "parent": "Group",
                          "metrics": {"revenue": "Billed"}, "telecom.sla_tier": "Tier"})

    @hookimpl
    def kam_register_fields(self, register):
        register("telecom", account=TelecomAccount)


def test_hook_kam_register_importers(kam_pm, kam_cli, tmp_path):
    kam_pm.register(BillingSystem(), name="billing")
    (tmp_path / "export.txt").write_text("CustomerNo;Customer;Group;Billed;Tier\n"
                                         "G1;Globex;;100;gold\nG2;Globex DE;G1;40;\n")
    help_text = kam_cli.invoke("import", "--help").output
    assert "billing_system" in help_text
    result = kam_cli.invoke("import", "billing_system", str(tmp_path / "export.txt"), "-o",
                            str(tmp_path / "org"))
    assert result.exit_code == 0, result.output
    org = kamcore.load(tmp_path / "org", pm=kam_pm)
    assert org.accounts["G2"].parent == "G1" and org.accounts["G1"].metrics["revenue"] == 100
    assert org.accounts["G1"].ext == {"telecom": {"sla_tier": "gold"}}
    assert (tmp_path / "org" / "import-report.md").exists()
    assert result.stderr.startswith("imported 2 accounts and 0 people from billing_system into")
    assert org.settings.name == "Imported from billing_system"


class BrokenSource:
    @hookimpl
    def kam_register_importers(self, register):
        def convert(source):
            raise SystemExit(4)

        register("broken_source", convert, mapping={"name": "Name"})


def test_a_failing_import_source_names_its_plugin(kam_pm, kam_cli, tmp_path):
    kam_pm.register(BrokenSource(), name="brokensrc")
    result = kam_cli.invoke("import", "broken_source", "x", "-o", str(tmp_path / "org"))
    assert result.exit_code == 3
    assert "plugin 'brokensrc' in hook kam_register_importers: import source " \
        "'broken_source': SystemExit(4)" in result.output
    assert not (tmp_path / "org").exists()

"""``--suggest-map`` as a new user runs it on the shipped sample exports (issue 11, item 5).

The draft is written to a file as the docs say (``... --suggest-map > map.yaml``), imported
with ``--map``, and the org is compared with the one the hand-written map of the same sample
gives: every parent, tier, country and manager must come out the same. Guesses are marked in
the file (``# guess: why``) and listed on stderr, never in the YAML on stdout.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kamcore import load
from kamcore.cli.app import make_cli
from kamcore.importers.mapping import header_matches, match_headers
from kamcore.plugins import get_plugin_manager

SAMPLES = Path(__file__).resolve().parent.parent / "examples" / "crm"
TEAM = SAMPLES / "sales-team"
GENERIC = SAMPLES / "generic"


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def suggest(tmp_path: Path, accounts: Path, people: Path | None = None) -> tuple[Path, str]:
    """Draft a map as the docs show; :returns: the map file and what stderr said."""
    extra = ["--people", str(people)] if people else []
    result = run("import", "csv", str(accounts), *extra, "--suggest-map")
    assert result.exit_code == 0, result.output
    target = tmp_path / "suggested.yaml"
    target.write_text(result.stdout, encoding="utf-8")
    return target, result.stderr


def imported(tmp_path: Path, name: str, accounts: Path, mapfile: Path,
             people: Path | None = None):
    extra = ["--people", str(people)] if people else []
    out = tmp_path / name
    result = run("import", "csv", str(accounts), *extra, "--map", str(mapfile), "-o", str(out))
    assert result.exit_code == 0, result.output
    return load(out, pm=get_plugin_manager(load_entrypoints=False))


def test_sales_team_sheet_maps_every_obvious_column(tmp_path: Path):
    mapfile, stderr = suggest(tmp_path, TEAM / "accounts.csv", TEAM / "sales_teams.csv")
    text = mapfile.read_text()
    drafted = yaml.safe_load(text)
    assert drafted["accounts"] == {
        "name": "account", "parent": "subsidiary_of", "parent_by": "name",
        "manager": "sales_agent", "manager_by": "name", "country": "office_location",
        "industry": "sector", "tier": "Tier",
        "metrics": {"revenue": "revenue", "employees": "employees"}}
    assert drafted["people"] == {"name": "sales_agent", "reports_to": "manager",
                                 "reports_to_by": "name"}
    assert drafted["countries"] == {"Philipines": "PH"}
    # every guess is marked in the file and said on stderr; the YAML holds none of it
    for line in ("name: account  # guess: its cells are names",
                 "parent: subsidiary_of  # guess: its cells name other accounts",
                 "manager: sales_agent  # guess: its cells are the people sheet's people",
                 "country: office_location  # guess: 92% of its values name countries",
                 "Philipines: PH  # guess: did you mean Philippines (PH)?"):
        assert f"  {line}" in text, line
    assert "tier: Tier\n" in text and "industry: sector\n" in text  # headers: no guess
    assert stderr.splitlines()[0] == (
        "6 guesses in the draft, marked '# guess:' (check them before you import):")
    assert "  accounts.parent: subsidiary_of (its cells name other accounts" in stderr
    assert "  people.name: sales_agent (headed as the accounts' manager column" in stderr


def test_sales_team_import_with_the_draft_gets_parents_tiers_countries_managers(
        tmp_path: Path):
    mapfile, _ = suggest(tmp_path, TEAM / "accounts.csv", TEAM / "sales_teams.csv")
    org = imported(tmp_path, "drafted", TEAM / "accounts.csv", mapfile,
                   TEAM / "sales_teams.csv")
    korea = org.accounts["HOTTECHI-KOREA"]
    assert (korea.parent, korea.country, korea.manager) == ("HOTTECHI", "KR", "VICKI-HULME")
    assert org.accounts["HOTTECHI"].tier.value == "global"       # from the Tier column
    assert org.accounts["DONTECHI"].tier.value == "key"
    assert org.accounts["GOLDDEX"].country == "PH"               # the guessed typo
    agent = org.people["VICKI-HULME"]
    assert agent.name == "Vicki Hulme" and org.people[agent.reports_to].role.value == "director"
    assert len(org.people) == 30                                 # 24 agents, 6 placeholders
    # the same org as the sample's hand-written map gives (which leaves Golddex's typo alone)
    by_hand = imported(tmp_path, "by-hand", TEAM / "accounts.csv", TEAM / "map.yaml",
                       TEAM / "sales_teams.csv")
    assert org.people == by_hand.people
    differ = {aid for aid in org.accounts if org.accounts[aid] != by_hand.accounts[aid]}
    assert differ == {"GOLDDEX", "BIOHOLDING"}                   # 'Philipines' -> PH
    assert by_hand.accounts["GOLDDEX"].country is None


def test_accounts_alone_still_map_the_agent_as_manager_by_name(tmp_path: Path):
    mapfile, stderr = suggest(tmp_path, TEAM / "accounts.csv")
    drafted = yaml.safe_load(mapfile.read_text())
    assert (drafted["accounts"]["manager"], drafted["accounts"]["manager_by"]) == (
        "sales_agent", "name")
    assert "accounts.manager: sales_agent (named like an owner" in stderr
    org = imported(tmp_path, "org", TEAM / "accounts.csv", mapfile)
    assert org.accounts["HOTTECHI-KOREA"].manager == "VICKI-HULME"  # an id made from the name
    assert org.people["VICKI-HULME"].name == "Vicki Hulme"


def test_dynamics_export_draft_equals_its_hand_written_map(tmp_path: Path):
    accounts, people = GENERIC / "accounts.csv", GENERIC / "people.csv"
    mapfile, stderr = suggest(tmp_path, accounts, people)
    drafted = yaml.safe_load(mapfile.read_text())
    assert drafted["accounts"]["tier"] == "Tier"
    assert drafted["accounts"]["tier_values"] == {"Strategic": "key"}
    assert drafted["accounts"]["metrics"] == {"revenue": "Annual Revenue (EUR)"}
    assert (drafted["accounts"]["parent_by"], drafted["accounts"]["manager_by"]) == (
        "name", "name")
    assert drafted["countries"] == {"Phillippines": "PH"}
    assert "  # Korea: KR or KP  # 'Korea' could be South Korea (KR) or North Korea (KP)" in (
        mapfile.read_text())
    assert stderr.startswith("2 guesses in the draft")
    org = imported(tmp_path, "drafted", accounts, mapfile, people)
    by_hand = imported(tmp_path, "by-hand", accounts, GENERIC / "map.yaml", people)
    assert org.accounts == by_hand.accounts and org.people == by_hand.people
    assert org.accounts["FRESH-FOODS"].tier.value == "key"          # Strategic


def test_an_id_column_of_codes_names_the_accounts_too(tmp_path: Path):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account,parent_code,rep,Country of HQ\n"
                        "ACC-1,,Ann Lee,Germany\nACC-2,ACC-1,Bo Ek,Sweden\n"
                        "ACC-3,ACC-1,Ann Lee,France\n", encoding="utf-8")
    mapfile, stderr = suggest(tmp_path, accounts)
    drafted = yaml.safe_load(mapfile.read_text())["accounts"]
    assert (drafted["id"], drafted["name"]) == ("account", "account")
    assert (drafted["parent"], drafted["parent_by"]) == ("parent_code", "id")
    assert (drafted["manager"], drafted["manager_by"]) == ("rep", "name")
    assert drafted["country"] == "Country of HQ"
    assert "accounts.name: account (the only column naming accounts" in stderr
    org = imported(tmp_path, "org", accounts, mapfile)
    assert org.accounts["ACC-2"].parent == "ACC-1" and org.accounts["ACC-2"].country == "SE"
    assert org.accounts["ACC-1"].tier.value == "global"             # spans DE, SE, FR


def test_hostile_headers_and_cells_stay_yaml_text(tmp_path: Path):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text('"#Account: name","Tier","parent: of","Land","Notes\nowner: x"\n'
                        '"Acme, Inc.",Strategic,,Germany,\n'
                        '"Acme: Sub #1","key\nname: x","Acme, Inc.",France,\n'
                        '"=cmd|\' /C calc\'!A0",,"Acme, Inc.","Frannce: #1",\n'
                        '"Acme 4","Gold\nmanager: x",,"Frannce: #1",hi\n', encoding="utf-8")
    mapfile, _stderr = suggest(tmp_path, accounts)
    drafted = yaml.safe_load(mapfile.read_text())
    assert drafted["countries"] == {"Frannce: #1": "FR"}
    drafted = drafted["accounts"]
    assert drafted["name"] == "#Account: name" and drafted["parent"] == "parent: of"
    assert drafted["country"] == "Land" and set(drafted) == {
        "name", "parent", "parent_by", "country", "tier", "tier_values"}
    org = imported(tmp_path, "org", accounts, mapfile)
    assert org.accounts[sub_of("Acme 4", org)].extra["Notes\nowner: x"] == "hi"
    sub = org.accounts[sub_of("Acme: Sub #1", org)]
    assert org.accounts[sub.parent].name == "Acme, Inc."


def sub_of(name: str, org) -> str:
    return next(a.id for a in org.accounts.values() if a.name == name)


def test_exact_headers_of_every_field_come_before_other_spellings():
    # "Owner Id" is the id's exact header; the manager's spelling of it must not take it
    candidates = {"manager": ("Owner ID",), "id": ("Owner Id",)}
    assert match_headers(["Owner Id"], candidates) == {"id": "Owner Id"}
    assert header_matches(["Annual Revenue (EUR)", "Accnt Name"],
                          {"revenue": ("Annual Revenue",), "name": ("Account Name",)},
                          fuzzy=True) == {
        "revenue": ("Annual Revenue (EUR)", "spelling", "Annual Revenue"),
        "name": ("Accnt Name", "close", "Account Name")}


@pytest.mark.parametrize("header", ["State", "Billing State/Province"])
def test_a_state_column_of_codes_is_not_taken_for_countries(tmp_path: Path, header: str):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(f"Name,{header}\nA,CA\nB,DE\nC,IN\n", encoding="utf-8")
    mapfile, _ = suggest(tmp_path, accounts)
    assert "country" not in yaml.safe_load(mapfile.read_text())["accounts"]


def test_the_draft_shown_in_the_docs_is_the_draft(tmp_path: Path):
    docs = (Path(__file__).resolve().parent.parent / "docs" / "import.md").read_text()
    shown = docs.split("drafts (comments cut short here)\n\n```yaml\n", 1)[1].split("```", 1)[0]
    mapfile, stderr = suggest(tmp_path, TEAM / "accounts.csv", TEAM / "sales_teams.csv")
    assert yaml.safe_load(shown) == yaml.safe_load(mapfile.read_text())
    assert f"`{stderr.splitlines()[0]}`" in " ".join(docs.split())


def test_a_customer_column_without_headers_crms_use_is_the_name(tmp_path: Path):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("Customer Type,Customer,Ultimate Parent\nRetail,Acme Retail,\n"
                        "Retail,Acme Shops,Acme Retail\nWholesale,Bolt Trade,\n",
                        encoding="utf-8")
    mapfile, _ = suggest(tmp_path, accounts)
    drafted = yaml.safe_load(mapfile.read_text())["accounts"]
    assert (drafted["name"], drafted["parent"], drafted["parent_by"]) == (
        "Customer", "Ultimate Parent", "name")
    assert "  # kept as they are: Customer Type\n" in mapfile.read_text()


def test_metrics_named_in_other_words_and_their_scale(tmp_path: Path):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("Company,Revenue in USD millions,Headcount,Country\n"
                        "Acme,1.5,120,DE\nBolt,2.25,n/a,FR\nCorex,0.7,30,US\n", encoding="utf-8")
    mapfile, stderr = suggest(tmp_path, accounts)
    drafted = yaml.safe_load(mapfile.read_text())["accounts"]
    assert drafted["metrics"] == {"revenue": "Revenue in USD millions",
                                  "employees": "Headcount"}
    assert drafted["scale"] == {"revenue": "millions"}
    assert "  accounts.scale.revenue: millions (the revenue header says 'millions')" in stderr
    result = run("import", "csv", str(accounts), "--map", str(mapfile), "-o",
                 str(tmp_path / "org"))
    assert result.exit_code == 0, result.output
    org = load(tmp_path / "org", pm=get_plugin_manager(load_entrypoints=False))
    assert org.accounts["BOLT"].metrics["revenue"] == 2_250_000
    assert org.accounts["ACME"].metrics["employees"] == 120
    assert org.settings.currency == "USD"                            # from the header

"""The columnar writer (``saver.render_table``) writes what the record writer writes.

``kam plan apply`` writes accounts.csv and people.csv from the reader's tables (100,000 rows
without building a record each); every other change writes them from the org. Both must give
the same bytes for the same records, or a plan would rewrite every line a single change keeps.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for
from kamcore.workspace import saver
from kamcore.workspace.objects import org_from_tables
from kamcore.workspace.tables import read_workspace
from tests.messy_orgs import MessyWorkspace, messy_workspaces

REGISTRY = registry_for(get_plugin_manager(load_entrypoints=False))


def both(folder: Path) -> tuple[tuple[str, str], tuple[str, str]]:
    """(accounts, people) written from the org, and from the tables."""
    tables = read_workspace(folder, registry=REGISTRY)
    org = org_from_tables(tables)
    return ((saver.render_accounts(org), saver.render_people(org)),
            (saver.render_table(tables.accounts, list(tables.metrics)),
             saver.render_table(tables.people)))


def test_awkward_cells_columns_and_duplicates(tmp_path: Path) -> None:
    (tmp_path / "kam.yaml").write_text("name: t\ncurrency: EUR\n", encoding="utf-8")
    (tmp_path / "accounts.csv").write_text(
        "id,name,tier,parent,manager,country,revenue,orders,crm.segment,notes,empty\n"
        'G1,"Acme, Inc.",GLOBAL,,P1,de,1500000,,"a ""b""",,\n'
        'N1,"Line\nbreak",national,G1,P1,FR,0.1,-0,,"=1+1",\n'
        "N1,Duplicate,national,G1,P1,FR,5,,,,\n"
        'K1,Carriage\rreturn,key,N1,,US,1e15,2.50,x,  padded  ,\n'
        "K2,Plain,key,N1,P2,,,-3,,,\n",
        encoding="utf-8", newline="")
    (tmp_path / "people.csv").write_text(
        "id,name,role,reports_to,capacity,email\n"
        "P1,Pat,gam,,10,pat@example.com\n"
        'P2,"Sam, Jr.",kam,P1,,\n', encoding="utf-8")
    from_org, from_tables = both(tmp_path)
    assert from_tables == from_org
    accounts, people = from_tables
    assert accounts.count("\nN1,") == 1  # the first of a repeated id, as the org keeps it
    assert "empty" in accounts.splitlines()[0]  # the file's layout, empty columns included
    assert people.splitlines()[0].endswith("active,specialty")
    assert people.splitlines()[1].split(",")[6] == "true"  # no column: everyone is active


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(messy_workspaces())
def test_messy_workspaces(ws: MessyWorkspace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        from_org, from_tables = both(ws.write(Path(folder)))
    assert from_tables == from_org

"""``kam schema``: the JSON Schema of the records, plugin fields included."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pydantic import BaseModel


@click.command()
@click.option("--record", type=click.Choice(["all", "account", "person", "contact", "territory",
                                             "finding", "settings", "plan", "history"]),
              default="all", show_default=True, help="Which record's schema to print.")
@click.pass_obj
def schema(kam: object, record: str) -> None:
    """Print the JSON Schema of accounts, people, contacts, territories, findings, kam.yaml
    settings, plan files and history.csv rows.

    Plugin fields appear under ``plugins``: the schema of each plugin's namespace; every contact
    role (the core's and the plugins') under ``contact_roles``.

    \b
    Examples:
      kam schema --record account
      kam schema --record plan > plan.schema.json
      kam schema > kamcore.schema.json
    """
    from kamcore.changes.planfile import PlanFile
    from kamcore.cli.context import KamContext
    from kamcore.cli.output import render_json
    from kamcore.models import Account, Contact, Finding, Person, Territory
    from kamcore.models.history import HistoryRow
    from kamcore.settings import Settings

    assert isinstance(kam, KamContext)
    models: dict[str, type[BaseModel]] = {"account": Account, "person": Person,
                                          "contact": Contact, "territory": Territory,
                                          "finding": Finding, "settings": Settings,
                                          "plan": PlanFile, "history": HistoryRow}
    if record != "all":
        click.echo(render_json(models[record].model_json_schema()))
        return
    plugins = {}
    for namespace, fieldset in sorted(kam.registry.fields.items()):
        plugins[namespace] = {
            "plugin": fieldset.plugin,
            "account": fieldset.account.model_json_schema() if fieldset.account else None,
            "person": fieldset.person.model_json_schema() if fieldset.person else None,
            "contact": fieldset.contact.model_json_schema() if fieldset.contact else None,
        }
    metrics = {name: m.model_dump(mode="json") for name, m in kam.registry.metrics.items()}
    click.echo(render_json({name: model.model_json_schema() for name, model in models.items()}
                           | {"plugins": plugins, "metrics": metrics,
                              "contact_roles": kam.registry.contact_roles}))

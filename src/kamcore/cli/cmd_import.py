"""``kam import``: Salesforce, HubSpot or any CSV export -> a workspace, plus a report."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, target = value.rpartition("=")
        if not sep or not key.strip() or not target.strip():
            raise click.BadParameter(f"{value!r}: write VALUE={what}", param_hint=f"--{what}")
        out[key.strip()] = target.strip()
    return out


def common_options(func: F) -> F:
    """Options every import shares."""
    options = [
        click.option("-o", "--output", "output", metavar="ORGDIR",
                     type=click.Path(file_okay=False), help="Workspace folder to create."),
        click.option("--name", help="The org's name in kam.yaml."),
        click.option("--currency", metavar="CODE",
                     help="Reporting currency (default: the accounts' most common)."),
        click.option("--tier-from", metavar="COLUMN",
                     help="Take tiers from this column (else they are inferred)."),
        click.option("--tier-map", multiple=True, metavar="VALUE=TIER",
                     help="How a --tier-from value maps to a tier (repeatable)."),
        click.option("--key-revenue", type=float, metavar="AMOUNT",
                     help="Revenue that makes a leaf account key when inferring tiers "
                          "(default: the top 10 %)."),
        click.option("--country", "countries", multiple=True, metavar="VALUE=CODE",
                     help="Map a country cell the importer cannot (repeatable), "
                          "e.g. 'Phillippines=PH'."),
        click.option("--strict", is_flag=True,
                     help="Treat every reported problem as an error; write nothing then."),
        click.option("--force", is_flag=True, help="Replace a workspace already in ORGDIR."),
        click.option("--report", "report_format", type=click.Choice(["md", "json"]),
                     default="md", show_default=True, help="Format of the import report."),
        click.option("--no-validate", is_flag=True,
                     help="Skip running the rules on the result (faster on huge imports)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _options(kwargs: dict[str, Any]) -> Any:
    from kamcore.importers import ImportOptions

    return ImportOptions(name=kwargs["name"], currency=kwargs["currency"],
                         key_revenue=kwargs["key_revenue"],
                         countries=_pairs(kwargs["countries"], "country"),
                         validate=not kwargs["no_validate"], progress=_progress())


def _progress() -> Callable[[Iterable[Any], int, str], Iterable[Any]] | None:
    """A progress bar on stderr when it is a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        return None

    def bar(items: Iterable[Any], length: int, label: str) -> Iterator[Any]:
        with click.progressbar(items, length=length, label=f"{label:<18}",
                               file=sys.stderr) as shown:
            yield from shown

    return bar


def _need_output(kwargs: dict[str, Any]) -> None:
    if not kwargs["output"]:
        raise click.UsageError("missing -o ORGDIR: the workspace folder to create")


def _finish(result: Any, kwargs: dict[str, Any]) -> None:
    from kamcore.importers import refuse_problems, write_import

    if kwargs["strict"]:
        refuse_problems(result)
    path = write_import(result, kwargs["output"], force=kwargs["force"],
                        report_format=kwargs["report_format"])
    click.echo(result.report.summary(), err=True)
    click.echo(f"report: {path}", err=True)
    out = kwargs["output"]
    click.echo(f"next: kam validate {out}  |  kam tree {out} --depth 1  |  kam chart {out}",
               err=True)


def _role_map(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    from pathlib import Path

    from kamcore.errors import Location, WorkspaceError
    from kamcore.workspace.yamlio import read_yaml, strip_lines

    data = strip_lines(read_yaml(Path(path)))
    if not isinstance(data, dict):
        raise WorkspaceError("a role map is a YAML mapping of title: role",
                             location=Location(path, 1),
                             hint="e.g. 'Sales Director: director' or 'Billing Clerk: "
                                  "support:billing'")
    return {str(k): str(v) for k, v in data.items()}


class ImportGroup(click.Group):
    """``kam import``: the built-in sources, then each plugin's (``kam_register_importers``),
    looked up by name when no built-in matches."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *sorted(_plugin_importers(ctx))]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        importer = _plugin_importers(ctx).get(cmd_name)
        if importer is not None:
            return _plugin_import_command(importer)
        from kamcore.cli.app import contested_command
        from kamcore.cli.context import KamContext

        kam = ctx.find_object(KamContext)
        problem = kam.settled.conflict("importers", cmd_name) if kam is not None else None
        return contested_command(cmd_name, problem) if problem is not None else None


def _plugin_importers(ctx: click.Context) -> dict[str, Any]:
    from kamcore.cli.context import KamContext

    kam = ctx.find_object(KamContext)
    return dict(kam.settled.importers) if kam is not None else {}


def _plugin_import_command(importer: Any) -> click.Command:
    """``kam import NAME SOURCE -o ORGDIR``: the plugin turns SOURCE into an accounts CSV,
    which the one import engine maps with the plugin's mapping (or ``--map``)."""

    @click.command(name=importer.name, help=(importer.description or
                                             f"Import from {importer.name} (plugin "
                                             f"{importer.plugin!r}).") + "\n\nSOURCE is "
                   "what the plugin reads (a file, a folder, a URL).")
    @click.argument("source")
    @click.option("--map", "map_file", type=click.Path(dir_okay=False), metavar="MAP.yaml",
                  help="Column mapping instead of the plugin's.")
    @common_options
    @click.pass_obj
    def run(kam: Any, source: str, map_file: str | None, **kwargs: Any) -> None:
        import tempfile
        from dataclasses import replace
        from pathlib import Path

        from kamcore.errors import PluginError
        from kamcore.hookcall import describe_fault
        from kamcore.importers import import_csv
        from kamcore.importers.mapping import ImportMap, read_map

        _need_output(kwargs)
        try:
            text = importer.convert(source)
        except BaseException as exc:  # SystemExit too: the plugin's fault; Ctrl-C goes through
            raise PluginError(f"import source {importer.name!r}: {describe_fault(exc)}",
                              plugin=importer.plugin, hook="kam_register_importers") from None
        if not isinstance(text, str):
            raise PluginError(f"import source {importer.name!r} returned "
                              f"{type(text).__name__}, expected CSV text",
                              plugin=importer.plugin, hook="kam_register_importers")
        imap = (read_map(map_file) if map_file
                else ImportMap.model_validate({"accounts": dict(importer.mapping)}))
        with tempfile.TemporaryDirectory(prefix="kam-import-") as folder:
            path = Path(folder) / f"{importer.name}.csv"
            path.write_text(text, encoding="utf-8")
            result = import_csv(str(path), imap, options=replace(
                _options(kwargs), source=importer.name), registry=kam.registry)
        _finish(result, kwargs)

    return run


def _echo_draft(accounts: str, people: str | None, registry: Any) -> None:
    """The drafted mapping file on stdout; its guesses, to check first, on stderr."""
    from kamcore.importers.generic import draft_map
    from kamcore.wording import plural

    draft = draft_map(accounts, people, registry=registry)
    click.echo(draft.text, nl=False)
    if draft.guesses:
        click.echo(f"{plural(len(draft.guesses), 'guess')} in the draft, marked '# guess:' "
                   "(check them before you import):", err=True)
        for guess in draft.guesses:
            click.echo(f"  {guess}", err=True)


@click.group(name="import", cls=ImportGroup, invoke_without_command=True)
@click.option("--suggest-map", "suggest", metavar="ACCOUNTS.csv",
              type=click.Path(dir_okay=False),
              help="Print a mapping file drafted from this CSV's headers and cells (guesses"
                   " marked and listed on stderr) and exit.")
@click.option("--people", "suggest_people", metavar="PEOPLE.csv", type=click.Path(dir_okay=False),
              help="With --suggest-map: the people CSV to map too.")
@click.pass_context
def import_(ctx: click.Context, suggest: str | None, suggest_people: str | None) -> None:
    """Turn a CRM export into a workspace, with a report of everything inferred.

    Unmapped columns are kept per record and written back by `kam export --format
    salesforce`; records that cannot be used are listed in ORGDIR/import-report.md (a section
    of more than 50 rows in full in a CSV file beside it, which the report names).

    \b
    Examples:
      kam import salesforce examples/crm/salesforce/Account.csv -o sf-org
      kam import hubspot examples/crm/hubspot/companies.csv -o hs-org --tier-map PARTNER=key
      cd examples/crm/generic
      kam import --suggest-map accounts.csv --people people.csv > my-map.yaml
      kam import csv accounts.csv --people people.csv --map my-map.yaml -o my-org

    The sample exports in examples/crm/ are what each importer reads.
    """
    if suggest:
        _echo_draft(suggest, suggest_people, ctx.obj.registry)
        ctx.exit(0)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@import_.command()
@click.argument("accounts", type=click.Path(dir_okay=False))
@click.option("--users", type=click.Path(dir_okay=False), help="User.csv: the people.")
@click.option("--team", type=click.Path(dir_okay=False),
              help="AccountTeamMember.csv: support staff per account.")
@click.option("--role-from", metavar="COLUMN", help="Column with the role (default: Title).")
@click.option("--role-map", type=click.Path(dir_okay=False), metavar="FILE",
              help="YAML mapping of title (or role) to kamcore role.")
@common_options
@click.pass_obj
def salesforce(kam: Any, accounts: str, users: str | None, team: str | None,
               role_from: str | None, role_map: str | None, **kwargs: Any) -> None:
    """Import a Salesforce Account export (Data Loader or report), or a Salesforce CLI data
    tree (`sf data export tree`: its JSON file, or the plan file of --plan).

    Ids may be 15 or 18 characters; they are matched across both forms. OwnerIds missing from
    --users become placeholder people.

    \b
    Examples:
      cd examples/crm/salesforce
      kam import salesforce Account.csv -o my-org
      kam import salesforce Account.csv --users User.csv --team AccountTeamMember.csv -o org2
      kam import salesforce tree/Account.json --users User.csv -o tree-org
      kam import salesforce Account.csv --tier-from Type --tier-map 'Customer - Direct=key' \\
          --country 'Phillippines=PH' --strict -o org3    # exit 1: the sample has problems
    """
    from kamcore.importers import import_salesforce

    _need_output(kwargs)
    result = import_salesforce(accounts, users=users, team=team, tier_from=kwargs["tier_from"],
                               tier_map=_pairs(kwargs["tier_map"], "tier-map"),
                               role_from=role_from, role_map=_role_map(role_map),
                               options=_options(kwargs), registry=kam.registry)
    _finish(result, kwargs)


@import_.command()
@click.argument("companies", type=click.Path(dir_okay=False))
@click.option("--owners", type=click.Path(dir_okay=False),
              help="The owners CSV (Owner ID, First Name, Last Name, Email).")
@click.option("--role-map", type=click.Path(dir_okay=False), metavar="FILE",
              help="YAML mapping of title to kamcore role.")
@common_options
@click.pass_obj
def hubspot(kam: Any, companies: str, owners: str | None, role_map: str | None,
            **kwargs: Any) -> None:
    """Import a HubSpot companies export (labels or property names as headers).

    \b
    Examples:
      cd examples/crm/hubspot
      kam import hubspot companies.csv -o my-org
      kam import hubspot companies.csv --owners owners.csv --country 'Phillippines=PH' -o org2
    """
    from kamcore.importers import import_hubspot

    _need_output(kwargs)
    result = import_hubspot(companies, owners=owners, tier_from=kwargs["tier_from"],
                            tier_map=_pairs(kwargs["tier_map"], "tier-map"),
                            role_map=_role_map(role_map), options=_options(kwargs),
                            registry=kam.registry)
    _finish(result, kwargs)


@import_.command(name="csv")
@click.argument("accounts", type=click.Path(dir_okay=False))
@click.option("--people", type=click.Path(dir_okay=False), help="The people CSV.")
@click.option("--map", "map_file", type=click.Path(dir_okay=False), metavar="MAP.yaml",
              help="Column mapping (draft one with --suggest-map).")
@click.option("--suggest-map", "suggest", is_flag=True,
              help="Print a mapping drafted from the headers and cells (guesses marked and "
                   "listed on stderr) and exit (no -o needed).")
@common_options
@click.pass_obj
def csv_(kam: Any, accounts: str, people: str | None, map_file: str | None, suggest: bool,
         **kwargs: Any) -> None:
    """Import any CSV export (Dynamics 365, Pipedrive, a spreadsheet) with a column map.

    Without --map, draft one with --suggest-map, check it, then pass it.

    \b
    Examples:
      cd examples/crm/generic
      kam import csv accounts.csv --people people.csv --suggest-map > my-map.yaml
      kam import csv accounts.csv --people people.csv --map my-map.yaml -o my-org
    """
    from kamcore.errors import WorkspaceError
    from kamcore.importers import import_csv
    from kamcore.importers.mapping import read_map, updated

    if suggest:
        _echo_draft(accounts, people, kam.registry)
        return
    if not map_file:
        raise WorkspaceError("kam import csv needs a column mapping (--map MAP.yaml)",
                             hint=f"draft one: kam import csv {accounts}"
                                  + (f" --people {people}" if people else "")
                                  + " --suggest-map > map.yaml")
    _need_output(kwargs)
    imap = read_map(map_file)
    update: dict[str, Any] = {}
    if kwargs["tier_from"]:
        update["tier"] = kwargs["tier_from"]
    if kwargs["tier_map"]:
        update["tier_values"] = {**imap.accounts.tier_values,
                                 **_pairs(kwargs["tier_map"], "tier-map")}
    if update:
        imap.accounts = updated(imap.accounts, "--tier-map", **update)
    result = import_csv(accounts, imap, people=people, options=_options(kwargs),
                        registry=kam.registry)
    _finish(result, kwargs)


@import_.command(name="facts")
@click.argument("org", type=click.Path(file_okay=False))
@click.argument("export", type=click.Path(dir_okay=False))
@click.option("--map", "map_file", type=click.Path(dir_okay=False), metavar="FACTS.yaml",
              help="Which columns are the account, date, value, currency, owner (docs/facts.md).")
@click.option("--preset", type=click.Choice(["salesforce", "dynamics"]),
              help="A Salesforce Opportunity or Dynamics opportunity export: won deals by "
                   "close date.")
@click.option("--period", "grain", type=click.Choice(["month", "quarter", "year"]),
              help="The period a date falls in (default: the map's, else quarter).")
@click.option("--metric", help="The metric the values feed (default: the map's, else revenue).")
@click.option("--source", metavar="NAME",
              help="Name of this source in the facts (default: the export's file name); "
                   "importing the same source again replaces its rows.")
@click.option("--parquet", is_flag=True,
              help="Start facts.parquet rather than facts.csv (an existing facts file keeps "
                   "its format).")
@click.option("--strict", is_flag=True,
              help="Treat every reported problem as an error; write nothing then.")
@click.option("--report", "report_format", type=click.Choice(["md", "json"]),
              default="md", show_default=True, help="Format of the import report.")
@click.pass_obj
def facts(kam: Any, org: str, export: str, map_file: str | None, preset: str | None,
          grain: str | None, metric: str | None, source: str | None, parquet: bool,
          strict: bool, report_format: str) -> None:
    """Add the deals of a CRM export to an org's facts (summed per account, period, metric
    and owner), with a report of rows left out.

    \b
    Examples:
      cd examples/crm/salesforce
      kam import salesforce Account.csv --users User.csv -o my-org
      kam import facts my-org Opportunity.csv --preset salesforce
      kam rollup my-org --by manager --credit owner -m revenue --period 2026
      kam import facts my-org Opportunity.csv --preset salesforce --strict   # exit 1 here
    """
    from kamcore.errors import WorkspaceError
    from kamcore.importers import refuse_problems
    from kamcore.importers.factmap import preset_fact_map, read_fact_map
    from kamcore.importers.facts import import_facts, write_facts_import
    from kamcore.importers.mapping import updated
    from kamcore.importers.rows import read_header

    if bool(map_file) == bool(preset):
        raise WorkspaceError("kam import facts needs one of --map FACTS.yaml or --preset",
                             hint="see docs/facts.md for a facts map")
    fmap = read_fact_map(map_file) if map_file else preset_fact_map(
        preset or "", read_header(export), export)
    changes: dict[str, Any] = {}
    if grain:
        changes["period"] = grain
    if metric:
        changes["metric"], changes["metric_column"] = metric, None
    if changes:
        fmap = updated(fmap, "--metric", **changes)
    result = import_facts(org, export, fmap, source=source, registry=kam.registry,
                          parquet=parquet)
    if strict:
        refuse_problems(result)
    path = write_facts_import(result, report_format=report_format)
    click.echo(result.report.summary(), err=True)
    click.echo(f"report: {path}", err=True)
    click.echo(f"next: kam rollup {org} -m {fmap.metric or 'revenue'} --by-period", err=True)


@import_.command(name="history")
@click.argument("org", type=click.Path(file_okay=False))
@click.option("--salesforce", "account_history", type=click.Path(dir_okay=False),
              metavar="AccountHistory.csv",
              help="A Salesforce AccountHistory export (AccountId, Field, OldValue, NewValue, "
                   "CreatedDate): ParentId and OwnerId changes.")
@click.option("--links", type=click.Path(dir_okay=False), metavar="LINKS.csv",
              help="Parent links with validity (KNVH style: KUNNR, HKUNNR, DATAB, DATBI; or "
                   "account, parent, valid_from, valid_to).")
@click.option("--skip-unknown", is_flag=True,
              help="Leave out rows about records the workspace does not hold (reported).")
@click.option("--dry-run", is_flag=True, help="Report what would be dated; write nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="How to show the report.")
@click.pass_obj
def history(kam: Any, org: str, account_history: str | None, links: str | None,
            skip_unknown: bool, dry_run: bool, fmt: str) -> None:
    """Seed ORG's history.csv from a CRM: when each parent and owner held.

    Rows go to the (account, field) pairs without history yet; pairs that have some are left
    as they are and listed. A date that does not parse, or an account the workspace does not
    hold, stops the import with its file and line (nothing written).

    \b
    Examples:
      cd examples/crm/salesforce
      kam import salesforce Account.csv --users User.csv -o my-org
      kam import history my-org --salesforce AccountHistory.csv --skip-unknown
    """
    from kamcore.changes.dated import seed_history
    from kamcore.cli.output import render_json
    from kamcore.errors import WorkspaceError
    from kamcore.importers.history import read_link_validity, read_salesforce_history
    from kamcore.wording import plural
    from kamcore.workspace import resolve_workspace

    if bool(account_history) == bool(links):
        raise WorkspaceError("kam import history needs one of --salesforce FILE or --links FILE",
                             hint="see docs/time.md, History from CRMs")
    folder = resolve_workspace(org)
    tables = kam.read(folder)
    read = read_salesforce_history if account_history else read_link_validity
    seeded = read(str(account_history or links), tables, skip_unknown=skip_unknown)
    kept, entry = seed_history(folder, seeded, write=not dry_run, registry=kam.registry)
    summary = seeded.summary() | {"kept": [f"{r} {f}" for r, f in kept],
                                  "entry": entry["id"] if entry else None}
    if fmt == "json":
        click.echo(render_json(summary))
        return
    fields = ", ".join(f"{n} {f}" for f, n in sorted(seeded.field_counts().items()))
    click.echo(f"Dated {plural(len(seeded.pairs) - len(kept), 'record field')} from "
               f"{seeded.source} ({fields or 'none'}); "
               f"{plural(sum(len(r) for r in seeded.pairs.values()), 'row')}.")
    for reason, count in sorted(seeded.ignored.items()):
        click.echo(f"  ignored: {plural(count, 'row')}: {reason}")
    for problem in seeded.skipped:
        click.echo(f"  skipped: {problem}")
    if kept:
        click.echo(f"  left as they were (history.csv has rows): {len(kept)}")
    if dry_run:
        click.echo("Dry run: nothing written.", err=True)
    elif entry:
        click.echo(f"Wrote history.csv; journal entry {entry['id']}.", err=True)


@import_.command(name="contacts")
@click.argument("org", type=click.Path(file_okay=False))
@click.argument("export", type=click.Path(dir_okay=False))
@click.option("--preset", type=click.Choice(["salesforce", "dynamics", "hubspot"]),
              required=True, help="The CRM the export comes from (its column names).")
@click.option("--roles", type=click.Path(dir_okay=False), metavar="FILE",
              help="Salesforce AccountContactRole.csv (AccountId, ContactId, Role, "
                   "IsPrimary): each contact's role and the accounts' primary contacts.")
@click.option("--strict", is_flag=True,
              help="Treat every reported problem as an error; write nothing then.")
@click.option("--report", "report_format", type=click.Choice(["md", "json"]),
              default="md", show_default=True, help="Format of the import report.")
@click.pass_obj
def contacts(kam: Any, org: str, export: str, preset: str, roles: str | None, strict: bool,
             report_format: str) -> None:
    """Write an org's contacts.csv from a CRM contact export, with a report: each contact
    matched to an account (by id, kept CRM id or name) and to an owner among the people.
    Contacts that match no account are listed in the report with file and line.

    \b
    Examples:
      cd examples/crm/salesforce
      kam import salesforce Account.csv --users User.csv -o my-org
      kam import contacts my-org Contact.csv --preset salesforce --roles AccountContactRole.csv
      cp -r ../../acme my-acme             import into a copy, not the bundled example
      kam import contacts my-acme ../dynamics/contacts.csv --preset dynamics --strict
      kam import hubspot ../hubspot/companies.csv --owners ../hubspot/owners.csv -o hs-org
      kam import contacts hs-org ../hubspot/contacts.csv --preset hubspot --report json
    """
    from kamcore.importers.contacts import import_contacts, write_contacts_import

    _write_onto(import_contacts(org, export, preset, roles=roles, registry=kam.registry),
                write_contacts_import, strict, report_format,
                f"kam validate {org}  (contact rules KAM160-KAM171)")


def _write_onto(result: Any, write: Callable[..., Path], strict: bool, report_format: str,
                next_step: str) -> None:
    """Refuse (``--strict``) or write an import into a workspace, then say what it did."""
    from kamcore.importers import refuse_problems

    if strict:
        refuse_problems(result)
    path = write(result, report_format=report_format)
    click.echo(result.report.summary(), err=True)
    click.echo(f"report: {path}", err=True)
    click.echo(f"next: {next_step}", err=True)


@import_.command(name="territories")
@click.argument("org", type=click.Path(file_okay=False))
@click.argument("export", type=click.Path(dir_okay=False))
@click.option("--preset", type=click.Choice(["dynamics", "salesforce"]), required=True,
              help="Dynamics territories (Territory Name, Manager, Parent) or Salesforce "
                   "Territory2 (Id, Name, DeveloperName, ParentTerritory2Id).")
@click.option("--associations", type=click.Path(dir_okay=False), metavar="FILE",
              help="Salesforce ObjectTerritory2Association.csv: sets each account's territory "
                   "column.")
@click.option("--strict", is_flag=True,
              help="Treat every reported problem as an error; write nothing then.")
@click.option("--report", "report_format", type=click.Choice(["md", "json"]),
              default="md", show_default=True, help="Format of the import report.")
@click.pass_obj
def territories(kam: Any, org: str, export: str, preset: str, associations: str | None,
                strict: bool, report_format: str) -> None:
    """Write an org's territories.csv from a CRM territory export, with a report; with
    Salesforce's associations, each account's territory column too.

    \b
    Examples:
      cd examples/crm/salesforce
      kam import salesforce Account.csv --users User.csv -o my-org
      kam import territories my-org Territory2.csv --preset salesforce \\
          --associations ObjectTerritory2Association.csv
      cp -r ../../acme my-acme             import into a copy, not the bundled example
      kam import territories my-acme ../dynamics/territories.csv --preset dynamics
    """
    from kamcore.importers.territories import import_territories, write_territories_import

    _write_onto(import_territories(org, export, preset, associations=associations,
                                   registry=kam.registry),
                write_territories_import, strict, report_format, f"kam territories {org}")

"""``kam duties``: the duty roster, per person, per account, with delegation to support staff."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kamcore.cli.options import as_of_option, format_option, output_option, workspace_argument

if TYPE_CHECKING:
    from kamcore.duties import Roster
    from kamcore.org import Org

CSV_COLUMNS = ("person", "person_name", "role", "account", "account_name", "tier", "industry",
               "duty", "title", "cadence", "who", "delegate", "delegate_name", "source", "due")
#: Problems shown on stderr before "... and N more".
SHOWN_PROBLEMS = 5
#: Accounts named in a person's heading before "and N more".
NAMED_ACCOUNTS = 5


@click.command()
@workspace_argument
@click.option("--person", "person_id", metavar="ID",
              help="Only this person's accounts (and duties delegated to them).")
@click.option("--account", "account_id", metavar="ID", help="Only this account.")
@format_option("table", "json", "csv")
@output_option
@as_of_option
@click.pass_obj
def duties(kam: object, org: str, person_id: str | None, account_id: str | None, fmt: str,
           output: str | None, as_of: str | None) -> None:
    """List, per person, the duties of every account they are accountable for.

    Duties come from the core (common to all account managers) and from the plugin of the
    account's industry, each with its cadence. A duty for a support specialty (billing, seo,
    coding, ...) is delegated to the nearest support person with that specialty reporting to
    the manager or up their chain; otherwise the manager does it.

    \b
    Examples:
      kam duties examples/acme --person KAM-ZENITH-GB
      kam duties examples/acme --account NOVA-US-CHI --format json
      kam duties examples/acme --format csv -o roster.csv
    """
    from kamcore.cli.context import KamContext
    from kamcore.cli.output import emit, render_csv, render_json
    from kamcore.duties import roster

    assert isinstance(kam, KamContext)
    loaded = kam.load(org, as_of)
    result = roster(loaded, kam.pm, person=person_id, account=account_id)
    _warn(result)
    if fmt == "json":
        emit(render_json(_as_json(loaded, result)), output)
    elif fmt == "csv":
        emit(render_csv([row.as_dict() for row in result.rows], CSV_COLUMNS), output)
    else:
        emit(_as_table(result), output)


def _warn(result: Roster) -> None:
    for problem in result.problems[:SHOWN_PROBLEMS]:
        click.secho(f"warning: {problem.message}", fg="yellow", err=True)
    if len(result.problems) > SHOWN_PROBLEMS:
        from kamcore.wording import plural

        more = plural(len(result.problems) - SHOWN_PROBLEMS, "more plugin problem")
        click.secho(f"warning: ... and {more} (--format json lists them all)", fg="yellow",
                    err=True)


def _as_json(org: Org, result: Roster) -> dict[str, object]:
    people: list[dict[str, object]] = []
    for person_id, rows in result.by_person().items():
        accounts: dict[str, dict[str, object]] = {}
        duties: dict[str, list[dict[str, object]]] = {}
        for row in rows:
            if row.account not in accounts:
                duties[row.account] = []
                accounts[row.account] = {
                    "id": row.account, "name": row.account_name, "tier": row.tier,
                    "industry": row.industry, "duties": duties[row.account]}
            duties[row.account].append({
                "id": row.duty, "title": row.title, "cadence": row.cadence, "who": row.who,
                "delegate": row.delegate, "delegate_name": row.delegate_name,
                "source": row.source, "due": row.due})
        first = rows[0]
        people.append({"id": person_id, "name": first.person_name, "role": first.role,
                       "accounts": list(accounts.values())})
    return {
        "org": org.settings.name,
        "people": people,
        "problems": [{"plugin": p.plugin, "hook": p.hook, "error": p.message}
                     for p in result.problems],
    }


def _as_table(result: Roster) -> str:
    """Per person, each duty once with the accounts it is for (``all 4`` when it is for every
    one of them): a duty shared by several accounts is not repeated per account."""
    from kamcore.cli.output import render_table
    from kamcore.models import Role
    from kamcore.wording import plural

    if not result.rows:
        return "No duties: no account matches."
    blocks: list[str] = []
    for person_id, rows in result.by_person().items():
        first = rows[0]
        accounts = list(dict.fromkeys(row.account for row in rows))
        if person_id is None:
            head = "(no accountable manager)"
        else:
            title = Role(first.role).title if first.role else "unknown person"
            head = f"{first.person_name or person_id} ({person_id}, {title})"
        dated = any(row.due for row in rows)
        groups: dict[tuple[object, ...], list[str]] = {}
        shown: dict[tuple[object, ...], dict[str, object]] = {}
        for row in rows:
            key = (row.duty, row.title, row.cadence, row.due, row.done_by, row.source)
            groups.setdefault(key, []).append(row.account)
            shown.setdefault(key, {
                "accounts": "", "duty": row.title, "cadence": row.cadence,
                **({"due": row.due or ""} if dated else {}),
                "done by": row.done_by, "source": row.source})
        for shared, line in shown.items():
            line["accounts"] = (f"all {len(accounts)}" if len(groups[shared]) == len(accounts) > 1
                                else ", ".join(groups[shared]))
        table = render_table(list(shown.values()))
        kinds = f" ({len(shown)} different)" if len(shown) < len(rows) else ""
        named = ", ".join(accounts[:NAMED_ACCOUNTS]) + (
            f" and {len(accounts) - NAMED_ACCOUNTS} more" if len(accounts) > NAMED_ACCOUNTS
            else "")
        blocks.append(f"{head}: {plural(len(accounts), 'account')} ({named}), "
                      f"{plural(len(rows), 'duty')}{kinds}\n{table}")
    return "\n\n".join(blocks)

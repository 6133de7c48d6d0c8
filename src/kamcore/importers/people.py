"""People from a CRM's user table: roles from titles, managers by id or name, placeholders.

A CRM knows job titles, not kamcore roles. Titles are matched against a short list of patterns
("Global Account Manager" -> gam, "Billing Specialist" -> support/billing); the user's own value
map (``--role-map`` or ``role_values:``) wins, and every title that matched nothing is reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kamcore.importers.mapping import PersonMap, TeamMap
from kamcore.importers.report import ImportReport
from kamcore.importers.rows import (
    ID_OK,
    Row,
    Rows,
    break_loops,
    check_columns,
    make_id,
    read_rows,
)
from kamcore.models import Role, Tier
from kamcore.wording import plural

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.importers.accounts import AccountRows

#: Title patterns, checked in order: seniority first, then the account roles, then support.
ROLE_PATTERNS: tuple[tuple[re.Pattern[str], str, str | None], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), role, specialty) for pattern, role, specialty in (
        (r"\b(vp|svp|evp|vice[- ]president|chief \w+ officer|cro|cso)\b", "vp", None),
        (r"\bdirector\b", "director", None),
        (r"\b(global account|gam)\b", "gam", None),
        (r"\b(national account|nam)\b", "nam", None),
        (r"\b(key account|strategic account|major account|kam)\b", "kam", None),
        (r"\b(billing|invoic\w*|accounts receivable|collections?)\b", "support", "billing"),
        (r"\b(customer service|customer support|customer care|service desk|help ?desk)\b",
         "support", "customer-service"),
        (r"\b(logistics?|shipping|supply chain|fulfil?ment)\b", "support", "logistics"),
        (r"\b(account manager|account executive|account rep\w*|sales rep\w*|sales manager|"
         r"customer success manager|am)\b", "am", None),
        (r"\b(specialist|analyst|coordinator|assistant|engineer|consultant|support)\b",
         "support", None),
    ))

TIER_ROLE = {Tier.GLOBAL: Role.GAM, Tier.NATIONAL: Role.NAM, Tier.KEY: Role.KAM,
             Tier.REGULAR: Role.AM}


def guess_role(title: str, values: Mapping[str, str]) -> tuple[str, str | None, bool]:
    """Role and specialty for a title: ``(role, specialty, matched)``.

    >>> guess_role("Senior Key Account Manager", {})
    ('kam', None, True)
    >>> guess_role("Billing Specialist", {})
    ('support', 'billing', True)
    >>> guess_role("Wizard", {"wizard": "support:magic"})
    ('support', 'magic', True)
    """
    text = title.strip()
    mapped = values.get(text.lower())
    if mapped is not None:
        role, _, mapped_specialty = mapped.partition(":")
        return role, mapped_specialty or None, True
    if text.lower() in {r.value for r in Role}:
        return text.lower(), None, True
    for pattern, role, specialty in ROLE_PATTERNS:
        if pattern.search(text):
            return role, specialty, True
    return Role.AM.value, None, False


def read_people(path: str, pmap: PersonMap, report: ImportReport,
                id_key: Callable[[str], str],
                check: Callable[[list[str], dict[str, str], str], None]) -> tuple[
                    Rows, dict[str, dict[str, Any]], list[str]]:
    """Usable people rows, each one's record data (without ``extra``), and the header."""
    table, _decimal = read_rows(path, report, "people")
    cols = pmap.columns()
    check(table.header, cols, path)
    people = Rows(file=path, id_key=id_key)
    taken: set[str] = set()
    data: dict[str, dict[str, Any]] = {}
    guessed: dict[str, tuple[str, str | None, bool]] = {}  # by title: a few titles, many people
    for line, values in table.rows:
        cells = dict(zip(table.header, values, strict=True))
        name = cells.get(pmap.name, "").strip() if pmap.name else ""
        if not name and (pmap.first_name or pmap.last_name):
            name = " ".join(cells.get(c, "").strip() for c in (pmap.first_name, pmap.last_name)
                            if c).strip()
        if pmap.id:
            pid = cells[pmap.id].strip()
            if not pid:
                report.problem("unusable", "person without an id; skipped", file=path,
                               line=line, hint="every user needs an id")
                continue
            try:
                key = id_key(pid)
            except ValueError as exc:
                report.problem("unusable", f"{pid!r} is not a valid id: {exc}; skipped",
                               file=path, line=line)
                continue
        elif name:
            pid = key = make_id(name, taken, "P", line)
        else:
            report.problem("unusable", "person without a name; skipped", file=path, line=line)
            continue
        if key in people.by_key:
            first = people.by_key[key]
            report.problem("unusable", f"id {pid!r} is already used on line {first.line}; "
                           "skipped", file=path, line=line, record=pid)
            continue
        row = Row(line, pid, key, name or pid, cells)
        row.up_raw = cells.get(pmap.reports_to, "").strip() if pmap.reports_to else ""
        people.add(row)
        title = cells.get(pmap.role, "") if pmap.role else ""
        found = guessed.get(title)
        if found is None:
            found = guessed[title] = guess_role(title, pmap.role_values)
        role, specialty, matched = found
        if pmap.role and title.strip().lower() != role:
            report.roles.append((pid, title.strip(), role + (f" ({specialty})" if specialty
                                                             else "")))
        if not matched and pmap.role:
            report.problem("role", f"title {title.strip()!r} matches no role; imported as am",
                           file=path, line=line, record=pid,
                           hint="map it with --role-map (title: role) or role_values:")
        record: dict[str, Any] = {"id": pid, "name": name or pid, "role": role}
        if specialty or (pmap.specialty and cells.get(pmap.specialty, "").strip()):
            record["specialty"] = (cells.get(pmap.specialty, "").strip() if pmap.specialty
                                   else "") or specialty
        if pmap.email:
            email = cells.get(pmap.email, "").strip()
            if email and re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
                record["email"] = email
            elif email:
                report.problem("value", f"{email!r} is not an email address; left empty",
                               file=path, line=line, record=pid)
        if pmap.active:
            active = _active(cells.get(pmap.active, ""), pmap.active)
            if active is None:
                report.problem("value", f"{pmap.active} {cells[pmap.active]!r} is not "
                               "true/false; taken as active", file=path, line=line, record=pid)
            else:
                record["active"] = active
        if pmap.capacity and cells.get(pmap.capacity, "").strip():
            try:
                record["capacity"] = int(float(cells[pmap.capacity]))
            except ValueError:
                report.problem("value", f"capacity {cells[pmap.capacity]!r} is not a number",
                               file=path, line=line, record=pid)
        data[pid] = record
    if not pmap.role and people.rows:
        report.problem("role", f"no role column is mapped: all {len(people.rows)} people "
                       "are imported as am", file=path,
                       hint="map role: COLUMN (job titles are read as roles), or set the "
                       "role column of people.csv after the import")
    missing: dict[str, list[Row]] = {}
    for row in list(people.rows):
        if not row.up_raw:
            continue
        target, why = people.resolve(row.up_raw, pmap.reports_to_by)
        if target is None and why is not None and "records have this name" in why:
            report.problem("manager", f"manager {row.up_raw!r} is ambiguous ({why}); "
                           "imported without one", file=path, line=row.line, record=row.id,
                           hint="write the manager's id instead of the name")
        elif target is None:
            missing.setdefault(row.up_raw, []).append(row)
        else:
            row.up = target.id
    _placeholder_managers(missing, pmap.reports_to_by, people, data, report, id_key)
    by_id = {r.id: r for r in people.rows}
    for loop, cut in break_loops(people.rows, by_id):
        report.problem("loop", "management loop " + " -> ".join([*loop, loop[0]])
                       + f"; {cut} now reports to nobody", file=path, line=by_id[cut].line,
                       record=cut)
    for row in people.rows:
        if row.up is not None:
            data[row.id]["reports_to"] = row.up
    return people, data, list(table.header)


#: The role a placeholder manager gets: one that may lead their highest-ranking report.
_MANAGER_OF = {"vp": "vp", "director": "vp"}


def _placeholder_managers(missing: dict[str, list[Row]], mode: str, people: Rows,
                          data: dict[str, dict[str, Any]], report: ImportReport,
                          id_key: Callable[[str], str]) -> None:
    """Managers the people file names without a row of their own (a sales-team sheet of
    agent, manager, office) become placeholder people, as owners do: their reports keep
    their line of command, and the report lists each placeholder once."""
    for text, reports in missing.items():
        pid = _placeholder_id(text, mode, id_key, {}, people)
        roles = {data[r.id]["role"] for r in reports}
        role = next((_MANAGER_OF[r] for r in ("director", "vp") if r in roles), "director")
        data[pid] = {"id": pid, "name": text, "role": role}
        people.add(Row(0, pid, id_key(pid), text, {}))
        for row in reports:
            row.up = pid
        lines = ", ".join(str(r.line) for r in reports[:5]) + (
            f" and {len(reports) - 5} more" if len(reports) > 5 else "")
        report.placeholders.append((pid, f"manager of {plural(len(reports), 'person')} in the "
                                    f"people file (lines {lines}) without a row of their own; role "
                                    f"{role} (add their row to give their details)"))


def _active(text: str, column: str) -> bool | None:
    value = text.strip().lower()
    if not value:
        return True
    truthy = value in {"true", "1", "yes", "y", "active"}
    falsy = value in {"false", "0", "no", "n", "inactive", "disabled", "archived"}
    if not (truthy or falsy):
        return None
    # HubSpot's "Archived?" and Dynamics' "isdisabled" say the opposite of "active".
    inverted = column.strip().lower() in {"archived?", "archived", "isdisabled", "disabled"}
    return falsy if inverted else truthy


def assign_owners(owners: pa.Array, lines: np.ndarray, tiers: np.ndarray, mode: str,
                  people: Rows, people_data: dict[str, dict[str, Any]], report: ImportReport,
                  id_key: Callable[[str], str], *, has_people_file: bool,
                  id_key_column: Callable[[pa.Array], pa.Array] | None = None) -> pa.Array:
    """Each account's manager from its owner cell; owners missing from the people file
    become placeholder people with the role that fits the highest tier they own.

    Each distinct owner cell is looked up once, in the order the cells first appear.

    :param owners: each account's owner cell, stripped (null or empty: none).
    :param lines: each account's line; ``tiers``: each one's tier rank.
    :param id_key_column: ``id_key`` of a column (null where it raises), to look the owners
        up by id all at once; the ones not found are resolved one by one.
    :returns: each account's manager id (null: none).
    """
    import numpy as np
    import pyarrow as pa

    from kamcore.importers.tiers import TIERS

    encoded = owners.dictionary_encode()
    texts = encoded.dictionary.to_pylist()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    given = codes >= 0
    highest = np.full(len(texts), len(TIERS), dtype=np.int64)
    np.minimum.at(highest, codes[given], np.asarray(tiers, dtype=np.int64)[given])
    # each owner's first row: the codes count up in the order the cells first appear
    rows = np.flatnonzero(given)
    seen = codes[rows]
    new = np.ones(len(rows), dtype=bool)
    new[1:] = seen[1:] > np.maximum.accumulate(seen)[:-1]
    firsts = rows[new]
    counts = np.bincount(codes[given], minlength=len(texts))
    placeholders: dict[str, dict[str, Any]] = {}
    managers: list[str | None] = []
    keys: list[str | None] = [None] * len(texts)
    if id_key_column is not None and mode in ("id", "auto"):
        keys = id_key_column(encoded.dictionary).to_pylist()
    for code, text in enumerate(texts):
        if not text:
            managers.append(None)
            continue
        key = keys[code]
        target = people.by_key.get(key) if key is not None else None
        if target is None:
            target = people.resolve(text, mode)[0]
        if target is not None:
            managers.append(target.id)
            continue
        pid = _placeholder_id(text, mode, id_key, placeholders, people)
        tier = TIERS[int(highest[code])]
        holder = placeholders.setdefault(pid, {"id": pid, "name": text, "role": TIER_ROLE[tier],
                                               "_tier": tier, "_line": int(lines[firsts[code]]),
                                               "_count": 0})
        holder["_count"] += int(counts[code])
        if tier.rank < holder["_tier"].rank:
            holder["_tier"], holder["role"] = tier, TIER_ROLE[tier]
        managers.append(pid)
    for pid, holder in placeholders.items():
        first, count = holder.pop("_line"), holder.pop("_count")
        owned = (f"owner of the account on line {first}" if count == 1 else
                 f"owner of {plural(count, 'account')}, the first on line {first}")
        why = (f"{owned}, not in the people file" if has_people_file else
               f"{owned} (no people file given)")
        report.placeholders.append((pid, f"{why}; role {holder['role'].value} from the highest "
                                    f"tier owned ({holder.pop('_tier').value})"))
        people_data[pid] = holder
    return pa.array(managers, pa.string()).take(encoded.indices)


def _placeholder_id(text: str, mode: str, id_key: Callable[[str], str],
                    existing: dict[str, dict[str, Any]], people: Rows) -> str:
    """Owners missing from the people file become people: by id when the cell is an id."""
    if mode != "name" and ID_OK.match(text):
        try:
            id_key(text)
        except ValueError:
            pass
        else:
            if " " not in text:
                return text
    for pid, holder in existing.items():
        if holder["name"] == text:
            return pid
    taken = set(existing) | {r.id for r in people.rows}
    return make_id(text, taken, "P", 0)


def add_team(path: str, tmap: TeamMap, report: ImportReport, accounts: AccountRows,
             people: Rows, people_data: dict[str, dict[str, Any]],
             managers: pa.Array) -> None:
    """Account team members serve under the account's manager: support staff and account
    managers without a manager of their own are put under them (the accountable manager
    supervises the account's team); members missing from the people file become people."""

    table, _decimal = read_rows(path, report, "team")
    wanted = {"account": tmap.account, "person": tmap.person}
    if tmap.role:
        wanted["role"] = tmap.role
    check_columns(table.header, wanted, path)
    for line, values in table.rows:
        cells = dict(zip(table.header, values, strict=True))
        account, _ = accounts.resolve(cells[tmap.account].strip(), "id")
        if account is None:
            report.problem("team", f"account {cells[tmap.account]!r} not found; team row "
                           "skipped", file=path, line=line)
            continue
        manager = managers[account].as_py()
        person_text = cells[tmap.person].strip()
        if not person_text:
            report.problem("team", "team row without a user; skipped", file=path, line=line)
            continue
        person, _ = people.resolve(person_text, "id")
        team_role = cells.get(tmap.role, "") if tmap.role else ""
        pid = person.id if person is not None else person_text
        record = people_data.get(pid)
        if record is None:
            role, specialty, matched = guess_role(team_role, {})
            if not matched:  # "Executive Sponsor", "Pre-Sales": someone who supports it
                role, specialty = "support", re.sub(r"[^a-z0-9]+", "-",
                                                   team_role.lower()).strip("-") or None
            record = people_data[pid] = {"id": pid, "name": pid, "role": role}
            if specialty:
                record["specialty"] = specialty
            on = accounts.id_column[account].as_py()
            report.placeholders.append((pid, f"account team member ({team_role or 'no role'}) "
                                        f"on {on}, not in the people file"))
        if record.get("role") in ("support", "am") and not record.get("reports_to") and (
                manager and manager != pid):
            record["reports_to"] = manager

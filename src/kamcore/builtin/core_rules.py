"""The core validation rules (KAM1xx), registered as a plugin like any other.

Each rule is a plain function ``check(org) -> Iterator[Violation]``; the table at the bottom gives
each its stable code, name, default severity and one-line summary (``kam validate --list-rules``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from kamcore.hookspecs import hookimpl
from kamcore.models import ROLES_FOR_TIER, Role, Tier
from kamcore.org import Org
from kamcore.registry import Violation


def duplicate_ids(org: Org) -> Iterator[Violation]:
    for dup in org.duplicates:
        first = org.location(dup.kind, dup.record.id)
        where = f" (first at {first})" if first else ""
        yield Violation(dup.record.id, f"{dup.kind} id {dup.record.id!r} is used again{where}",
                        "give every record its own id; merge or rename the duplicate",
                        column="id", location=dup.location)


def unknown_parents(org: Org) -> Iterator[Violation]:
    for account in org.accounts.values():
        if account.parent is not None and account.parent not in org.accounts:
            yield Violation(account.id, f"parent {account.parent!r} is not an account here",
                            _close_hint(account.parent, org.accounts,
                                        "fix the parent id or leave it empty for a root"),
                            column="parent")


def account_cycles(org: Org) -> Iterator[Violation]:
    parents = {a.id: a.parent for a in org.accounts.values()}
    for cycle in _parent_cycles(parents):
        yield Violation(cycle[0], "accounts form a loop: " + " -> ".join([*cycle, cycle[0]]),
                        "one of these accounts must get another parent (or none)",
                        column="parent")


def people_cycles(org: Org) -> Iterator[Violation]:
    bosses = {p.id: p.reports_to for p in org.people.values()}
    for cycle in _parent_cycles(bosses):
        yield Violation(cycle[0], "people report to each other in a loop: "
                        + " -> ".join([*cycle, cycle[0]]),
                        "one of them must report to someone outside the loop (or nobody)",
                        column="reports_to")


def _parent_cycles(parents: dict[str, str | None]) -> Iterator[list[str]]:
    """Each loop of parent pointers once, starting at its smallest id."""
    state: dict[str, int] = {}
    for start in parents:
        if start in state:
            continue
        path: list[str] = []
        node: str | None = start
        while node is not None and node in parents and node not in state:
            state[node] = 1
            path.append(node)
            node = parents[node]
        if node is not None and state.get(node) == 1:
            cycle = path[path.index(node):]
            first = cycle.index(min(cycle))
            yield cycle[first:] + cycle[:first]
        for visited in path:
            state[visited] = 2


def tier_order(org: Org) -> Iterator[Violation]:
    for account in org.accounts.values():
        parent = org.accounts.get(account.parent or "")
        if parent is None:
            continue
        nests = account.tier == parent.tier == Tier.REGULAR
        if account.tier.rank <= parent.tier.rank and not nests:
            yield Violation(account.id, f"a {account.tier} account sits under {parent.tier} "
                            f"account {parent.id!r}; tiers descend global > national > key > "
                            "regular", "move it higher up, or correct one of the two tiers",
                            column="tier")


def missing_managers(org: Org) -> Iterator[Violation]:
    for account in org.accounts.values():
        if account.manager is None and account.tier != Tier.REGULAR:
            yield Violation(account.id, f"{account.tier} account has no accountable manager",
                            f"assign one: kam assign ORG {account.id} --manager PERSON",
                            column="manager")


def unknown_managers(org: Org) -> Iterator[Violation]:
    for account in org.accounts.values():
        if account.manager is not None and account.manager not in org.people:
            yield Violation(account.id, f"manager {account.manager!r} is not in people.csv",
                            _close_hint(account.manager, org.people,
                                        "add the person to people.csv or fix the id"),
                            column="manager")


def role_fits_tier(org: Org) -> Iterator[Violation]:
    for account in org.accounts.values():
        person = org.people.get(account.manager or "")
        if person is None or person.role == Role.SUPPORT:
            continue
        allowed = ROLES_FOR_TIER[account.tier]
        if person.role not in allowed:
            names = ", ".join(sorted(r.value.upper() for r in allowed))
            role = person.role.value.upper()
            article = "an" if role[0] in "AEIOU" else "a"
            yield Violation(account.id, f"{account.tier} account is managed by {person.id!r}, "
                            f"{article} {role}; it needs one of {names}",
                            "assign a manager of a fitting role, or change the tier",
                            column="manager")


def _tier_ancestors(org: Org) -> dict[str, tuple[str | None, str | None]]:
    """For every account: its nearest national and global ancestor-or-self, in one pass.

    Walking each national's subtree separately is quadratic in the worst case; one top-down
    pass over the tree is linear. Accounts caught in loops are left out (KAM103 reports them).
    """
    cache: dict[str, tuple[str | None, str | None]] = org.__dict__.get("_tier_ancestors", {})
    if cache:
        return cache
    accounts = org.accounts
    national_tier, global_tier = Tier.NATIONAL, Tier.GLOBAL
    for start in accounts:
        if start in cache:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node in accounts and node not in cache:
            if node in on_path:
                break  # a loop: KAM103 reports it; leave these accounts out
            on_path.add(node)
            path.append(node)
            node = accounts[node].parent
        else:
            national, top = cache.get(node, (None, None)) if node is not None else (None, None)
            for account_id in reversed(path):
                tier = accounts[account_id].tier
                if tier == national_tier:
                    national = account_id
                elif tier == global_tier:
                    top = account_id
                cache[account_id] = (national, top)
    org.__dict__["_tier_ancestors"] = cache
    return cache


def national_one_country(org: Org) -> Iterator[Violation]:
    for account in org.accounts.values():
        if account.tier == Tier.NATIONAL and account.country is None:
            yield Violation(account.id, "national account has no country",
                            "set its ISO country code", column="country")
    for account_id, (national, _) in _tier_ancestors(org).items():
        if national is None or national == account_id:
            continue
        country = org.accounts[account_id].country
        home = org.accounts[national].country
        if country is not None and home is not None and country != home:
            yield Violation(account_id, f"account is in {country} but sits under national "
                            f"account {national!r} ({home})",
                            "move it under the national account of its own country",
                            column="country")


def global_spans_countries(org: Org) -> Iterator[Violation]:
    countries: dict[str, set[str]] = {}
    for account_id, (_, top) in _tier_ancestors(org).items():
        country = org.accounts[account_id].country
        if top is not None and country is not None:
            countries.setdefault(top, set()).add(country)
    for account in org.accounts.values():
        if account.tier != Tier.GLOBAL:
            continue
        seen = countries.get(account.id, set())
        if len(seen) < 2:
            only = f" (only {next(iter(seen))})" if seen else ""
            yield Violation(account.id, f"global account spans {len(seen)} "
                            f"countr{'y' if len(seen) == 1 else 'ies'}{only}; a global "
                            "account spans at least two", "make it a national account, or add "
                            "its accounts in other countries")


def nam_reports_to_gam(org: Org) -> Iterator[Violation]:
    for account in org.accounts.values():
        if account.tier != Tier.NATIONAL or account.manager not in org.people:
            continue
        nam = org.people[account.manager or ""]
        if nam.role != Role.NAM:
            continue
        top_id = _tier_ancestors(org).get(account.id, (None, None))[1]
        top = org.accounts.get(top_id) if top_id else None
        if top is None or top.manager not in org.people or top.manager == nam.id:
            continue
        if top.manager not in org.chain_of_command(nam.id):
            yield Violation(account.id, f"NAM {nam.id!r} of this national account does not "
                            f"report to {top.manager!r}, the GAM of global account {top.id!r}",
                            f"set reports_to of {nam.id!r} to {top.manager!r} (or someone below)",
                            column="manager")


def over_capacity(org: Org) -> Iterator[Violation]:
    load = Counter(a.manager for a in org.accounts.values() if a.manager is not None)
    for person in org.people.values():
        if person.capacity is not None and load[person.id] > person.capacity:
            yield Violation(person.id, f"carries {load[person.id]} accounts, over a capacity of "
                            f"{person.capacity}", f"hand some over: kam handover ORG --from "
                            f"{person.id} --spread", column="capacity")


def support_not_accountable(org: Org) -> Iterator[Violation]:
    for account in org.accounts.values():
        person = org.people.get(account.manager or "")
        if person is not None and person.role == Role.SUPPORT:
            yield Violation(account.id, f"support staff {person.id!r} cannot be the accountable "
                            "manager", "assign an account manager; support staff are supervised "
                            "by one", column="manager")


def departed_own_nothing(org: Org) -> Iterator[Violation]:
    for account in org.accounts.values():
        person = org.people.get(account.manager or "")
        if person is not None and not person.active:
            yield Violation(account.id, f"manager {person.id!r} is inactive (departed)",
                            f"hand the book over: kam handover ORG --from {person.id} --spread",
                            column="manager")


def unknown_reports_to(org: Org) -> Iterator[Violation]:
    for person in org.people.values():
        if person.reports_to is not None and person.reports_to not in org.people:
            yield Violation(person.id, f"reports_to {person.reports_to!r} is not in people.csv",
                            _close_hint(person.reports_to, org.people,
                                        "fix the id, or leave it empty at the top"),
                            column="reports_to")


def unknown_plugin_columns(org: Org) -> Iterator[Violation]:
    known = set(org.registry.fields) if org.registry is not None else set()
    first: dict[str, tuple[str, str]] = {}
    for kind, records in (("account", org.accounts), ("person", org.people)):
        for record in records.values():
            for namespace, values in record.ext.items():
                if namespace not in known and namespace not in first:
                    first[namespace] = (kind, record.id)
                    column = f"{namespace}.{next(iter(values))}"
                    yield Violation(record.id, f"columns '{namespace}.*' belong to plugin "
                                    f"{namespace!r}, which is not installed; they are kept as "
                                    "they are", f"pip install kamcore-{namespace.replace('_', '-')}"
                                    " (or ignore: nothing is dropped on save)", column=column)


def plugin_fields_valid(org: Org) -> Iterator[Violation]:
    from pydantic import ValidationError

    if org.registry is None:
        return
    for namespace, fieldset in org.registry.fields.items():
        for records, model in ((org.accounts, fieldset.account), (org.people, fieldset.person)):
            if model is None:
                continue
            for record in records.values():
                values = record.ext.get(namespace)
                if values is None:
                    continue
                try:
                    model.model_validate(values)
                except ValidationError as exc:
                    for err in exc.errors():
                        field = str(err["loc"][0]) if err["loc"] else "?"
                        msg = str(err["msg"]).removeprefix("Value error, ")
                        yield Violation(record.id, f"{namespace}.{field}: {msg} (plugin "
                                        f"{fieldset.plugin!r})", f"see the {namespace} plugin's "
                                        "docs for this field", column=f"{namespace}.{field}")
                except Exception as exc:  # a buggy model must not stop other plugins' checks
                    yield Violation(record.id, f"the field model of plugin {fieldset.plugin!r} "
                                    f"failed on '{namespace}.*': {type(exc).__name__}: {exc}",
                                    "report it to the plugin's authors", column=namespace)


def _close_hint(wanted: str, known: Iterable[str], default: str) -> str:
    import difflib

    close = difflib.get_close_matches(wanted, list(known), n=1)
    return f"did you mean {close[0]!r}?" if close else default


#: code, name, check, severity, summary. Codes are stable and never reused.
CORE_RULES: tuple[tuple[str, str, Callable[[Org], Iterator[Violation]], str, str], ...] = (
    ("KAM101", "duplicate-id", duplicate_ids, "error", "Every account and person id is unique."),
    ("KAM102", "unknown-parent", unknown_parents, "error", "An account's parent exists."),
    ("KAM103", "account-cycle", account_cycles, "error", "The account tree has no loops."),
    ("KAM104", "tier-order", tier_order, "error",
     "Tiers descend: global > national > key > regular (regular may nest)."),
    ("KAM105", "missing-manager", missing_managers, "error",
     "Every account above regular has an accountable manager."),
    ("KAM106", "unknown-manager", unknown_managers, "error", "An account's manager exists."),
    ("KAM107", "role-fits-tier", role_fits_tier, "error",
     "Global -> GAM; national -> NAM or above; key -> KAM or above."),
    ("KAM108", "national-one-country", national_one_country, "error",
     "A national account and everything below it stay in one country."),
    ("KAM109", "global-spans-countries", global_spans_countries, "warning",
     "A global account spans at least two countries."),
    ("KAM110", "nam-reports-to-gam", nam_reports_to_gam, "warning",
     "A NAM inside a global account reports (transitively) to its GAM."),
    ("KAM111", "over-capacity", over_capacity, "warning",
     "Nobody carries more accounts than their capacity."),
    ("KAM112", "support-not-accountable", support_not_accountable, "error",
     "Support staff are never the accountable manager."),
    ("KAM113", "departed-own-nothing", departed_own_nothing, "error",
     "Inactive (departed) people own no accounts."),
    ("KAM121", "unknown-reports-to", unknown_reports_to, "error",
     "A person's reports_to exists."),
    ("KAM122", "people-cycle", people_cycles, "error", "The management tree has no loops."),
    ("KAM130", "unknown-plugin-columns", unknown_plugin_columns, "warning",
     "Namespaced columns belong to an installed plugin (they are kept either way)."),
    ("KAM140", "plugin-field-invalid", plugin_fields_valid, "error",
     "Plugin fields fit the plugin's model."),
)


@hookimpl
def kam_register_rules(register: Callable[..., None]) -> None:
    for code, name, check, severity, summary in CORE_RULES:
        register(code, name, check, severity=severity, summary=summary)

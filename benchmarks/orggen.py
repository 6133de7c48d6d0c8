"""Synthetic workspaces of any size with a realistic shape, valid under every core rule.

A few global accounts, national accounts in several countries, key accounts below them and
regular accounts (which nest) at the bottom; managers of fitting roles with enough capacity.
"""

from __future__ import annotations

import random
from pathlib import Path

COUNTRIES = [("DE", "EUR"), ("US", "USD"), ("FR", "EUR"), ("GB", "GBP"), ("JP", "JPY"),
             ("BR", "BRL"), ("IT", "EUR"), ("ES", "EUR"), ("CA", "CAD"), ("NL", "EUR")]
INDUSTRIES = ["manufacturing", "healthcare", "retail", "advertising"]


def generate(folder: Path, n_accounts: int, *, seed: int = 1, metrics: int = 3) -> Path:
    """Write kam.yaml, accounts.csv and people.csv for an org of about ``n_accounts``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    metric_names = ["revenue", "orders", "receivables", "m4", "m5", "m6", "m7"][:metrics]
    extra_metrics = {m: {"aggregation": "sum"} for m in metric_names[3:]}
    (folder / "kam.yaml").write_text(
        "name: Synthetic org\ncurrency: EUR\nmetrics: "
        + (str(extra_metrics).replace("'", "") if extra_metrics else "{}") + "\n")
    people: list[str] = ["VP,VP of AM,vp,,,,true"]
    rows: list[str] = []
    n_globals = max(1, n_accounts // 20000)
    made = 0
    person_id = 0

    def new_person(role: str, boss: str, capacity: int) -> str:
        nonlocal person_id
        person_id += 1
        pid = f"P{person_id}"
        people.append(f"{pid},Person {person_id},{role},{boss},{capacity},,true")
        return pid

    def account(aid: str, tier: str, parent: str, manager: str, country: tuple[str, str],
                industry: str) -> None:
        nonlocal made
        made += 1
        values = [str(rng.randint(0, 100000)) for _ in metric_names]
        rows.append(",".join([aid, f"Account {aid}", tier, parent, manager, country[0],
                              industry, country[1], *values]))

    per_global = max(4, n_accounts // n_globals)
    for g in range(n_globals):
        gam = new_person("gam", "VP", 10**9)
        gid = f"G{g}"
        industry = INDUSTRIES[g % len(INDUSTRIES)]
        account(gid, "global", "", gam, COUNTRIES[0], industry)
        budget = per_global - 1
        nationals = COUNTRIES[: max(2, min(len(COUNTRIES), budget // 2000 + 2))]
        for c_index, country in enumerate(nationals):
            nam = new_person("nam", gam, 10**9)
            nid = f"{gid}-N{c_index}"
            account(nid, "national", gid, nam, country, industry)
            share = budget // len(nationals) - 1
            keys = max(1, share // 50)
            kam = new_person("kam", nam, 10**9)
            am = new_person("am", kam, 10**9)
            regulars = max(0, share - keys)
            for k in range(keys):
                kid = f"{nid}-K{k}"
                account(kid, "key", nid, kam, country, industry)
                below = regulars // keys
                parent_pool = [kid]
                for r in range(below):
                    rid = f"{kid}-R{r}"
                    parent = rng.choice(parent_pool) if r % 3 else kid
                    account(rid, "regular", parent, am, country, industry)
                    if len(parent_pool) < 8:
                        parent_pool.append(rid)
    header = "id,name,tier,parent,manager,country,industry,currency," + ",".join(metric_names)
    (folder / "accounts.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    (folder / "people.csv").write_text(
        "id,name,role,reports_to,capacity,email,active\n" + "\n".join(people) + "\n")
    return folder

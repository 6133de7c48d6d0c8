"""HubSpot company exports (and optionally the owners list), with HubSpot's own headers.

HubSpot writes labels ("Record ID", "Company name", "Parent Company", "Company owner",
"Annual Revenue", "Country/Region", "Industry") or, through the API, property names
(``hs_object_id``, ``hs_parent_company_id``, ``hubspot_owner_id``). Parents and owners may be
ids or names; both are tried (ids first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from kamcore.errors import Location, WorkspaceError
from kamcore.importers.engine import ImportOptions, ImportResult, build_org
from kamcore.importers.mapping import preset_account_map, preset_person_map, updated
from kamcore.importers.rows import check_columns, read_header

if TYPE_CHECKING:
    from kamcore.registry import Registry


def import_hubspot(companies: str, *, owners: str | None = None, tier_from: str | None = None,
                   tier_map: Mapping[str, str] | None = None,
                   role_map: Mapping[str, str] | None = None,
                   options: ImportOptions | None = None,
                   registry: Registry | None = None) -> ImportResult:
    """Build an org from a HubSpot companies export.

    :param companies: the companies CSV.
    :param owners: the owners CSV (Owner ID / First Name / Last Name / Email / Title).
    :param tier_from: column holding the tier, read through ``tier_map``.
    :returns: the org, the report and the CRM layout; nothing is written.
    """
    opts = replace(options or ImportOptions(), source="hubspot")
    header = read_header(companies)
    amap = preset_account_map(header)
    if not amap.id and not amap.name:
        raise WorkspaceError(f"{companies} has neither 'Record ID' nor 'Company name', so it "
                             "is not a HubSpot companies export",
                             location=Location(companies, 1),
                             hint="export companies from HubSpot, or use `kam import csv --map`")
    if tier_from:
        check_columns(header, {"tier": tier_from}, companies)
        amap = amap.model_copy(update={"tier": tier_from})
    if tier_map:
        amap = updated(amap, "--tier-map", tier_values=dict(tier_map))
    pmap = None
    if owners:
        pmap = preset_person_map(read_header(owners))
        pmap = updated(pmap, "--role-map", role_values=dict(role_map or {}))
    return build_org(companies, amap, options=opts, registry=registry, people_path=owners,
                     pmap=pmap)

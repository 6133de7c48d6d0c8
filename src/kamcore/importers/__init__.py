"""Importing CRM exports (Salesforce, HubSpot, any CSV with a mapping) into a workspace.

>>> from kamcore.importers import import_salesforce, write_import     # doctest: +SKIP
>>> result = import_salesforce("Account.csv", users="User.csv")        # doctest: +SKIP
>>> write_import(result, "my-org")                                      # doctest: +SKIP
"""

from __future__ import annotations

from kamcore.errors import ImportRefused
from kamcore.importers.engine import ImportOptions, ImportResult
from kamcore.importers.generic import import_csv, suggest_map
from kamcore.importers.hubspot import import_hubspot
from kamcore.importers.output import read_layout, refuse_problems, write_import
from kamcore.importers.salesforce import id15, id18, import_salesforce

__all__ = [
    "ImportOptions",
    "ImportRefused",
    "ImportResult",
    "id15",
    "id18",
    "import_csv",
    "import_hubspot",
    "import_salesforce",
    "read_layout",
    "refuse_problems",
    "suggest_map",
    "write_import",
]

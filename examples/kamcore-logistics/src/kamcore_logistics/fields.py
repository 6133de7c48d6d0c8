"""The plugin's fields: ``logistics.<field>`` columns of accounts.csv.

Imported inside ``kam_register_fields`` only, so that ``kam --help`` never pays for pydantic.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kamcore import SemicolonList


class LogisticsAccount(BaseModel):
    """How goods move for a logistics account."""

    # extra="forbid": a misspelt column (logistics.carrier) is reported, not silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    carriers: SemicolonList = Field(default_factory=list,
                                    description="Carriers used: 'DHL;Maersk'.")
    warehouses: SemicolonList = Field(default_factory=list,
                                      description="Warehouse codes serving the account.")
    sla_hours: int | None = Field(None, ge=1, le=720,
                                  description="Promised order-to-delivery time, in hours.")
    hazmat: bool = Field(False, description="Ships dangerous goods (ADR, IMDG, IATA DGR).")

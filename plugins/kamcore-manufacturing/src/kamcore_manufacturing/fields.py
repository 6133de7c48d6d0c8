"""The manufacturing plugin's fields: ``manufacturing.<field>`` columns of accounts.csv.

Imported inside the ``kam_register_fields`` hook, so that loading the plugin stays cheap.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from kamcore import SemicolonList
from kamcore_manufacturing.incoterms import INCOTERMS_2020


def _lower(value: object) -> object:
    return value.strip().lower().replace(" ", "-") if isinstance(value, str) else value


class ManufacturingAccount(BaseModel):
    """A manufacturing customer or supplier and the terms goods move under."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    facing: Annotated[Literal["supplier", "client"] | None, BeforeValidator(_lower)] = Field(
        None, description="supplier: we buy from them; client: we sell to them.")
    incoterm: str | None = Field(None, description="Incoterms 2020 rule, e.g. FCA, DAP, CIF.")
    named_place: str | None = Field(
        None, description="The place the Incoterm names, e.g. 'Hamburg port' (rule MFG101).")
    transport: Annotated[
        Literal["sea", "inland-waterway", "road", "rail", "air", "multimodal"] | None,
        BeforeValidator(_lower)] = Field(None, description="Main mode of transport.")
    lead_time_days: int | None = Field(None, ge=0, le=730,
                                       description="Order-to-delivery lead time in days.")
    materials: SemicolonList = Field(
        default_factory=list, description="Materials bought from a supplier: steel;resin.")

    @field_validator("incoterm", mode="before")
    @classmethod
    def _incoterm(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        code = value.strip().upper()
        if code not in INCOTERMS_2020:
            raise ValueError(f"{value!r} is not an Incoterms 2020 rule (one of "
                             f"{', '.join(INCOTERMS_2020)})")
        return code

"""The advertising plugin's fields: ``advertising.<field>`` columns of accounts.csv.

Imported inside the ``kam_register_fields`` hook, so that loading the plugin stays cheap.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from kamcore import SemicolonList

BillingModel = Literal["cpm", "cpc", "cpa", "flat-fee", "retainer"]
Channel = Literal["search", "social", "display", "video", "contextual", "print", "outdoor",
                  "radio", "tv"]
#: What ``rate`` means under each billing model.
RATE_MEANING: dict[str, str] = {
    "cpm": "price per thousand impressions",
    "cpc": "price per click",
    "cpa": "price per acquisition",
    "flat-fee": "fee per campaign",
    "retainer": "monthly retainer",
}


def _model(value: object) -> object:
    if isinstance(value, str):
        return value.strip().lower().replace(" ", "-").replace("_", "-")
    return value


def _channels(value: object) -> object:
    if isinstance(value, str):
        value = [part for part in value.split(";") if part.strip()]
    if isinstance(value, list):
        return [str(part).strip().lower() for part in value]
    return value


class AdvertisingAccount(BaseModel):
    """An advertiser: how it is billed, what runs, where, and on what budget."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    billing_model: Annotated[BillingModel | None, BeforeValidator(_model)] = Field(
        None, description="cpm, cpc, cpa, flat-fee or retainer.")
    rate: float | None = Field(
        None, gt=0, description="Price per thousand impressions (cpm), click (cpc) or "
        "acquisition (cpa); the fee (flat-fee) or monthly retainer; account currency.")
    campaigns: SemicolonList = Field(default_factory=list,
                                     description="Running campaigns: 'Spring sale;Brand'.")
    channels: Annotated[list[Channel], BeforeValidator(_channels)] = Field(
        default_factory=list, description="Where the ads run: search;social;display;...")
    monthly_budget: float | None = Field(None, ge=0,
                                         description="Agreed monthly budget (rule ADV103).")

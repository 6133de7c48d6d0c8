"""The healthcare plugin's fields: ``healthcare.<field>`` columns of accounts.csv and people.csv.

Imported inside the ``kam_register_fields`` hook, so that loading the plugin stays cheap.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from kamcore import SemicolonList

#: US (ICD-10-CM/PCS, CPT, HCPCS), WHO ICD-10 (UK, Germany, ...), UK OPCS-4, France CCAM.
CodeSet = Literal["ICD-10-CM", "ICD-10-PCS", "CPT", "HCPCS", "ICD-10", "OPCS-4", "CCAM"]


def _code_sets(value: object) -> object:
    if isinstance(value, str):
        value = [part for part in value.split(";") if part.strip()]
    if isinstance(value, list):
        return [str(part).strip().upper().replace(" ", "-") for part in value]
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


class HealthcareAccount(BaseModel):
    """A provider (hospital, clinic, practice) whose billing and coverage the account serves."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    npi: str | None = Field(
        None, pattern=r"^\d{10}$",
        description="National Provider Identifier: 10 digits, the last a check digit (HC101).")
    payers: SemicolonList = Field(
        default_factory=list, description="Insurers the provider bills, e.g. Aetna;Cigna.")
    billing_workflow: Annotated[
        Literal["in-house", "outsourced", "clearinghouse"] | None, BeforeValidator(_lower)
    ] = Field(None, description="Who prepares and submits the claims.")
    code_sets: Annotated[list[CodeSet], BeforeValidator(_code_sets)] = Field(
        default_factory=list, description="Coding systems used on claims: ICD-10-CM;CPT;... "
        "(also ICD-10, OPCS-4, CCAM outside the US).")


class HealthcarePerson(BaseModel):
    """Coding and billing credentials of support staff."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    certification: Annotated[
        Literal["CPC", "CCS", "CPB", "RHIT", "RHIA"] | None, BeforeValidator(_upper)
    ] = Field(None, description="AAPC or AHIMA credential: CPC, CCS, CPB, RHIT or RHIA.")

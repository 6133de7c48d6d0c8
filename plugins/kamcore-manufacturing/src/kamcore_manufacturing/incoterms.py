"""Incoterms 2020: the eleven ICC trade terms and which of them are for sea transport only."""

from __future__ import annotations

#: Code -> name, Incoterms 2020 (ICC publication 723).
INCOTERMS_2020: dict[str, str] = {
    "EXW": "Ex Works",
    "FCA": "Free Carrier",
    "CPT": "Carriage Paid To",
    "CIP": "Carriage and Insurance Paid To",
    "DAP": "Delivered at Place",
    "DPU": "Delivered at Place Unloaded",
    "DDP": "Delivered Duty Paid",
    "FAS": "Free Alongside Ship",
    "FOB": "Free on Board",
    "CFR": "Cost and Freight",
    "CIF": "Cost, Insurance and Freight",
}
#: Rules for sea and inland waterway transport only; containers go under FCA, CPT or CIP.
SEA_ONLY: frozenset[str] = frozenset({"FAS", "FOB", "CFR", "CIF"})
#: Modes of transport for which the sea-only rules fit.
WATERBORNE: frozenset[str] = frozenset({"sea", "inland-waterway"})
#: The any-mode rule to suggest instead of each sea-only one.
ANY_MODE_INSTEAD: dict[str, str] = {"FAS": "FCA", "FOB": "FCA", "CFR": "CPT", "CIF": "CIP"}

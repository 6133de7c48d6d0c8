"""Country cells as CRMs hold them ("Germany", "DEU", "Holland", "UK") -> ISO 3166-1 alpha-2.

Names come from pycountry (short, official and common names, alpha-2 and alpha-3 codes), plus a
small alias table for the names people actually type. A value is *mapped* only when it names one
country; a typo or an ambiguous name ("Korea") is left unmapped and reported with suggestions, so
an import never guesses a customer into the wrong country.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

#: Names that pycountry does not know, or that name several countries ("" code list = none).
ALIASES: dict[str, tuple[str, ...]] = {
    "holland": ("NL",),
    "the netherlands": ("NL",),
    "nederland": ("NL",),
    "great britain": ("GB",),
    "britain": ("GB",),
    "uk": ("GB",),
    "u k": ("GB",),
    "england": ("GB",),
    "scotland": ("GB",),
    "wales": ("GB",),
    "northern ireland": ("GB",),
    "usa": ("US",),
    "u s a": ("US",),
    "u s": ("US",),
    "america": ("US",),
    "united states of america": ("US",),
    "korea": ("KR", "KP"),
    "republic of korea": ("KR",),
    "congo": ("CG", "CD"),
    "drc": ("CD",),
    "dr congo": ("CD",),
    "russia": ("RU",),
    "czech republic": ("CZ",),
    "turkey": ("TR",),
    "ivory coast": ("CI",),
    "cote d ivoire": ("CI",),
    "uae": ("AE",),
    "emirates": ("AE",),
    "macedonia": ("MK",),
    "deutschland": ("DE",),
    "brasil": ("BR",),
    "espana": ("ES",),
    "schweiz": ("CH",),
    "suisse": ("CH",),
    "osterreich": ("AT",),
    "italia": ("IT",),
    "polska": ("PL",),
    "sverige": ("SE",),
    "norge": ("NO",),
    "danmark": ("DK",),
    "suomi": ("FI",),
    "hong kong sar": ("HK",),
    "prc": ("CN",),
    "mainland china": ("CN",),
    "vatican": ("VA",),
    "laos": ("LA",),
    "syria": ("SY",),
    "moldova": ("MD",),
    "tanzania": ("TZ",),
    "venezuela": ("VE",),
    "micronesia": ("FM",),
}


#: Friendlier labels than pycountry's for the few that read badly in a suggestion.
_SHORT = {"CD": "DR Congo", "CG": "Republic of the Congo", "GB": "United Kingdom"}


@dataclass(frozen=True)
class CountryMatch:
    """What a country cell means.

    :param code: the alpha-2 code when the value names exactly one country, else ``None``.
    :param status: ``empty``, ``code`` (already ISO), ``mapped`` (a name or alias),
        ``ambiguous`` (names several countries) or ``unknown``.
    :param suggestions: alpha-2 codes to offer the user when ``code`` is ``None``.
    """

    value: str
    code: str | None
    status: str
    suggestions: tuple[str, ...] = field(default=())

    @property
    def hint(self) -> str | None:
        """``did you mean Philippines (PH)?`` style advice, or ``None``."""
        if not self.suggestions:
            return None
        names = " or ".join(f"{country_label(c)}" for c in self.suggestions)
        if self.status == "ambiguous":
            return f"{self.value!r} could be {names}; name one"
        return f"did you mean {names}?"


def normalize(value: str) -> str:
    """Lower case, no accents or punctuation: "Côte d'Ivoire" -> "cote d ivoire"."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", plain.lower()).strip()


def country_label(code: str) -> str:
    """``Philippines (PH)``."""
    from kamcore.models.codes import country_name

    return f"{_short_name(code) or country_name(code)} ({code})"


@cache
def _index() -> dict[str, tuple[str, ...]]:
    """Normalized name -> codes, built once from pycountry and the alias table."""
    import pycountry

    index: dict[str, set[str]] = {}

    def add(name: str | None, code: str) -> None:
        if not name:
            return
        index.setdefault(normalize(name), set()).add(code)
        if ", " in name:  # "Korea, Republic of" -> "Republic of Korea"
            head, _, tail = name.partition(", ")
            index.setdefault(normalize(f"{tail} {head}"), set()).add(code)
            index.setdefault(normalize(head), set()).add(code)

    for country in pycountry.countries:
        code = country.alpha_2
        for attr in ("name", "official_name", "common_name"):
            add(getattr(country, attr, None), code)
    # "Korea" from "Korea, Republic of" and "Korea, Democratic ..." is correctly ambiguous;
    # aliases override everything else.
    result = {name: tuple(sorted(codes)) for name, codes in index.items()}
    result.update(ALIASES)
    return result


@cache
def _codes() -> tuple[dict[str, str], dict[str, str]]:
    import pycountry

    alpha2 = {c.alpha_2: c.alpha_2 for c in pycountry.countries}
    alpha3 = {c.alpha_3: c.alpha_2 for c in pycountry.countries}
    return alpha2, alpha3


@cache
def _short_name(code: str) -> str | None:
    import pycountry

    if code in _SHORT:
        return _SHORT[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return None
    return getattr(country, "common_name", None) or country.name


@cache
def resolve_country(value: str) -> CountryMatch:
    """Map one cell to an alpha-2 code (cached: CRM exports repeat a few values many times).

    >>> resolve_country("Holland").code
    'NL'
    >>> resolve_country("Korea").status, resolve_country("Korea").suggestions
    ('ambiguous', ('KR', 'KP'))
    >>> resolve_country("Phillippines").hint
    'did you mean Philippines (PH)?'

    :param value: the cell as exported.
    :returns: the match; ``code`` is ``None`` unless exactly one country is meant.
    """
    text = value.strip()
    if not text:
        return CountryMatch(value, None, "empty")
    alpha2, alpha3 = _codes()
    upper = text.upper()
    if upper in alpha2:
        return CountryMatch(value, upper, "code")
    if upper in alpha3:
        return CountryMatch(value, alpha3[upper], "mapped")
    key = normalize(text)
    codes = _index().get(key)
    if codes and len(codes) == 1:
        return CountryMatch(value, codes[0], "mapped")
    if codes:
        return CountryMatch(value, None, "ambiguous", codes)
    close = difflib.get_close_matches(key, list(_index()), n=4, cutoff=0.8)
    suggestions: list[str] = []
    for name in close:
        for code in _index()[name]:
            if code not in suggestions:
                suggestions.append(code)
    return CountryMatch(value, None, "unknown", tuple(suggestions[:3]))

"""GS1 check digits: the mod-10 algorithm shared by GLN, GTIN and SSCC numbers."""

from __future__ import annotations


def gs1_check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit of ``payload`` (all digits but the last).

    From the right, digits are weighted 3, 1, 3, 1, ...; the check digit brings the weighted
    sum up to a multiple of ten.

    :param payload: the digits before the check digit (12 for a GLN).
    :returns: the check digit, 0-9.
    :raises ValueError: ``payload`` is not all digits.

    >>> gs1_check_digit("400638133393")
    1
    """
    if not payload.isdigit():
        raise ValueError(f"{payload!r} is not all digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def gln_problem(gln: str) -> str | None:
    """Why ``gln`` is not a valid 13-digit GLN, or ``None`` when it is.

    >>> gln_problem("4006381333931") is None
    True
    >>> gln_problem("4006381333932")
    'check digit is 2, expected 1'
    """
    if len(gln) != 13 or not gln.isdigit():
        return f"{gln!r} is not 13 digits"
    expected = gs1_check_digit(gln[:-1])
    if int(gln[-1]) != expected:
        return f"check digit is {gln[-1]}, expected {expected}"
    return None

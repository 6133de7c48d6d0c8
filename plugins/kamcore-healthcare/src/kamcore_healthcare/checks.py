"""The NPI check digit: Luhn over the number prefixed with 80840 (the US health card issuer)."""

from __future__ import annotations

#: ISO 7812 prefix of US health industry card issuers, put in front of the NPI for the Luhn check.
NPI_PREFIX = "80840"


def luhn_check_digit(payload: str) -> int:
    """The Luhn (mod 10) check digit to append to ``payload``.

    :raises ValueError: ``payload`` is not all digits.

    >>> luhn_check_digit("7992739871")
    3
    """
    if not payload.isdigit():
        raise ValueError(f"{payload!r} is not all digits")
    total = 0
    for i, char in enumerate(reversed(payload)):
        digit = int(char)
        if i % 2 == 0:  # every second digit from the right, starting next to the check digit
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return (10 - total % 10) % 10


def npi_problem(npi: str) -> str | None:
    """Why ``npi`` is not a valid NPI, or ``None`` when it is.

    An NPI is 10 digits starting with 1 or 2; the last is the Luhn check digit of the first nine
    prefixed with 80840 (CMS, "Requirements for NPI check digit").

    >>> npi_problem("1234567893") is None
    True
    >>> npi_problem("1234567890")
    'check digit is 0, expected 3'
    """
    if len(npi) != 10 or not npi.isdigit():
        return f"{npi!r} is not 10 digits"
    if npi[0] not in "12":
        return f"{npi!r} does not start with 1 or 2"
    expected = luhn_check_digit(NPI_PREFIX + npi[:9])
    if int(npi[-1]) != expected:
        return f"check digit is {npi[-1]}, expected {expected}"
    return None

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kamcore_healthcare.checks import NPI_PREFIX, luhn_check_digit, npi_problem


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_valid_npis(npi):
    assert npi_problem(npi) is None


@pytest.mark.parametrize(("npi", "problem"), [
    ("1234567890", "check digit is 0, expected 3"),
    ("123456789", "'123456789' is not 10 digits"),
    ("3234567893", "'3234567893' does not start with 1 or 2"),
])
def test_invalid_npis_are_explained(npi, problem):
    assert npi_problem(npi) == problem


def test_prefix_is_the_constant_24_shortcut():
    # CMS: the 80840 prefix adds a constant 24 to the Luhn sum of the nine NPI digits.
    nine = "123456789"
    total = 24
    for i, char in enumerate(reversed(nine)):
        digit = int(char) * (2 if i % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    assert (10 - total % 10) % 10 == luhn_check_digit(NPI_PREFIX + nine) == 3


@settings(max_examples=60)
@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.sampled_from("12"),
       st.integers(0, 9))
def test_any_single_digit_typo_is_caught(rest, first, position):
    nine = first + rest
    npi = nine + str(luhn_check_digit(NPI_PREFIX + nine))
    assert npi_problem(npi) is None
    if position == 0:
        return  # changing the leading 1/2 fails the prefix test instead
    typo = npi[:position] + str((int(npi[position]) + 5) % 10) + npi[position + 1:]
    assert npi_problem(typo) is not None

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kamcore_retail.checks import gln_problem, gs1_check_digit


@pytest.mark.parametrize("gln", ["4006381333931", "0614141000012", "5901234123457"])
def test_real_glns_pass(gln):
    assert gln_problem(gln) is None


@pytest.mark.parametrize(("gln", "problem"), [
    ("4006381333932", "check digit is 2, expected 1"),
    ("400638133393", "'400638133393' is not 13 digits"),
    ("40063813339A1", "'40063813339A1' is not 13 digits"),
])
def test_bad_glns_are_explained(gln, problem):
    assert gln_problem(gln) == problem


@settings(max_examples=60)
@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(0, 9))
def test_check_digit_catches_every_single_digit_typo(payload, position_offset):
    gln = payload + str(gs1_check_digit(payload))
    assert gln_problem(gln) is None
    position = position_offset % 13
    typo = str((int(gln[position]) + 1) % 10)
    assert gln_problem(gln[:position] + typo + gln[position + 1:]) is not None


def test_payload_must_be_digits():
    with pytest.raises(ValueError, match="not all digits"):
        gs1_check_digit("12a")

"""numfmt.rounded's shortcut (formatting the float when no rounding boundary is near)
gives what rounding repr's digits half away from zero with Decimal gives."""
import math
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.numfmt import rounded


def by_decimal(x: float, decimals: int) -> str:
    """The rule itself: repr's digits, half away from zero; never "-0.0000"."""
    q = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{q:f}"
    return text[1:] if text.startswith("-") and Decimal(text) == 0 else text


@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e7, max_value=1e7), st.integers(0, 8))
def test_any_number(x, decimals):
    assert rounded.__wrapped__(x, decimals) == by_decimal(x, decimals)


@settings(max_examples=3000, deadline=None)
@given(st.integers(-10**9, 10**9), st.integers(0, 8), st.integers(-40, 40))
def test_numbers_at_and_near_a_tie(digits, decimals, steps):
    """m.dddd5 itself (a tie: away from zero) and the floats a few spacings either side."""
    x = float(f"{digits}5e-{decimals + 1}")
    for _ in range(abs(steps)):
        x = math.nextafter(x, math.inf if steps > 0 else -math.inf)
    assert rounded.__wrapped__(x, decimals) == by_decimal(x, decimals)


def test_examples():
    assert rounded(0.68997, 4) == "0.6900"
    assert rounded(1.00005, 4) == "1.0001" and rounded(-1.00005, 4) == "-1.0001"  # ties, away from zero
    assert rounded(2.675, 2) == "2.68"  # the float is below 2.675, its repr is not
    assert rounded(-0.00001, 4) == "0.0000" and rounded(-0.0, 4) == "0.0000"
    assert rounded(123456.78905, 4) == "123456.7891"  # large: Decimal's way

"""Numbers shown to people, formatted in one place with one rounding rule."""
from __future__ import annotations

import functools
import math
from decimal import ROUND_HALF_UP, Decimal


@functools.lru_cache(maxsize=4096)  # the key prints most numbers two or three times
def rounded(x: float, decimals: int) -> str:
    """Fixed decimals, half away from zero on the decimal value that repr shows
    (so 0.68997 -> 0.6900 whatever the binary fraction); never "-0.0000"."""
    x = float(x)
    if _far_from_half_way(x, decimals):
        # Formatting rounds the binary value, and repr's digits (the shortest that give
        # it back) are within half a float spacing of it: when no rounding boundary is
        # near, both round alike. A fourth of Decimal's cost; Decimal breaks the ties.
        text = "%.*f" % (decimals, x)
    else:
        q = Decimal(repr(x)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        text = f"{q:f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _far_from_half_way(x: float, decimals: int) -> bool:
    """Whether x is well clear (a millionth of its last decimal) of every number half-way
    between two of ``decimals`` places; False for NaN, infinities and large numbers,
    where the product's rounding error could hide that."""
    if not 0 <= decimals <= 8:
        return False
    scaled = x * 10.0 ** decimals
    return abs(scaled) < 1e9 and abs(scaled - math.floor(scaled) - 0.5) > 1e-6


def exact(x: float) -> str:
    """A short exact number (inputs, parameters, hidden values): 2, -0.5, 0.125."""
    x = float(x)
    if x == int(x):
        return str(int(x))
    text = f"{x:.6f}".rstrip("0")
    return text


def math_num(text: str) -> str:
    """A formatted number for Typst math: a leading minus becomes a real minus sign."""
    return text.replace("-", "−")

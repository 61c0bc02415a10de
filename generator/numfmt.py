"""Numbers shown to people, formatted in one place with one rounding rule."""
from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal


@functools.lru_cache(maxsize=4096)  # the key prints most numbers two or three times
def rounded(x: float, decimals: int) -> str:
    """Fixed decimals, half away from zero on the decimal value that repr shows
    (so 0.68997 -> 0.6900 whatever the binary fraction); never "-0.0000"."""
    q = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{q:f}"
    return text[1:] if text.startswith("-") and Decimal(text) == 0 else text


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

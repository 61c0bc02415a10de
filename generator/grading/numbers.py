"""Numbers as students type them, and nothing that needs guessing.

Accepted: ``-0.62``, ``−0.62`` (Unicode minus and other dash look-alikes), ``+0.5``,
``6.2e-1``, ``.62``, ``62.``, ``1/2``, ``-3/4``, ``- 0.62``, with surrounding spaces (any
Unicode space) and invisible characters (a zero-width space, a direction mark) at either
end ignored. Refused with the reason: a comma (``0,62`` is a decimal comma to some and a
thousands separator to others), ``~0.6``, ``62%``, text, ``inf``/``nan``, ``1/0``, a
number too large for a float (``1e999``, ``1e300/1e-300``).
"""
from __future__ import annotations

import math
import re

# Characters that people (or their word processors) type for a minus sign.
MINUS_LOOKALIKES = {"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-",
                    "\uff0b": "+"}
_MINUS_TABLE = str.maketrans(MINUS_LOOKALIKES)
# Only these: a soft hyphen (U+00AD) or an invisible separator inside "1\u20630" would be
# guessing, and is refused as not a number.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Every Unicode space (none lies past U+3000) and those: str.strip takes linear time, where
# a regex for the end of "1" + 40,000 spaces + "x" took 15 s.
_ENDS = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + INVISIBLE
_SPACED_SIGN = re.compile(r"^([+-])\s+")
DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class NumberError(ValueError):
    """A cell that is not one unambiguous number; the message is the reason."""


def _decimal(text: str, whole: str) -> float:
    if not DECIMAL.fullmatch(text):
        raise NumberError(f"{whole!r} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise NumberError(f"{whole!r} is too large")
    return value


def parse_number(text: str) -> float:
    """The value of one answer cell; raises NumberError saying why it is not one."""
    whole = text
    # Spaces and invisible characters pasted along with the number (a zero-width space, a
    # direction mark) are dropped at its ends; a sign may be followed by spaces ("- 0.62").
    text = text.strip(_ENDS).translate(_MINUS_TABLE)
    text = _SPACED_SIGN.sub(r"\1", text)
    if not text:
        raise NumberError("no answer")
    if "," in text:
        raise NumberError(f"{whole!r} has a comma: write the number with a decimal point, "
                          f"without thousands separators")
    if text[0] in "~≈" or text.endswith("%"):
        raise NumberError(f"{whole!r} is approximate or a percentage: write the number itself")
    if "/" in text:
        parts = text.split("/")
        if len(parts) != 2:
            raise NumberError(f"{whole!r} is not a number or a simple fraction a/b")
        num, den = (_decimal(p.strip(), whole) for p in parts)
        if den == 0:
            raise NumberError(f"{whole!r} divides by zero")
        value = num / den
        if not math.isfinite(value):
            raise NumberError(f"{whole!r} is too large")
        return value
    return _decimal(text, whole)

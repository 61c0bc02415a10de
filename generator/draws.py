"""Small integers drawn exactly as numpy's ``Generator.integers(n)`` draws them, cheaper.

Question 3's redraw loop makes about 700 choices a student, each one small integer, and
numpy's per-call overhead (about 2.3 µs) made them a tenth of our Python per student.
``Draws`` reads PCG64's raw 64-bit outputs in blocks and applies numpy's own method to
them, so every seed keeps the numbers it had (tests/test_draws.py checks it against
numpy):

- numpy cuts each 64-bit output into two 32-bit draws, low half first (``pcg64_next32``);
- a bound n below 2**32 uses Lemire's method on a 32-bit draw x: m = x * n, answer
  m >> 32, redrawn while m's low half is below (2**32 - n) % n
  (``buffered_bounded_lemire_uint32``);
- n == 1 draws nothing (numpy returns the low end without touching the stream).

A ``Draws`` owns its bit generator: it reads ahead, so nothing else may draw from it.
"""
from __future__ import annotations

import numpy as np

_BLOCK = 64  # 64-bit outputs read at a time (128 draws)
_LOW = 0xFFFFFFFF
_SPAN = 1 << 32


class Draws:
    __slots__ = ("_bits", "_halves")

    def __init__(self, bit_generator: np.random.BitGenerator) -> None:
        self._bits = bit_generator
        self._halves = iter(())

    def _refill(self) -> int:
        # Each 64-bit output as its two 32-bit halves, low half first: numpy splits
        # them (viewed as little-endian pairs), a fifth of the cost of splitting in Python.
        words = self._bits.random_raw(_BLOCK).astype("<u8", copy=False)
        self._halves = iter(words.view("<u4").tolist())
        return next(self._halves)

    def integers(self, n: int) -> int:
        """A uniform integer in [0, n), as ``np.random.Generator.integers(n)`` gives it."""
        if n == 1:
            return 0
        if not 1 < n < _SPAN:
            raise ValueError(f"Draws.integers: n must be from 1 to 2**32 - 1, got {n}")
        while True:
            x = next(self._halves, None)
            if x is None:
                x = self._refill()
            m = x * n
            low = m & _LOW
            if low >= n or low >= (_SPAN - n) % n:
                return m >> 32


# What the graph families draw from: a Draws in production; numpy's Generator (the same
# stream, drawn by numpy itself) where a test wants the oracle.
Rng = Draws | np.random.Generator

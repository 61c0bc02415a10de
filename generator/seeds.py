"""Seeds: one integer fixes the whole set; each question draws from its own stream."""
from __future__ import annotations

import hashlib

import numpy as np

from .draws import Draws
from .errors import PsetError

MAX_SEED = 2**63 - 1


def parse_seed(raw) -> int:
    """Accept an int or a decimal string in [0, 2^63); anything else is a PsetError."""
    if isinstance(raw, bool):
        raise PsetError(f"seed must be an integer, got {raw!r}")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        if not text.lstrip("+-").isdigit() or not text.isascii():
            raise PsetError(f"seed must be a whole number from 0 to {MAX_SEED}, got {str(raw)!r}")
        value = int(text)
    if not 0 <= value <= MAX_SEED:
        raise PsetError(f"seed must be from 0 to {MAX_SEED} (below 2^63), got {value}")
    return value


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def question_rng(seed: int, question_id: str) -> np.random.Generator:
    """An independent stream per (seed, question id): adding a question moves no other."""
    return np.random.Generator(_bits(seed, question_id))


def question_draws(seed: int, question_id: str) -> Draws:
    """The same stream as question_rng's, for questions that only draw small integers
    (Question 3's graphs): the same numbers, several times cheaper per draw."""
    return Draws(_bits(seed, question_id))


def _bits(seed: int, question_id: str) -> np.random.PCG64:
    return np.random.PCG64(np.random.SeedSequence([seed, _stable_int(question_id)]))


def variant_code(seed: int) -> str:
    """Short code printed on the question PDF and its key, so a grader can match them
    without the raw seed on the paper."""
    digest = hashlib.sha256(f"make-pset/variant/{seed}".encode()).hexdigest().upper()
    return f"{digest[:4]}-{digest[4:8]}"

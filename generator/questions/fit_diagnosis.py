"""Question 2: overfitting versus underfitting. Two scenarios from
problem_banks/fit_scenarios.toml, one of each diagnosis in a random order, with numbers
drawn per student; the curves plotted beside the words are computed here from the same
numbers, so the plot always shows what the sentences say."""
from __future__ import annotations

import math

import numpy as np

from ..banks import BankError, FitBank, Scenario, fill
from ..problem import Problem

KIND = "fit-diagnosis"
PARTS = ("a", "b")
MAX_POINTS = 60          # plotted epochs per curve
DECIMALS = 3
# Fixed stream for the original's curve levels (its text fixes only the epochs).
ORIGINAL_CURVE_SEED = 20240202


def _grid(epochs: int, marks: list[int]) -> list[int]:
    """Epoch 0 (before training) to the last epoch, at most ~50 evenly spaced points,
    plus every epoch a sentence names, so a peak or a zero lands exactly where it is said."""
    step = max(1, math.ceil(epochs / 50))
    return sorted(set(range(0, epochs + 1, step)) | {epochs} | set(marks))


def _ease_out(x: float) -> float:
    """0 -> 1 over x in [0, 1], fast at first: quadratic ease-out."""
    x = min(max(x, 0.0), 1.0)
    return 1.0 - (1.0 - x) ** 2


# Each curve function gets the grid, the run length E, its resolved arguments (epochs as
# ints, percentages as fractions), the start value and rng (for levels the bank leaves open).

def _reaches_zero(grid, E, a, start, rng):
    return [start * (1.0 - _ease_out(e / a["at"])) for e in grid]


def _approaches_zero(grid, E, a, start, rng):
    # Ends below 1.2% of the start ("close to zero"); the small linear term keeps it
    # visibly decreasing to the very end instead of flattening out.
    rate = rng.uniform(4.5, 5.5)
    return [start * (0.98 * math.exp(-rate * e / E) + 0.02 * (1 - e / E)) for e in grid]


def _stays_high(grid, E, a, start, rng):
    floor = start * rng.uniform(0.45, 0.6)  # never approaches zero
    scale = 1.0 - math.exp(-2.0)
    return [start - (start - floor) * (1.0 - math.exp(-2.0 * e / E)) / scale for e in grid]


def _plateaus_high(grid, E, a, start, rng):
    floor = start * rng.uniform(0.5, 0.65)
    return [floor + (start - floor) * (1.0 - _ease_out(e / a["at"])) for e in grid]


def _rises_then_falls(grid, E, a, start, rng):
    top = a.get("top", max(rng.uniform(0.75, 0.9), a.get("final", 0.0) + 0.08))
    final = a.get("final", top - rng.uniform(0.08, 0.15))
    peak = a["peak"]
    return [start + (top - start) * _ease_out(e / peak) if e <= peak
            else top - (top - final) * (e - peak) / (E - peak) for e in grid]


def _rises_slowly(grid, E, a, start, rng):
    final = a.get("final", rng.uniform(0.45, 0.6))
    return [start + (final - start) * (e / E) ** 0.9 for e in grid]


def _plateaus_low(grid, E, a, start, rng):
    level = a.get("level", rng.uniform(0.4, 0.55))
    return [start + (level - start) * _ease_out(e / a["at"]) for e in grid]


CURVES = {
    "train_loss": {"reaches_zero": _reaches_zero, "approaches_zero": _approaches_zero,
                   "stays_high": _stays_high, "plateaus_high": _plateaus_high},
    "val_accuracy": {"rises_then_falls": _rises_then_falls, "rises_slowly": _rises_slowly,
                     "plateaus_low": _plateaus_low},
}
_PERCENT_ARGS = ("top", "final", "level")


def curves(s: Scenario, numbers: dict[str, int], rng: np.random.Generator) -> dict:
    """The plotted series: {"epochs", "train_loss", "val_accuracy"} (accuracy as a
    fraction), computed from the scenario's shapes and the drawn numbers."""
    E = numbers["epochs"]
    resolved = {}
    for which in ("train_loss", "val_accuracy"):
        c = getattr(s, which)
        resolved[which] = {p: numbers[ref] / 100 if p in _PERCENT_ARGS else numbers[ref]
                           for p, ref in c.args}
    marks = [v for args in resolved.values() for p, v in args.items() if p not in _PERCENT_ARGS]
    grid = _grid(E, marks)
    start_loss = rng.uniform(0.9, 2.3)
    # Chance accuracy at epoch 0, well below any level the curve is said to reach.
    lowest = min([v for p, v in resolved["val_accuracy"].items() if p in _PERCENT_ARGS] or [0.4])
    start_acc = min(rng.uniform(0.1, 0.3), 0.6 * lowest)
    loss = CURVES["train_loss"][s.train_loss.shape](grid, E, resolved["train_loss"], start_loss, rng)
    acc = CURVES["val_accuracy"][s.val_accuracy.shape](grid, E, resolved["val_accuracy"], start_acc, rng)
    return {"epochs": grid,
            "train_loss": [round(max(v, 0.0), DECIMALS) for v in loss],
            "val_accuracy": [round(v, DECIMALS) for v in acc]}


def _part(s: Scenario, numbers: dict[str, int], rng: np.random.Generator) -> dict:
    """One part, as both the answers.json entry and the template's context."""
    return {"scenario": s.id, "diagnosis": s.diagnosis, "numbers": numbers,
            "observations": [fill(t, numbers) for t in s.observations],
            "evidence": fill(s.evidence, numbers),
            "changes": [{"what": fill(c.what, numbers), "why": fill(c.why, numbers)} for c in s.changes],
            "curves": curves(s, numbers, rng)}


def _problem(qid: str, parts: list[dict], points: float) -> Problem:
    answers = {name: {k: v for k, v in part.items() if k != "curves"}
               for name, part in zip(PARTS, parts)}
    return Problem(id=qid, kind=KIND, points=points, answers=answers,
                   context={"parts": [dict(part, part=name) for name, part in zip(PARTS, parts)]})


def _draw_numbers(s: Scenario, rng: np.random.Generator) -> dict[str, int]:
    return {name: int(rng.integers(lo, hi + 1)) for name, lo, hi in s.numbers}


def generate(qid: str, rng: np.random.Generator, bank: FitBank, points: float) -> Problem:
    by_diagnosis = [[s for s in bank.scenarios if s.diagnosis == d] for d in ("overfitting", "underfitting")]
    chosen = [pool[int(rng.integers(len(pool)))] for pool in by_diagnosis]
    if rng.integers(2):
        chosen.reverse()
    parts = []
    for s in chosen:
        parts.append(_part(s, _draw_numbers(s, rng), rng))
    return _problem(qid, parts, points)


def generate_original(qid: str, bank: FitBank, points: float) -> Problem:
    """The original's parts: (a) and (b) are the scenarios marked original = {part = ...}."""
    by_part = {s.original_part: s for s in bank.scenarios if s.original_part}
    missing = [p for p in PARTS if p not in by_part]
    if missing:
        raise BankError(f"fit_scenarios.toml: --original needs a scenario with original part "
                        f'"{missing[0]}"')
    rng = np.random.Generator(np.random.PCG64(ORIGINAL_CURVE_SEED))
    return _problem(qid, [_part(by_part[p], dict(by_part[p].original_numbers), rng) for p in PARTS], points)

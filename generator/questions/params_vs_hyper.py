"""Question 1: parameters vs. hyper-parameters. Part (b)'s table is six items from
problem_banks/params_vs_hyper.toml, both kinds always mixed, shuffled; the
hyper-parameters left off the table are the acceptable examples for part (c)."""
from __future__ import annotations

import numpy as np

from ..banks import ORIGINAL_ROWS, BankError, Item, ParamsBank
from ..problem import Problem

KIND = "params-vs-hyper"
ROWS = 6
MIN_EACH = 2  # at least two parameters and two hyper-parameters on every table


def _row(item: Item) -> dict:
    return {"item": item.text, "symbol": item.symbol, "label": item.label, "why": item.why}


def _problem(qid: str, bank: ParamsBank, rows: list[Item], points: float) -> Problem:
    on_table = {it.text for it in rows}
    examples = [{"item": it.text, "why": it.why} for it in bank.items
                if it.label == "HP" and it.text not in on_table]
    answers = {"a": bank.model_answer_a, "b": [_row(it) for it in rows], "c": examples}
    return Problem(id=qid, kind=KIND, points=points, answers=answers,
                   context={"model_a": bank.model_answer_a, "rows": answers["b"], "examples": examples})


def draw_rows(rng: np.random.Generator, bank: ParamsBank) -> list[Item]:
    """Six distinct items: 2 to 4 parameters, the rest hyper-parameters, in random order."""
    pools = [[it for it in bank.items if it.label == lab] for lab in ("P", "HP")]
    n_params = int(rng.integers(MIN_EACH, ROWS - MIN_EACH + 1))
    chosen = []
    for pool, n in zip(pools, (n_params, ROWS - n_params)):
        chosen += [pool[int(i)] for i in rng.choice(len(pool), size=n, replace=False)]
    return [chosen[int(i)] for i in rng.permutation(ROWS)]


def generate(qid: str, rng: np.random.Generator, bank: ParamsBank, points: float) -> Problem:
    return _problem(qid, bank, draw_rows(rng, bank), points)


def generate_original(qid: str, bank: ParamsBank, points: float) -> Problem:
    """The original's table: the items marked original = 1..6, in that order."""
    by_row = {it.original: it for it in bank.items if it.original is not None}
    missing = [r for r in range(1, ORIGINAL_ROWS + 1) if r not in by_row]
    if missing:
        raise BankError(f"params_vs_hyper.toml: --original needs an item with original = {missing[0]}")
    return _problem(qid, bank, [by_row[r] for r in range(1, ORIGINAL_ROWS + 1)], points)

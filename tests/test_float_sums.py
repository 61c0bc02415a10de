"""Outputs do not depend on how the running Python's sum() rounds: Python 3.12 made
sum() of floats compensated (Neumaier), 3.11 adds left to right. Emulating 3.12's sum
here (whatever this Python is) must leave every source, answer and grade unchanged."""
from __future__ import annotations

import builtins
import math

from generator.export import answers_document, dumps
from generator.figures import clear_cache
from generator.floats import left_sum
from generator.grading import GradingConfig, grade_submission
from generator.grading.synthetic import rounded_student, student_id
from generator.pset import build_pset
from generator.render import document_source

# Seed 166's key put a label 0.001 cm lower under Python 3.12 before left_sum; the rest
# are a spread of ordinary seeds.
SEEDS = [166, *range(12)]


def compensated_sum(iterable, start=0):
    """CPython 3.12's sum(): exact for ints; once a float arrives, Neumaier's compensated
    addition of exact floats (ints join uncompensated), the compensation added at the end."""
    items = list(iterable)
    total, i = start, 0
    while i < len(items) and type(total) is int and type(items[i]) in (int, bool):
        total += items[i]
        i += 1
    if i == len(items) or type(total) not in (int, float) or type(items[i]) is not float:
        return _plain(items[i:], total)
    f, c = float(total), 0.0
    for x in items[i:]:
        if type(x) is float:
            t = f + x
            c += (f - t) + x if abs(f) >= abs(x) else (x - t) + f
            f = t
        elif type(x) in (int, bool):
            f += float(x)
        else:  # leaves the fast path: the compensation joins first
            return _plain([x], f + c if c and math.isfinite(c) else f)
    return f + c if c and math.isfinite(c) else f


_builtin_sum = builtins.sum


def _plain(items, start):
    return _builtin_sum(items, start) if start != 0 or not items else _builtin_sum(items)


def test_the_emulation_compensates_and_left_sum_does_not():
    values = [1e100, 1.0, -1e100]
    assert compensated_sum(values) == 1.0
    assert left_sum(values) == 0.0                      # 3.11's sum(), on every Python
    assert compensated_sum([1, 2, 3]) == 6 and type(compensated_sum([1, 2])) is int
    assert compensated_sum([0.1] * 10) == 1.0 and left_sum([0.1] * 10) != 1.0


def outputs(seeds):
    clear_cache()  # figure layouts are cached per process: compute them under this sum()
    out = []
    cfg = GradingConfig()
    for s in seeds:
        ps = build_pset(s)
        doc = answers_document(ps, student_id=student_id(s))
        # rounded to one decimal as they go: the tolerance and follow-through paths run
        grade = grade_submission(doc, {k: repr(v) for k, v in rounded_student(doc, 1).items()}, cfg)
        out.append((document_source(ps, key=False, student_name="A"), document_source(ps, key=True, student_name="A"),
                    dumps(doc), repr([(q.points, q.points_possible, [c.verdict for c in q.cells])
                                      for q in grade.questions])))
    return out


def test_outputs_are_the_same_under_a_compensated_sum(monkeypatch):
    plain = outputs(SEEDS)
    monkeypatch.setattr(builtins, "sum", compensated_sum)
    compensated = outputs(SEEDS)
    monkeypatch.undo()
    clear_cache()
    for seed, a, b in zip(SEEDS, plain, compensated):
        assert a == b, f"seed {seed}: an output changed with the running Python's sum()"

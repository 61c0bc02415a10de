"""Question 3: forward pass, BCE loss and full backprop on one sampled graph."""
from __future__ import annotations

from ..draws import Rng
from ..graphs import FAMILIES
from ..graphs.common import sample, vector_cells
from ..options import Options
from ..problem import Problem

KIND = "backprop"


def from_graph(qid: str, family: str, graph, solution, points: float, attempts: int = 1) -> Problem:
    labels = FAMILIES[family].answer_labels(graph)
    return Problem(id=qid, kind=KIND, points=points, answers=vector_cells(graph, labels),
                   graph=graph, solution=solution, family=family,
                   context={"labels": labels, "attempts": attempts})


def generate(qid: str, rng: Rng, family: str, options: Options, points: float) -> Problem:
    v = sample(FAMILIES[family], rng, options)
    return from_graph(qid, family, v.graph, v.solution, points, v.attempts)

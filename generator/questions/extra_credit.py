"""Question 4 (b, c): the same graph with a tanh output and MSE loss, backprop
through the output neuron only. Labels move from {0, 1} to {-1, 1}: Y' = 2Y - 1."""
from __future__ import annotations

from ..graphs.common import with_output
from ..problem import Problem

KIND = "output-backprop"


def tanh_target(bce_target: float) -> float:
    return 2.0 * bce_target - 1.0


def generate(qid: str, base: Problem, points: float) -> Problem:
    target = tanh_target(base.graph.nodes["L"]["target"])
    graph, solution = with_output(base.graph, "tanh", "mse", target)
    pre = graph.nodes["Yhat"]["args"][0]
    answers = {"Yhat": graph.nodes["Yhat"]["value"], "L": graph.nodes["L"]["value"],
               pre: graph.nodes[pre]["grad"]}
    return Problem(id=qid, kind=KIND, points=points, answers=answers, graph=graph,
                   solution=solution, family=base.family, extra_credit=True,
                   context={"base": base.id, "pre": pre, "labels": list(answers),
                            "bce_target": base.graph.nodes["L"]["target"], "target": target})

"""Shared pieces of the graph families: a builder and the sample-check-redraw loop."""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import networkx as nx

from .. import rules
from ..draws import Rng
from ..engine import Solution, solve
from ..errors import GenerationError
from ..options import Options
from .draft import Draft, copy_graph, to_graph

# Node roles. The answer tables list value/gradient cells of the named roles;
# intermediates are the unnamed op nodes that the worked solution still prints.
ROLES = ("input", "param", "hidden", "intermediate", "output", "loss")


class GraphBuilder:
    """Adds nodes in topological order (operands first); keeps args (operand order).
    Makes node dicts as networkx's add_node(name, **attrs) would, keys in that order."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict] = {}

    def leaf(self, name: str, op: str, value: float, role: str) -> str:
        self.nodes[name] = {"op": op, "args": [], "value": float(value), "role": role}
        return name

    def node(self, name: str, op: str, args: list[str], role: str, **attrs) -> str:
        self.nodes[name] = {"op": op, "args": list(args), "role": role, **attrs}
        return name

    def graph(self) -> nx.DiGraph:
        """The DiGraph of the nodes added so far (its node dicts are the builder's)."""
        return to_graph(self.nodes)

    def output(self, pre: str, target: float) -> Draft:
        """Sigmoid output Yhat and BCE loss L, as in Question 3."""
        self.node("Yhat", "sigmoid", [pre], "output")
        self.node("L", "bce", ["Yhat"], "loss", target=float(target))
        return Draft(self.nodes)


@dataclass(frozen=True)
class Family:
    """A topology family: how to draw one graph and which rules its draws must meet."""

    name: str
    build: Callable[[Rng, Options], Draft]  # a structure with values drawn
    draw_values: Callable[[Draft, Rng, Options], None]  # redraw leaves and Y
    answer_labels: Callable[[nx.DiGraph], list[str]]
    rules: tuple[Callable, ...]


@dataclass
class Variant:
    family: str
    graph: nx.DiGraph
    solution: Solution
    attempts: int


VALUE_DRAWS_PER_STRUCTURE = 8


def sample(family: Family, rng: Rng, options: Options) -> Variant:
    """Draw, solve, check every rule; redraw until all hold or the budget runs out.
    A structure gets a few value draws before it is itself redrawn (cheaper than
    rebuilding, and most rejections are about values)."""
    failures: Counter[str] = Counter()
    # A structure that breaks a structural rule cannot pass with any values: check those
    # once per structure. Its value draws are still made, so the stream (and every later
    # draw) is the same as if each were checked in full.
    structural_rules, other_rules = rules.split_structural(family.rules)
    # Most draws fail a rule that the forward values decide: run backward only after those.
    value_rules, gradient_rules = rules.split_at_gradients(other_rules)
    d = None
    for attempt in range(1, options.max_attempts + 1):
        if attempt % VALUE_DRAWS_PER_STRUCTURE == 1:
            d = family.build(rng, options)
            structure_broken = rules.first_broken(d, structural_rules, options)
        else:
            family.draw_values(d, rng, options)
        if structure_broken is not None:
            failures[structure_broken] += 1
            continue
        try:
            d.forward()
        except (ZeroDivisionError, ValueError, OverflowError):
            failures["solvable"] += 1  # a zero divisor or a saturated log: redraw
            continue
        broken = rules.first_broken(d, value_rules, options)
        if broken is None:
            try:
                sol = d.backward()
            except (ZeroDivisionError, ValueError, OverflowError):
                failures["solvable"] += 1
                continue
            broken = rules.first_broken(d, gradient_rules, options)
            if broken is None:
                return Variant(family.name, d.graph(), sol, attempt)
        failures[broken] += 1
    worst, count = failures.most_common(1)[0]
    raise GenerationError(
        f"family {family.name!r}: no draw met rule {worst!r} "
        f"({count} of {options.max_attempts} attempts failed it); loosen the options")


def with_output(g: nx.DiGraph, activation: str, loss: str, target: float) -> tuple[nx.DiGraph, Solution]:
    """A copy of a graph with another output activation and loss (the extra credit)."""
    # A copy with its own attribute dicts (each node's op, value and grad change); the
    # operand lists are shared, never changed. Much cheaper than a deep copy.
    h = copy_graph(g)
    h._node["Yhat"]["op"] = activation
    h._node["L"]["op"] = loss
    h._node["L"]["target"] = float(target)
    return h, solve(h)


def vector_cells(g: nx.DiGraph, labels: list[str]) -> dict[str, float | list[float]]:
    """Answer cells: Yhat and L are values; every other label is dL/d(label).
    A label naming a parameter vector (W1 with nodes W1[1], W1[2]) gives a list."""
    cells: dict[str, float | list[float]] = {}
    for label in labels:
        if label in ("Yhat", "L"):
            cells[label] = g.nodes[label]["value"]
        elif label in g.nodes:
            cells[label] = g.nodes[label]["grad"]
        else:
            parts = vector_parts(g, label)
            if not parts:
                raise KeyError(label)
            cells[label] = [g.nodes[p]["grad"] for p in parts]
    return cells


def vector_parts(g: nx.DiGraph, label: str) -> list[str]:
    parts, i = [], 1
    while f"{label}[{i}]" in g.nodes:
        parts.append(f"{label}[{i}]")
        i += 1
    return parts


@functools.lru_cache(maxsize=16)
def _grids(o: Options) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The value grid and its non-zero part (drawn from on every redraw), as floats: the
    passes take the drawn values as they are (an Options made in code may have int steps)."""
    grid = tuple(float(v) for v in o.grid())
    return grid, tuple(v for v in grid if v != 0)


def draw_leaf_values(d: Draft, rng: Rng, o: Options, zero_bias_ok: bool) -> None:
    """Inputs and parameters from the grid (never 0, except biases where allowed), Y in {0, 1}."""
    if d.leaf_draws is None:  # each leaf's choices, found once per structure
        grid, nonzero = _grids(o)
        d.leaf_draws = [(a, grid if zero_bias_ok and name.startswith("B") else nonzero)
                        for name, a in d.nodes.items() if a["op"] in ("input", "param")]
    integers = rng.integers
    for a, choices in d.leaf_draws:
        a["value"] = choices[integers(len(choices))]  # pick(rng, choices), inlined
    d.nodes["L"]["target"] = float(integers(2))


def pick(rng: Rng, choices):
    """One of a sequence, chosen by the question's own stream."""
    return choices[int(rng.integers(len(choices)))]

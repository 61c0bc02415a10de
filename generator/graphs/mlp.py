"""Family ``mlp``: graph (a) of Question 3, a small fully connected network.

Inputs X1..Xn, one or two hidden layers of leaky-ReLU units, one sigmoid output
unit, BCE loss. Units are numbered across layers (H1, H2 in layer one, unit 3 is
the output), and unit u has a weight vector Wu (nodes Wu[1], Wu[2], ...), a bias
Bu, products Pu[i] = Wu[i] * input_i and pre-activation Zu.
"""
from __future__ import annotations

import collections

import networkx as nx

from .. import rules
from ..draws import Rng
from ..options import Options
from .common import Family, GraphBuilder, draw_leaf_values, pick
from .draft import Draft


def construct(shape: list[int], values: dict[str, float], alpha: float, target: float) -> nx.DiGraph:
    """shape = [inputs, hidden..., 1]; values holds X*, W*[i], B* by node name."""
    return draft(shape, values, alpha, target).graph()


def draft(shape: list[int], values: dict[str, float], alpha: float, target: float) -> Draft:
    b = GraphBuilder()
    prev = [b.leaf(f"X{i}", "input", values[f"X{i}"], "input") for i in range(1, shape[0] + 1)]
    unit = 0
    for layer, width in enumerate(shape[1:], start=1):
        outputs = []
        for _ in range(width):
            unit += 1
            terms = []
            for i, src in enumerate(prev, start=1):
                w = b.leaf(f"W{unit}[{i}]", "param", values[f"W{unit}[{i}]"], "param")
                terms.append(b.node(f"P{unit}[{i}]", "mul", [w, src], "intermediate"))
            bias = b.leaf(f"B{unit}", "param", values[f"B{unit}"], "param")
            z = b.node(f"Z{unit}", "add", terms + [bias], "intermediate")
            if layer < len(shape) - 1:
                outputs.append(b.node(f"H{unit}", "leaky_relu", [z], "hidden", alpha=alpha))
            else:
                outputs.append(z)
        prev = outputs
    return b.output(prev[0], target)


def build(rng: Rng, o: Options) -> Draft:
    shape = [pick(rng, o.mlp_inputs)]
    for _ in range(pick(rng, o.mlp_layers)):
        shape.append(pick(rng, o.mlp_hidden))
    shape.append(1)
    d = draft(shape, collections.defaultdict(float), o.leaky_alpha, 0.0)
    draw_values(d, rng, o)
    return d


def draw_values(d: Draft, rng: Rng, o: Options) -> None:
    draw_leaf_values(d, rng, o, zero_bias_ok=True)  # the seed has B1 = 0


def units(g: nx.DiGraph) -> list[int]:
    return sorted(int(n[1:]) for n in g.nodes if n.startswith("Z"))


def shape_of(g: nx.DiGraph) -> list[int]:
    """[inputs, hidden widths..., 1], read back from the graph."""
    shape = [sum(1 for n in g.nodes if g.nodes[n]["op"] == "input")]
    layer_of: dict[str, int] = {f"X{i}": 0 for i in range(1, shape[0] + 1)}
    widths: dict[int, int] = {}
    for u in units(g):
        src = g.nodes[f"P{u}[1]"]["args"][1]
        layer = layer_of[src] + 1
        widths[layer] = widths.get(layer, 0) + 1
        layer_of[f"H{u}"] = layer
    return shape + [widths[k] for k in sorted(widths)]


def answer_labels(g: nx.DiGraph) -> list[str]:
    """The seed's column order: Yhat, L, then per unit from the output back (W, B, H), then X."""
    labels = ["Yhat", "L"]
    for u in reversed(units(g)):
        labels += [f"W{u}", f"B{u}"] + ([f"H{u}"] if f"H{u}" in g.nodes else [])
    labels += [n for n in g.nodes if g.nodes[n]["op"] == "input"]
    return labels


FAMILY = Family("mlp", build, draw_values, answer_labels, rules.NUMERIC + (rules.some_unit_on_leaky_branch,))

"""Family ``dag``: graph (b) of Question 3, a genuinely random computational graph.

A variant is drawn from a small grammar, one hidden node at a time:

    H_k = inner            inner = op(operands)   op in add, sub, mul (2 or 3), div, min, max
    H_k = W_j * inner      (outer "scale": the inner node is intermediate U_k)
    H_k = inner + B_j      (outer "shift")

Operands are distinct earlier nodes (X1..X3, H1..H_{k-1}), preferring ones not yet
used. The nodes nobody consumed (one or two) are combined into Z = a - b or a + b
(or fed straight in) for Yhat = sigmoid(.), then L = BCE(Yhat, Y). Every choice
goes through a ``Chooser`` so a test can script the seed's own graph (b) through
the very code that draws random ones.
"""
from __future__ import annotations

import collections

from dataclasses import dataclass

import networkx as nx

from .. import rules
from ..draws import Rng
from ..options import Options
from .common import Family, GraphBuilder, draw_leaf_values, pick
from .draft import Draft

INNER_OPS = ("add", "sub", "mul", "div", "min", "max")
OUTERS = (None, "scale", "shift")
FINAL_OPS = ("sub", "add")
INPUTS = ("X1", "X2", "X3")


@dataclass(frozen=True)
class Hidden:
    op: str
    operands: tuple[str, ...]
    outer: str | None  # None, "scale" (W * inner) or "shift" (inner + B)


@dataclass(frozen=True)
class Spec:
    hidden: tuple[Hidden, ...]
    final_op: str | None  # how the sinks combine into Z; None when there is one sink


class RngChooser:
    def __init__(self, rng: Rng) -> None:
        self.rng = rng
        self._integers = rng.integers

    def pick(self, seq):
        return seq[self._integers(len(seq))]  # common.pick, one call fewer (~300 a structure)


def sinks(spec: Spec) -> list[str]:
    used = {a for h in spec.hidden for a in h.operands}
    pool = list(INPUTS) + [f"H{k}" for k in range(1, len(spec.hidden) + 1)]
    return [n for n in pool if n not in used]


OP_CHOICES = ("add", "sub", "mul", "mul", "div", "div", "min", "max")  # mul and div twice as likely
MUL_ARITIES = (2, 2, 3)
SOURCES = ("fresh", "fresh", "any")


def sample_spec(choose, n_hidden: int) -> Spec | None:
    """One draw from the grammar; None when more than two nodes were left unused."""
    pool = list(INPUTS)
    used: set[str] = set()  # the operands of the hidden nodes so far
    hidden = []
    for k in range(1, n_hidden + 1):
        op = choose.pick(OP_CHOICES)
        arity = choose.pick(MUL_ARITIES) if op == "mul" else 2
        operands: list[str] = []
        for _ in range(arity):
            fresh = [n for n in pool if n not in used and n not in operands]
            source = choose.pick(SOURCES) if fresh else "any"
            operands.append(choose.pick(fresh if source == "fresh" else [n for n in pool if n not in operands]))
        used.update(operands)
        hidden.append(Hidden(op, tuple(operands), choose.pick(OUTERS)))
        pool.append(f"H{k}")
    spec = Spec(tuple(hidden), None)
    left = sinks(spec)
    if len(left) > 2:
        return None
    return Spec(spec.hidden, choose.pick(FINAL_OPS) if len(left) == 2 else None)


def validate_spec(spec: Spec) -> None:
    """Raise ValueError unless the spec is a sentence of the grammar above."""
    pool = list(INPUTS)
    for k, h in enumerate(spec.hidden, start=1):
        if h.op not in INNER_OPS or h.outer not in OUTERS:
            raise ValueError(f"H{k}: op {h.op!r} / outer {h.outer!r} not in the grammar")
        if len(h.operands) not in ((2, 3) if h.op == "mul" else (2,)):
            raise ValueError(f"H{k}: wrong number of operands")
        if len(set(h.operands)) != len(h.operands) or not set(h.operands) <= set(pool):
            raise ValueError(f"H{k}: operands must be distinct earlier nodes")
        pool.append(f"H{k}")
    n = len(sinks(spec))
    if n not in (1, 2) or (spec.final_op is None) != (n == 1) or spec.final_op not in FINAL_OPS + (None,):
        raise ValueError("the unused nodes must be one, or two combined by sub/add")


def param_names(spec: Spec) -> list[str]:
    """W1, W2... for scales and B1, B2... for shifts, numbered in order of use."""
    names, counts = [], {"scale": 0, "shift": 0}
    for h in spec.hidden:
        if h.outer:
            counts[h.outer] += 1
            names.append(("W" if h.outer == "scale" else "B") + str(counts[h.outer]))
    return names


def construct(spec: Spec, values: dict[str, float], target: float) -> nx.DiGraph:
    validate_spec(spec)
    return draft(spec, values, target).graph()


def draft(spec: Spec, values: dict[str, float], target: float) -> Draft:
    """The spec's nodes (the spec must be valid: see validate_spec)."""
    b = GraphBuilder()
    for x in INPUTS:
        b.leaf(x, "input", values[x], "input")
    params = iter(param_names(spec))
    for k, h in enumerate(spec.hidden, start=1):
        if h.outer is None:
            b.node(f"H{k}", h.op, list(h.operands), "hidden")
            continue
        p = next(params)
        b.leaf(p, "param", values[p], "param")
        inner = b.node(f"U{k}", h.op, list(h.operands), "intermediate")
        args = [p, inner] if h.outer == "scale" else [inner, p]
        b.node(f"H{k}", "mul" if h.outer == "scale" else "add", args, "hidden")
    left = sinks(spec)
    pre = b.node("Z", spec.final_op, left, "intermediate") if spec.final_op else left[0]
    return b.output(pre, target)


def build(rng: Rng, o: Options) -> Draft:
    choose = RngChooser(rng)
    n_hidden = pick(rng, o.dag_hidden)
    spec = None
    while spec is None:
        spec = sample_spec(choose, n_hidden)
    # sample_spec draws only sentences of the grammar (tests/test_families.py checks
    # validate_spec on thousands), so the redraw loop skips validating each one.
    d = draft(spec, collections.defaultdict(float), 0.0)
    draw_values(d, rng, o)
    return d


def draw_values(d: Draft, rng: Rng, o: Options) -> None:
    draw_leaf_values(d, rng, o, zero_bias_ok=False)


def answer_labels(g: nx.DiGraph) -> list[str]:
    """The seed's column order: Yhat, L, then H, W, B, X, each from the highest index down."""
    def group(prefix, role):
        return sorted((n for n in g.nodes if n.startswith(prefix) and g.nodes[n]["role"] == role),
                      key=lambda n: int(n[1:]), reverse=True)
    return ["Yhat", "L"] + group("H", "hidden") + group("W", "param") + group("B", "param") + group("X", "input")


FAMILY = Family("dag", build, draw_values, answer_labels, rules.NUMERIC + (
    rules.has_routing_gate, rules.has_computed_product, rules.has_fan_out, rules.few_parameters,
    rules.all_reach_loss))

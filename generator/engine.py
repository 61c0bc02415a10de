"""Scalar reverse-mode differentiation over a networkx DiGraph.

Each node carries ``op`` and ``args`` (operand names, in operand order). Leaves
(``input``, ``param``) carry ``value``. :func:`solve` fills in ``value`` and
``grad`` (dL/dnode) for every node and returns the chain-rule record that the
answer key prints and the grader replays.

Each op is one short block: forward value, then the local derivative of the
output with respect to each operand (micrograd style). Gradients accumulate
with ``+=`` so fan-out is summed; backward walks the topological order in
reverse.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import networkx as nx

LEAF_OPS = ("input", "param")


@dataclass(frozen=True)
class Op:
    name: str
    arity: int | None  # None: n-ary (two or more)
    forward: Callable[[list[float], dict], float]
    local: Callable[[list[float], float, dict], list[float]]  # d out / d operand i


OPS: dict[str, Op] = {}


def _op(name, arity, forward, local):
    OPS[name] = Op(name, arity, forward, local)


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _argext(xs: list[float], pick) -> int:
    best = pick(xs)
    return xs.index(best)  # first operand wins a tie; rules forbid ties anyway


def _routes(xs: list[float], pick) -> list[float]:
    """d max / d x_i (or min): 1 for the operand picked, 0 for the others."""
    k = _argext(xs, pick)
    return [1.0 if i == k else 0.0 for i in range(len(xs))]


def _products_of_others(xs: list[float]) -> list[float]:
    """d (x_1 x_2 ... x_n) / d x_i: the product of the other operands, in order."""
    if len(xs) == 2:
        return [xs[1], xs[0]]  # math.prod of one float is that float (1.0 * x), and is slower
    return [math.prod(xs[:i] + xs[i + 1:]) for i in range(len(xs))]


_op("add", None, lambda xs, a: math.fsum(xs), lambda xs, out, a: [1.0] * len(xs))
_op("sub", 2, lambda xs, a: xs[0] - xs[1], lambda xs, out, a: [1.0, -1.0])
_op("mul", None, lambda xs, a: math.prod(xs),
    lambda xs, out, a: _products_of_others(xs))
_op("div", 2, lambda xs, a: xs[0] / xs[1],
    lambda xs, out, a: [1.0 / xs[1], -xs[0] / (xs[1] * xs[1])])
_op("neg", 1, lambda xs, a: -xs[0], lambda xs, out, a: [-1.0])
_op("max", None, lambda xs, a: max(xs),
    lambda xs, out, a: _routes(xs, max))
_op("min", None, lambda xs, a: min(xs),
    lambda xs, out, a: _routes(xs, min))
_op("relu", 1, lambda xs, a: max(xs[0], 0.0), lambda xs, out, a: [1.0 if xs[0] > 0 else 0.0])
# The seed defines f'(x) = 1 for x >= 0 and alpha otherwise.
_op("leaky_relu", 1, lambda xs, a: xs[0] if xs[0] >= 0 else a["alpha"] * xs[0],
    lambda xs, out, a: [1.0 if xs[0] >= 0 else float(a["alpha"])])
_op("sigmoid", 1, lambda xs, a: _sigmoid(xs[0]), lambda xs, out, a: [out * (1.0 - out)])
_op("tanh", 1, lambda xs, a: math.tanh(xs[0]), lambda xs, out, a: [1.0 - out * out])
_op("exp", 1, lambda xs, a: math.exp(xs[0]), lambda xs, out, a: [out])
_op("log", 1, lambda xs, a: math.log(xs[0]), lambda xs, out, a: [1.0 / xs[0]])
_op("square", 1, lambda xs, a: xs[0] * xs[0], lambda xs, out, a: [2.0 * xs[0]])
_op("bce", 1,
    lambda xs, a: -a["target"] * math.log(xs[0]) - (1 - a["target"]) * math.log(1.0 - xs[0]),
    lambda xs, out, a: [(xs[0] - a["target"]) / (xs[0] * (1.0 - xs[0]))])
_op("mse", 1, lambda xs, a: 0.5 * (xs[0] - a["target"]) ** 2,
    lambda xs, out, a: [xs[0] - a["target"]])

ALL_OPS = LEAF_OPS + tuple(OPS)


class Step(NamedTuple):
    """One chain-rule term: d out(consumer) / d node times dL/d consumer. (A NamedTuple:
    immutable like a frozen dataclass, and several times cheaper to make; the redraw
    loop makes thousands per student.)"""

    node: str
    consumer: str
    position: int  # operand position of ``node`` in ``consumer``'s args
    local: float
    upstream: float
    product: float


@dataclass
class Solution:
    order: list[str]  # topological order, stable
    loss: str
    steps: list[Step] = field(default_factory=list)

    def steps_by_node(self) -> dict[str, list[Step]]:
        """Each node's terms (their sum is dL/d node), in the order they were accumulated."""
        into: dict[str, list[Step]] = {}
        for s in self.steps:
            into.setdefault(s.node, []).append(s)
        return into

    def steps_into(self, node: str) -> list[Step]:
        """The terms whose sum is dL/d node, in the order they were accumulated."""
        return self.steps_by_node().get(node, [])


def _insertion_index(g: nx.DiGraph) -> tuple[dict[str, int], bool]:
    """Each node's insertion position, and whether every edge points forward in it
    (then insertion order is a topological order and there is no cycle)."""
    index = {n: i for i, n in enumerate(g._node)}
    return index, all(index[a] < index[b] for a, b in g.edges)


def topological_order(g: nx.DiGraph) -> list[str]:
    """Topological order that breaks ties by insertion order (stable on every run)."""
    index, forward_only = _insertion_index(g)
    if forward_only:
        return list(g._node)  # the builders add nodes in order: the same answer, faster
    return list(nx.lexicographical_topological_sort(g, key=index.__getitem__))


def loss_node(g: nx.DiGraph) -> str:
    sinks = [n for n, consumers in g._succ.items() if not consumers]  # out-degree 0
    if len(sinks) != 1:
        raise ValueError(f"graph must have exactly one loss node, found {sinks}")
    return sinks[0]


class Program:
    """The forward and backward passes of one graph structure, compiled once: every
    computed node with its op and its operands' attribute dicts, in topological order.
    The redraw loop runs the passes on dozens of value draws per structure, and looking
    nothing up by name or op per pass is most of its speed. Ops and args must not change
    after compiling (values, targets and alphas may)."""

    __slots__ = ("nodes", "order", "loss", "_leaves", "_computed", "_operand_values")

    def __init__(self, nodes: dict[str, dict], order: list[str], loss: str) -> None:
        self.nodes = nodes  # name -> attribute dict (a DiGraph's g._node, or a draft's)
        self.order = order
        self.loss = loss
        self._leaves: list[dict] = []
        self._computed: list[tuple] = []  # (name, attrs, op, args, operand dicts)
        for name in order:
            attrs = nodes[name]
            if attrs["op"] in LEAF_OPS:
                self._leaves.append(attrs)
            else:
                args = attrs["args"]
                operands = tuple(map(nodes.__getitem__, args))  # no generator per node: cheaper
                self._computed.append((name, attrs, OPS[attrs["op"]], args, operands))
        self._operand_values: list[list[float]] = []  # per computed node, from the last forward

    @classmethod
    def of(cls, g: nx.DiGraph) -> "Program":
        return cls(g._node, topological_order(g), loss_node(g))

    def forward(self, leaves_are_floats: bool = False) -> None:
        """Writes ``value`` on every computed node (leaves made floats first, unless
        the caller drew them as floats). Every op maps floats to a float."""
        if not leaves_are_floats:
            for attrs in self._leaves:
                attrs["value"] = float(attrs["value"])
        self._operand_values = kept = []
        for _, attrs, op, _, operands in self._computed:
            # Spelled out for one and two operands (most nodes): a list display costs
            # half what a comprehension does, and this runs on every draw.
            if len(operands) == 2:
                a, b = operands
                xs = [a["value"], b["value"]]
            elif len(operands) == 1:
                xs = [operands[0]["value"]]
            else:
                xs = [a["value"] for a in operands]
            attrs["value"] = op.forward(xs, attrs)
            kept.append(xs)

    def backward(self) -> Solution:
        """The backward pass over the values the last forward pass wrote (it reads the
        operand values that pass kept); records every step. Every op's local derivatives
        are floats, given float operands."""
        if len(self._operand_values) != len(self._computed):  # no forward, or one cut short
            raise RuntimeError("Program.backward needs a whole forward pass first")
        sol = Solution(order=self.order, loss=self.loss)
        steps = sol.steps
        for attrs in self.nodes.values():
            attrs["grad"] = 0.0
        self.nodes[self.loss]["grad"] = 1.0
        for (name, attrs, op, args, operands), xs in zip(reversed(self._computed), reversed(self._operand_values)):
            upstream = attrs["grad"]
            for pos, (arg, operand, local) in enumerate(zip(args, operands, op.local(xs, attrs["value"], attrs))):
                product = local * upstream
                operand["grad"] += product
                steps.append(_new_step(Step, (arg, name, pos, local, upstream, product)))
        return sol


# Step(...) runs NamedTuple's Python-level __new__; tuple.__new__ makes the same Step
# at a third of the cost (a backward pass makes dozens).
_new_step = tuple.__new__


def solve(g: nx.DiGraph) -> Solution:
    """Forward and backward pass; writes ``value`` and ``grad`` on every node."""
    program = Program.of(g)
    program.forward()
    return program.backward()


def check_graph(g: nx.DiGraph) -> None:
    """Structural sanity: known ops, arities, args matching edges, one loss, acyclic."""
    # The builders' graphs have every edge forward in insertion order, which proves
    # there is no cycle; otherwise ask networkx.
    if not _insertion_index(g)[1] and not nx.is_directed_acyclic_graph(g):
        raise ValueError("graph has a cycle")
    preds = g._pred  # networkx's own dicts (node -> its predecessors): no views, each built per call
    for name, attrs in g._node.items():
        op, args = attrs.get("op"), attrs.get("args", [])
        if op in LEAF_OPS:
            if args or "value" not in attrs:
                raise ValueError(f"leaf {name} needs a value and no args")
            continue
        if op not in OPS:
            raise ValueError(f"node {name}: unknown op {op!r}")
        arity = OPS[op].arity
        if (arity is None and len(args) < 2) or (arity is not None and len(args) != arity):
            raise ValueError(f"node {name}: op {op} takes {arity or '2+'} operands, got {len(args)}")
        if preds[name].keys() != set(args):
            raise ValueError(f"node {name}: args {args} do not match its in-edges")
        if op == "leaky_relu" and "alpha" not in attrs:
            raise ValueError(f"node {name}: leaky_relu needs alpha")
        if op in ("bce", "mse") and "target" not in attrs:
            raise ValueError(f"node {name}: {op} needs target")
    loss_node(g)

"""A graph while the redraw loop works on it, before it is a networkx DiGraph.

The loop draws a structure, then values for it a few times, solving and checking the
rules on each draw (dozens of draws per student). Building a DiGraph per structure and
reading it through networkx cost more than the passes themselves, so the loop works on a
``Draft``: the node attribute dicts (name -> dict, in insertion order), the passes
compiled for the structure, and the node lists the rules read, each found once per
structure. The accepted draft's very dicts become the DiGraph's (``graph()``).
"""
from __future__ import annotations

import networkx as nx

from ..engine import Program, Solution, check_graph, topological_order


class Draft:
    """Node dicts with per-structure lookups. The structure (ops, args) is fixed once
    made, and insertion order is a topological order (the builders add operands first;
    graph() checks it); values, grads and targets change from draw to draw."""

    __slots__ = ("nodes", "_order", "_program", "_with", "_out_degrees", "leaf_draws")

    def __init__(self, nodes: dict[str, dict], order: list[str] | None = None) -> None:
        self.nodes = nodes
        self._order = order  # a topological order other than insertion order, if any
        self._program: Program | None = None
        self._with: dict[tuple[str, ...], tuple[str, ...]] = {}  # with_op / with_role answers
        self._out_degrees: dict[str, int] | None = None
        self.leaf_draws = None  # what draw_leaf_values draws, once per structure (common.py)

    @classmethod
    def of(cls, g: nx.DiGraph) -> Draft:
        """A draft over a DiGraph's own node dicts (what the rules' tests check)."""
        return cls(g._node, topological_order(g))

    def with_op(self, *ops: str) -> tuple[str, ...]:
        """The nodes whose op is one of ``ops``, in insertion order."""
        found = self._with.get(ops)
        if found is None:
            found = self._with[ops] = tuple(n for n, a in self.nodes.items() if a["op"] in ops)
        return found

    def with_role(self, *roles: str) -> tuple[str, ...]:
        """The nodes whose role is one of ``roles``, in insertion order."""
        key = ("role",) + roles  # apart from with_op's answers (no op is called "role")
        found = self._with.get(key)
        if found is None:
            found = self._with[key] = tuple(n for n, a in self.nodes.items() if a["role"] in roles)
        return found

    def out_degrees(self) -> dict[str, int]:
        """How many nodes take each node as an operand (its out-edges in the DiGraph)."""
        if self._out_degrees is None:
            self._out_degrees = degrees = dict.fromkeys(self.nodes, 0)
            for a in self.nodes.values():
                for arg in dict.fromkeys(a["args"]):  # an operand given twice is one edge
                    degrees[arg] += 1
        return self._out_degrees

    def sinks(self) -> list[str]:
        """The nodes no node takes as an operand, in insertion order."""
        return [n for n, k in self.out_degrees().items() if k == 0]

    @property
    def program(self) -> Program:
        """The passes, compiled on first use (a structure that breaks a structural rule
        is never solved)."""
        if self._program is None:
            sinks = self.sinks()
            if len(sinks) != 1:
                # not a ValueError: the redraw loop takes those for an unsolvable draw
                raise RuntimeError(f"graph builder bug: a graph must have exactly one loss node, found {sinks}")
            order = self._order if self._order is not None else list(self.nodes)
            self._program = Program(self.nodes, order, sinks[0])
        return self._program

    def forward(self) -> None:
        self.program.forward(leaves_are_floats=True)

    def backward(self) -> Solution:
        return self.program.backward()

    def graph(self) -> nx.DiGraph:
        """The DiGraph of these node dicts (checked)."""
        g = to_graph(self.nodes)
        check_graph(g)
        return g


def to_graph(nodes: dict[str, dict]) -> nx.DiGraph:
    """The DiGraph that add_node(name, **attrs), then add_edge(arg, name) for each arg in
    order, node by node, builds: the same dicts and insertion orders (node order,
    successors in their consumers' order, predecessors in operand order), written into
    networkx's own dicts (several times cheaper than its add_* methods). Every operand
    must be an earlier node."""
    g = nx.DiGraph()
    node, succ, pred = g._node, g._succ, g._pred
    for name, attrs in nodes.items():
        node[name] = attrs
        succ[name] = {}
        into = pred[name] = {}
        for a in attrs["args"]:
            if a not in succ or a == name:
                raise ValueError(f"node {name}: operand {a} is not an earlier node")
            into[a] = succ[a].setdefault(name, {})  # one edge data dict, shared both ways
    return g


def copy_graph(g: nx.DiGraph) -> nx.DiGraph:
    """What g.copy() returns (own attribute dicts, shallow; own edge data dicts; the same
    insertion orders), written into networkx's dicts directly."""
    h = nx.DiGraph()
    h.graph.update(g.graph)
    node, succ, pred = h._node, h._succ, h._pred
    for n, attrs in g._node.items():
        node[n] = attrs.copy()
        succ[n] = {}
        pred[n] = {}
    for u, nbrs in g._succ.items():
        out = succ[u]
        for v, data in nbrs.items():
            out[v] = pred[v][u] = data.copy()
    return h

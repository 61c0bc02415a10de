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
    made; values, grads and targets change from draw to draw."""

    __slots__ = ("nodes", "_order", "_program", "_with_op", "_with_role", "_consumers", "leaf_draws")

    def __init__(self, nodes: dict[str, dict], order: list[str] | None = None) -> None:
        self.nodes = nodes
        self._order = order  # a topological order, when the maker knows one
        self._program: Program | None = None
        self._with_op: dict[tuple[str, ...], list[str]] = {}
        self._with_role: dict[tuple[str, ...], list[str]] = {}
        self._consumers: dict[str, int] | None = None
        self.leaf_draws = None  # what draw_leaf_values draws, once per structure (common.py)

    @classmethod
    def of(cls, g: nx.DiGraph) -> Draft:
        """A draft over a DiGraph's own node dicts (what the rules' tests check)."""
        return cls(g._node, topological_order(g))

    def with_op(self, *ops: str) -> list[str]:
        """The nodes whose op is one of ``ops``, in insertion order."""
        found = self._with_op.get(ops)
        if found is None:
            found = self._with_op[ops] = [n for n, a in self.nodes.items() if a["op"] in ops]
        return found

    def with_role(self, *roles: str) -> list[str]:
        """The nodes whose role is one of ``roles``, in insertion order."""
        found = self._with_role.get(roles)
        if found is None:
            found = self._with_role[roles] = [n for n, a in self.nodes.items() if a["role"] in roles]
        return found

    def out_degree(self, name: str) -> int:
        """How many nodes take ``name`` as an operand (its out-edges in the DiGraph)."""
        if self._consumers is None:
            self._consumers = dict.fromkeys(self.nodes, 0)
            for a in self.nodes.values():
                for arg in dict.fromkeys(a["args"]):  # one edge per operand node
                    self._consumers[arg] += 1
        return self._consumers[name]

    def ancestors(self, name: str) -> set[str]:
        """The nodes with a path to ``name``, following operands (nx.ancestors)."""
        seen: set[str] = set()
        todo = list(self.nodes[name]["args"])
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.nodes[n]["args"])
        return seen

    @property
    def program(self) -> Program:
        """The passes, compiled on first use (a structure that breaks a structural rule
        is never solved)."""
        if self._program is None:
            order = self._order if self._order is not None else list(self.nodes)
            self._program = Program(self.nodes, order, loss_node_of(self.nodes))
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


def loss_node_of(nodes: dict[str, dict]) -> str:
    """The one node no other node takes as an operand."""
    consumed = {a for attrs in nodes.values() for a in attrs["args"]}
    sinks = [n for n in nodes if n not in consumed]
    if len(sinks) != 1:
        raise ValueError(f"graph must have exactly one loss node, found {sinks}")
    return sinks[0]


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

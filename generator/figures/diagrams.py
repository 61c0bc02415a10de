"""What each family's figure shows: nodes, their columns and labels, and edges.

``mlp`` is drawn as a neural-network diagram (one circle per unit, the P/Z nodes
folded into it, the unit's W and B named beside it); ``dag`` as a computational
graph (one circle per op node, leaves as boxes, sub/div operands tagged a/b and
arriving in the upper / lower half of the node). The nodes the statement leaves
unnamed get notes with the worked solution's names, drawn in the answer key only:
u_4 and z beside dag op nodes, z_u on an mlp unit's incoming side."""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import networkx as nx

from ..errors import PsetError
from . import metrics
from .clarity import ambiguities
from .geometry import Layout, problems
from .layered import EdgeSpec, LabelSpec, NodeSpec, Params, draw, rows_of
from .render import render_both

TEXT_PT = 9.0
WORD_PT = 8.0
NOTE_PT = 7.5
NOTE_FILL = 'rgb("#4a5a78")'  # muted: names the key adds, set apart from the statement's own
LEAF_H = 0.55


def _input_rank(n: str) -> int:
    return int(n[1:]) if n[1:].isdigit() else 0


# The specs read node attributes through g._node, the dict g.nodes[n] looks them up in
# (the view's lookup costs more than the dict's, and the specs read hundreds).

def _leaf(g: nx.DiGraph, n: str, col: int, show_value: bool) -> NodeSpec:
    a = g._node[n]
    text = metrics.leaf_with_value(n, a["value"]) if show_value else metrics.name(n)
    style = "input" if a["op"] == "input" else "param"
    rank = _input_rank(n) if style == "input" else None
    return NodeSpec(n, "box", text, TEXT_PT, text.width(TEXT_PT) + 0.3, LEAF_H, style, col, rank=rank)


def _op_node(n: str, op: str, col: int, labels: list[LabelSpec], style: str = "op",
             min_r: float = 0.27) -> NodeSpec:
    text = metrics.op_text(op)
    size = WORD_PT if op in metrics.WORD_OPS else TEXT_PT
    r = max(min_r, text.width(size) / 2 + 0.09)
    return NodeSpec(n, "circle", text, size, 2 * r, 2 * r, style, col, labels)


def _name_label(n: str) -> LabelSpec:
    return LabelSpec(metrics.name(n), TEXT_PT, "above")


def _note(n: str, prefer: str, required: bool) -> LabelSpec:
    return LabelSpec(metrics.intermediate_name(n), NOTE_PT, prefer, NOTE_FILL, required, note=True)


def _mlp(g: nx.DiGraph, show_values: bool) -> tuple[list[NodeSpec], list[EdgeSpec]]:
    inputs = sorted((n for n, a in g._node.items() if a["op"] == "input"), key=_input_rank)
    units = sorted(int(n[1:]) for n in g.nodes if n.startswith("Z") and n[1:].isdigit())
    if not units or "Yhat" not in g.nodes or "L" not in g.nodes:
        raise PsetError("figure: an mlp graph needs units Z1.., Yhat and L")
    layer_of = {x: 0 for x in inputs}
    drawn = {x: x for x in inputs}          # graph node feeding the next layer -> drawn shape
    nodes = [_leaf(g, x, 0, show_values) for x in inputs]
    edges: list[EdgeSpec] = []
    for u in units:
        sources = [g._node[f"P{u}[{i}]"]["args"][1] for i in range(1, len(g._node[f"Z{u}"]["args"]))]
        layer = max(layer_of[s] for s in sources) + 1
        out = f"H{u}" if f"H{u}" in g.nodes else "Yhat"
        op = g._node[out]["op"]
        # the unit's pre-activation as a note (key only), where its inputs arrive
        labels = [_name_label(out), LabelSpec(metrics.unit_params(u), TEXT_PT, "below"),
                  _note(f"Z{u}", "incoming", required=False)]
        nodes.append(_op_node(out, op, layer, labels, min_r=0.36))
        edges += [EdgeSpec(drawn[s], out) for s in sources]
        layer_of[out] = layer
        drawn[out] = out
    loss_col = layer_of["Yhat"] + 1
    nodes.append(_op_node("L", g._node["L"]["op"], loss_col, [_name_label("L")], "loss", min_r=0.36))
    edges.append(EdgeSpec("Yhat", "L"))
    return nodes, edges


NAMED_ROLES = ("hidden", "output", "loss")


def _dag(g: nx.DiGraph, show_values: bool) -> tuple[list[NodeSpec], list[EdgeSpec]]:
    col = {}
    for depth, gen in enumerate(nx.topological_generations(g)):
        for n in gen:
            col[n] = depth
    for n in g.nodes:  # a parameter sits just left of its (only) consumer
        if g._node[n]["op"] == "param":
            col[n] = min(col[c] for c in g.successors(n)) - 1
    nodes, edges = [], []
    for n in g.nodes:
        a = g._node[n]
        if a["op"] in ("input", "param"):
            nodes.append(_leaf(g, n, col[n], show_values and a["op"] == "input"))
            continue
        labels = [_name_label(n)] if a.get("role") in NAMED_ROLES else []
        if a.get("role") == "intermediate":  # a note (key only)
            labels.append(_note(n, "above", required=True))
        nodes.append(_op_node(n, a["op"], col[n], labels, "loss" if a.get("role") == "loss" else "op"))
        ordered = a["op"] in ("sub", "div") and len(a["args"]) == 2 and a["args"][0] != a["args"][1]
        for i, arg in enumerate(a["args"]):
            if ordered:  # a arrives in the node's upper half, b in its lower half
                tag = metrics.MathText("$" + "ab"[i] + "$", metrics.EM["ab"[i]])
                edges.append(EdgeSpec(arg, n, tag, port=(-1, 1)[i]))
            else:
                edges.append(EdgeSpec(arg, n))
    return nodes, edges


MAX_WIDTH, MAX_HEIGHT = 15.0, 9.0  # cm: what fits the page beside the question's text
FAMILY_SPECS = {"mlp": _mlp, "dag": _dag}

# Spacing settings tried in turn; the first that yields a clean drawing wins. The order
# puts first the setting that is clean most often (dag: about 92% of variants, with the
# key's notes), so that one layout is usually all a figure costs.
ATTEMPTS = {
    "mlp": [Params(gap=2.6, row_gap=0.55, reorder=False, port_angle=25),
            Params(gap=2.2, row_gap=0.8, reorder=False, port_angle=20, label_pad=0.1),
            Params(gap=1.8, row_gap=1.1, reorder=False, port_angle=15, label_pad=0.14)],
    "dag": [Params(gap=1.2, min_gap=0.5, row_gap=0.6, dummy_gap=0.45, port_angle=35),
            Params(gap=0.9, min_gap=0.5, row_gap=0.9, dummy_gap=0.8, port_angle=30),
            Params(gap=1.0, min_gap=0.5, row_gap=0.6, dummy_gap=0.5, port_angle=45, straight=0.4),
            Params(gap=1.2, min_gap=0.55, row_gap=0.35, port_angle=45),
            Params(gap=1.0, min_gap=0.55, row_gap=0.45, dummy_gap=0.35, port_angle=45),
            Params(gap=0.9, min_gap=0.5, row_gap=0.7, dummy_gap=0.6, port_angle=60),
            Params(gap=1.2, min_gap=0.55, row_gap=0.5, dummy_gap=0.4, port_angle=40, straight=0.0)],
}

CACHE_SIZE = 64  # layouts kept per process: a student's question and key, with room to spare


@dataclass
class _Cached:
    layout: Layout
    code: tuple[str, str] | None = None  # the figure's Typst code: (question, key), once asked for


_cache: OrderedDict[tuple, _Cached] = OrderedDict()


def clear_cache() -> None:
    """Forget every cached layout (benchmarks time the layout itself)."""
    _cache.clear()


def graph_layout(g: nx.DiGraph, family: str, show_input_values: bool = True,
                 name_intermediates: bool = False) -> Layout:
    """The figure's geometry (cm). The question and the key share one layout: it is made
    with the key's notes (names of the intermediate nodes) and drawn without them for the
    question, so both figures put every node, edge and label in the same place."""
    return shared_layout(g, family, show_input_values).copy(notes=name_intermediates)


def shared_layout(g: nx.DiGraph, family: str, show_input_values: bool = True) -> Layout:
    """The layout of both figures, with the key's notes: cached per process, keyed by
    what is drawn (never by object identity). Read it, do not change it."""
    return _cached(g, family, show_input_values).layout


def figure_code(g: nx.DiGraph, family: str, show_input_values: bool = True,
                name_intermediates: bool = False) -> str:
    """render() of the shared layout, with the key's notes or without: both made at the
    first call (they share all but the notes' lines) and cached with the layout."""
    cached = _cached(g, family, show_input_values)
    if cached.code is None:
        cached.code = render_both(cached.layout)
    return cached.code[bool(name_intermediates)]


def _cached(g: nx.DiGraph, family: str, show_input_values: bool) -> _Cached:
    if family not in FAMILY_SPECS:
        raise PsetError(f"figure: unknown graph family {family!r} (expected one of {', '.join(FAMILY_SPECS)})")
    key = _key(g, family, show_input_values)
    cached = _cache.get(key)
    if cached is None:
        nodes, edges = FAMILY_SPECS[family](g, show_input_values)
        cached = _cache[key] = _Cached(_best_layout(nodes, edges, ATTEMPTS[family]))
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return cached


def _key(g: nx.DiGraph, family: str, show_input_values: bool) -> tuple:
    """The cache's key: what is drawn, as a tuple of plain values (strings, numbers,
    tuples of them), compared by value, never by identity. The specs are a function of
    the nodes (in order), what the spec functions read of each (op, args, role, an
    input's value: the only value a figure shows) and the edges (each node's successors),
    so those make it. Every call pays for it (most are hits: a figure is drawn for the
    question and for the key), so it leaves out the gradients and op values and is not
    printed and hashed (their reprs were most of the cost)."""
    succ = g._succ
    nodes = []
    for n, a in g._node.items():
        op, args = a.get("op"), a.get("args")
        nodes.append((n, op, tuple(args) if isinstance(args, list) else args, a.get("role"),
                      a.get("value") if op == "input" else None, tuple(succ[n])))
    return family, show_input_values, tuple(nodes)


def _best_layout(nodes: list[NodeSpec], edges: list[EdgeSpec], attempts: list[Params]) -> Layout:
    """The first spacing setting that draws the graph cleanly (no overlap, every label
    clearly its owner's, every optional note placed, within the size limits), or failing
    that the one with the fewest defects (the earlier on a tie)."""
    wanted = sum(len(n.labels) for n in nodes) + sum(e.tag is not None for e in edges)
    best, orders, too_tall = None, {}, []   # best: (defects, attempt index, layout)
    for index, params in enumerate(attempts):
        placed = rows_of(nodes, edges, params, orders)
        # Nodes alone taller than the limit: cannot be clean (TOO_BIG defects at least),
        # so it is drawn only if no other setting does better than that.
        if placed.min_height(params.margin) > MAX_HEIGHT + 1e-9:
            too_tall.append((index, params, placed))
            continue
        out = draw(nodes, edges, params, placed)
        best = min(best or (math.inf, 0, None), (_defects(out, wanted), index, out), key=lambda b: b[:2])
        if best[0] == 0:
            return out
    for index, params, placed in too_tall:
        if best is not None and best[0] < TOO_BIG:
            break
        out = draw(nodes, edges, params, placed)
        best = min(best or (math.inf, 0, None), (_defects(out, wanted), index, out), key=lambda b: b[:2])
    return best[2]


TOO_BIG = 10  # defects of a drawing past the size limits: worse than any few crossings


def _defects(out: Layout, wanted: int) -> float:
    # a note left out (it did not fit) is a lesser defect than a crossing
    return (len(problems(out)) + len(ambiguities(out)) + 0.5 * (wanted - len(out.labels))
            + TOO_BIG * (out.width > MAX_WIDTH + 1e-9) + TOO_BIG * (out.height > MAX_HEIGHT + 1e-9))

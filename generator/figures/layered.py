"""A small layered (Sugiyama-style) layout: columns given, rows ordered to cut crossings
(ordering.py), long edges routed through one dummy point per column they cross
(routing.py), rows placed by isotonic regression (as straight as the minimum spacing
allows), labels put in the first free, unambiguous spot around their node (labels.py)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..floats import left_sum
from . import labels, ordering, routing, rows
from .geometry import Box, Label, Layout, Shape
from .metrics import MathText


@dataclass
class LabelSpec:
    text: MathText
    size: float          # points
    prefer: str          # "above" or "below" (the first spot tried, and room reserved), or "incoming"
    fill: str = ""       # Typst colour; "" for black
    required: bool = True  # False: left out unless a clean spot exists
    note: bool = False     # a name only the key shows (the question draws the same layout without it)


@dataclass
class NodeSpec:
    name: str
    kind: str            # "circle" or "box"
    text: MathText
    size: float          # points, of the text inside
    w: float
    h: float
    style: str
    col: int
    labels: list[LabelSpec] = field(default_factory=list)
    rank: int | None = None  # ranked nodes keep this order, top to bottom, in their column


@dataclass
class EdgeSpec:
    src: str
    dst: str
    tag: MathText | None = None   # operand cue near the arrow (a / b)
    port: int = 0                 # -1 / +1: arrive in the upper / lower half of the target


@dataclass(frozen=True)
class Params:
    max_width: float = 15.0
    gap: float = 2.0            # preferred horizontal gap between columns
    min_gap: float = 0.9
    row_gap: float = 0.45       # vertical clearance between nodes of a column
    dummy_gap: float = 0.25     # clearance around an edge's pass-through point
    sweeps: int = 12
    straight: float = 0.1       # ordering tie-break: cost of an edge's change in relative height
    reorder: bool = True        # False keeps the given order (mlp: the text's unit order)
    label_pad: float = 0.06
    port_angle: float = 90.0    # edges meet circles within this many degrees of the horizontal
    split_angle: float = 15.0   # operand edges meet their half at least this far off the horizontal
    margin: float = 0.08


LABEL_H = 0.45  # cm: a 9pt math line with sub- or superscript room
TAG_PT = 7.0
TAG_H = 0.22  # cm: a 7pt letter, cap height to baseline (a, b: no descender)


def label_size(spec: LabelSpec) -> tuple[float, float]:
    return spec.text.width(spec.size) + 0.1, LABEL_H * spec.size / 9


@dataclass
class _Item:
    key: str
    col: int
    up: float        # extent above the centre (node plus reserved label)
    down: float
    node: NodeSpec | None = None
    y: float = 0.0


def _chains(nodes: dict[str, NodeSpec], edges: list[EdgeSpec]) -> list[list[str]]:
    """Per edge, the item keys it passes: source, one dummy per inner column, target."""
    chains = []
    for i, e in enumerate(edges):
        a, b = nodes[e.src].col, nodes[e.dst].col
        if b <= a:
            raise ValueError(f"edge {e.src}->{e.dst} does not go rightwards")
        chains.append([e.src] + [f"~{i}:{c}" for c in range(a + 1, b)] + [e.dst])
    return chains


def layout(nodes: list[NodeSpec], edges: list[EdgeSpec], p: Params, orders: dict | None = None) -> Layout:
    """Lay out (``rows`` then ``draw``). ``orders`` keeps the row orders between calls on
    the same nodes and edges (they depend on the sweeps alone)."""
    orders = {} if orders is None else orders
    return draw(nodes, edges, p, rows_of(nodes, edges, p, orders))


def draw(nodes: list[NodeSpec], edges: list[EdgeSpec], p: Params, placed: "_Rows") -> Layout:
    """Draw placed rows with the columns spread over max_width less the margins (and a
    hair to spare); when labels overhang the columns past max_width, narrow the column
    span by the overhang and draw again (the rows stay: they do not depend on the width).
    The margins always add 2 * margin, so leaving room for them at once saves the drawing
    that would only find that out (most graph (b) figures were drawn twice)."""
    span = p.max_width - 2 * p.margin - 0.01
    out = _draw(nodes, edges, replace(p, max_width=span), placed)
    for _ in range(3):
        if out.width <= p.max_width + 1e-9:
            break
        narrower = span - (out.width - p.max_width + 0.01)
        if _column_gap(p, narrower, placed) == _column_gap(p, span, placed):
            break  # the gaps are at their minimum already: the same drawing again
        span = narrower
        out = _draw(nodes, edges, replace(p, max_width=span), placed)
    return out


def _column_gap(p: Params, span: float, placed: "_Rows") -> float:
    """The gap between columns that spreads them over ``span``, within [min_gap, gap]."""
    widths = placed.widths()
    return max(p.min_gap, min(p.gap, (span - left_sum(widths)) / max(len(widths) - 1, 1)))


@dataclass
class _Rows:
    cols: list[list[str]]   # item keys per column, top to bottom
    items: dict[str, _Item]
    chains: list[list[str]]

    def widths(self) -> list[float]:
        """Each column's width: its widest node."""
        return [max((self.items[k].node.w for k in keys if self.items[k].node), default=0.0) for keys in self.cols]

    def min_height(self, margin: float) -> float:
        """A lower bound on the drawing's height: the nodes alone (their heights do not
        change when drawn), with the margins."""
        nodes = [it for it in self.items.values() if it.node is not None]
        return (max(it.y + it.node.h / 2 for it in nodes) - min(it.y - it.node.h / 2 for it in nodes)
                + 2 * margin)


def rows_of(nodes: list[NodeSpec], edges: list[EdgeSpec], p: Params, orders: dict) -> _Rows:
    """Every node's column and height, and the pass-through points of long edges."""
    by_name = {n.name: n for n in nodes}
    chains = _chains(by_name, edges)
    ncols = max(n.col for n in nodes) + 1
    items: dict[str, _Item] = {}
    cols: list[list[str]] = [[] for _ in range(ncols)]
    for n in nodes:
        up = n.h / 2 + left_sum(label_size(s)[1] + p.label_pad for s in n.labels if s.prefer == "above")
        down = n.h / 2 + left_sum(label_size(s)[1] + p.label_pad for s in n.labels if s.prefer == "below")
        items[n.name] = _Item(n.name, n.col, up, down, n)
        cols[n.col].append(n.name)
    for chain in chains:
        for k in chain[1:-1]:
            c = int(k.rsplit(":", 1)[1])
            items[k] = _Item(k, c, 0.0, 0.0)
            cols[c].append(k)
    links = [(a, b) for chain in chains for a, b in zip(chain, chain[1:])]
    if p.reorder and (p.sweeps, p.straight) in orders:
        cols = [list(keys) for keys in orders[(p.sweeps, p.straight)]]
    elif p.reorder:
        ranks = {n.name: n.rank for n in nodes if n.rank is not None}
        # an upper-port edge should come from above its lower-port sibling
        ends = {(e.dst, e.port): chain[-2] for e, chain in zip(edges, chains) if e.port}
        pairs = [(ends[(dst, -1)], ends[(dst, 1)]) for dst, port in ends if port == -1
                 and (dst, 1) in ends and ends[(dst, -1)] != ends[(dst, 1)]]
        cols = ordering.order(cols, links, p.sweeps, ranks, pairs, p.straight)
        orders[(p.sweeps, p.straight)] = [list(keys) for keys in cols]
    ys = rows.place(cols, {k: it.up for k, it in items.items()}, {k: it.down for k, it in items.items()},
                    {k: it.node is not None for k, it in items.items()}, links, p.row_gap, p.dummy_gap,
                    center=not p.reorder)
    for k, it in items.items():
        it.y = ys[k]
    return _Rows(cols, items, chains)


def _draw(nodes: list[NodeSpec], edges: list[EdgeSpec], p: Params, placed: _Rows) -> Layout:
    items, chains = placed.items, placed.chains
    widths = placed.widths()
    box_width: dict[int, float] = {}  # the leaf boxes of a column share one width: a tidy column, one right edge
    for n in nodes:
        if n.kind == "box":
            box_width[n.col] = max(box_width.get(n.col, n.w), n.w)
    for n in nodes:
        if n.kind == "box":
            n.w = box_width[n.col]
    gap = _column_gap(p, p.max_width, placed)
    xs, x = [], 0.0
    for c, w in enumerate(widths):
        x += w / 2
        xs.append(x)
        x += w / 2 + gap

    out = Layout(0.0, 0.0)
    for n in nodes:
        out.shapes.append(Shape(n.name, n.kind, xs[n.col], items[n.name].y, n.w, n.h, n.text.markup, n.style, n.size))
    shape = {s.name: s for s in out.shapes}
    obstacles = [(s.name, s.box.grown(0.08)) for s in out.shapes]
    for n in nodes:  # keep the reserved label room free of shortcut edges
        s = shape[n.name]
        if any(lab.prefer == "above" for lab in n.labels):
            obstacles.append((n.name, Box(s.cx - 0.3, s.cy - items[n.name].up, s.cx + 0.3, s.cy)))
        if any(lab.prefer == "below" for lab in n.labels):
            obstacles.append((n.name, Box(s.cx - 0.3, s.cy, s.cx + 0.3, s.cy + items[n.name].down)))
    routes = []
    for e, chain in zip(edges, chains):
        src, dst = shape[e.src], shape[e.dst]
        via = [(src.cx, src.cy)]
        for k in chain[1:-1]:  # cross a column level, so that steep runs stay in the gaps
            c = items[k].col
            via += [(xs[c] - widths[c] / 2, items[k].y), (xs[c] + widths[c] / 2, items[k].y)]
        via.append((dst.cx, dst.cy))
        routes.append(routing.Route(src, dst, via, obstacles, e.port))  # its ends' own obstacles do not count
    routing.spread_box_exits(routes)
    natural = [routing.route(r, p.port_angle, p.split_angle, port=0) if r.port else None for r in routes]
    ports = routing.operand_ports(routes, natural)
    out.edges = [routing.route(r, p.port_angle, p.split_angle, port) for r, port in zip(routes, ports)]

    # Operand tags first: which operand is which decides the answer; names have more room.
    scene = labels.Scene(out)
    for e, edge, port in zip(edges, out.edges, ports):
        if e.tag is not None:
            w, h = e.tag.width(TAG_PT) + 0.06, TAG_H
            label = Label(f"{e.src}->{e.dst}", e.tag.markup, 0.0, 0.0, w, h, TAG_PT, "tag")
            mark = len(out.labels)
            if labels.place_label(label, labels.tag_spots(edge, shape[e.dst], w, h, port), out, 0.03,
                                  scene=scene):
                backed = replace(label, backed=True)
                if labels.place_label(backed, labels.on_edge_spots(edge, w, h), out, 0.03, required=False,
                                      scene=scene) == 0:
                    del out.labels[mark]  # the clean spot on the edge replaces the harmful one
    # Then each node's labels: its optional note (an mlp unit's z) first, so that its names
    # make room for it, unless that leaves a name no clean spot; then the note only fits in.
    for n in nodes:
        notes = [spec for spec in n.labels if not spec.required]
        names = [spec for spec in n.labels if spec.required]
        mark = len(out.labels)
        box = shape[n.name].box
        costs = [_place(n, box, spec, out, p, scene) for spec in notes + names]
        if notes and any(costs[len(notes):]):
            del out.labels[mark:]
            for spec in names + notes:
                _place(n, box, spec, out, p, scene)
    _normalize(out, p.margin)
    return out


def _place(n: NodeSpec, box: Box, spec: LabelSpec, out: Layout, p: Params, scene: labels.Scene) -> float | None:
    """Place a label of node n, whose shape's box is ``box``."""
    w, h = label_size(spec)
    label = Label(n.name, spec.text.markup, 0.0, 0.0, w, h, spec.size, "note" if spec.note else "name", spec.fill)
    spots = labels.candidates(box, w, h, spec.prefer, 2 * p.label_pad)
    return labels.place_label(label, spots, out, p.label_pad, spec.required, scene)


def _normalize(out: Layout, margin: float) -> None:
    boxes = [s.box for s in out.shapes] + [lab.box for lab in out.labels]
    pts = [pt for e in out.edges for pt in e.points]
    # (b[0], not b.x0: a NamedTuple's attributes cost more than indexing)
    x0 = min([b[0] for b in boxes] + [x for x, _ in pts])
    y0 = min([b[1] for b in boxes] + [y for _, y in pts])
    x1 = max([b[2] for b in boxes] + [x for x, _ in pts])
    y1 = max([b[3] for b in boxes] + [y for _, y in pts])
    out.translate(margin - x0, margin - y0)
    out.width, out.height = x1 - x0 + 2 * margin, y1 - y0 + 2 * margin

"""A small layered (Sugiyama-style) layout: columns given, rows ordered by barycentre
sweeps, long edges routed through one dummy point per column they cross, rows placed
by isotonic regression (as straight as the minimum spacing allows), labels put in the
first free spot around their node."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import labels
from .geometry import Box, Edge, Layout, Shape, segment_hits_box
from .metrics import MathText


@dataclass
class LabelSpec:
    text: MathText
    size: float          # points
    prefer: str          # "above" or "below": the first spot tried, and the one reserved


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


@dataclass
class EdgeSpec:
    src: str
    dst: str
    tag: MathText | None = None   # operand cue near the arrow (a / b)


@dataclass(frozen=True)
class Params:
    max_width: float = 15.0
    gap: float = 2.0            # preferred horizontal gap between columns
    min_gap: float = 0.9
    row_gap: float = 0.45       # vertical clearance between nodes of a column
    dummy_gap: float = 0.25     # clearance around an edge's pass-through point
    sweeps: int = 12
    reorder: bool = True        # False keeps the given order (mlp: the text's unit order)
    label_pad: float = 0.06
    port_angle: float = 90.0    # edges meet circles within this many degrees of the horizontal
    margin: float = 0.08


LABEL_H = 0.45  # cm: a 9pt math line with sub- or superscript room


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


def _crossings(cols: list[list[str]], links: list[tuple[str, str]], pos: dict[str, int]) -> int:
    by_col: dict[int, list[tuple[int, int]]] = {}
    col_of = {k: c for c, keys in enumerate(cols) for k in keys}
    for a, b in links:
        by_col.setdefault(col_of[a], []).append((pos[a], pos[b]))
    total = 0
    for pairs in by_col.values():
        for i, (a1, b1) in enumerate(pairs):
            for a2, b2 in pairs[i + 1:]:
                total += (a1 - a2) * (b1 - b2) < 0
    return total


def _order(cols: list[list[str]], links: list[tuple[str, str]], sweeps: int) -> list[list[str]]:
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for a, b in links:
        succs.setdefault(a, []).append(b)
        preds.setdefault(b, []).append(a)

    def positions(cs):
        return {k: i for keys in cs for i, k in enumerate(keys)}

    best = [list(c) for c in cols]
    best_cross = _crossings(best, links, positions(best))
    cur = [list(c) for c in cols]
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        rng = range(1, len(cur)) if down else range(len(cur) - 2, -1, -1)
        for c in rng:
            pos = positions(cur)
            nbrs = preds if down else succs

            def key(k, pos=pos, nbrs=nbrs, c=c):
                ns = nbrs.get(k, [])
                if not ns:
                    return (pos[k], pos[k])
                return (sum(pos[n] for n in ns) / len(ns), pos[k])
            cur[c] = sorted(cur[c], key=key)
        cross = _crossings(cur, links, positions(cur))
        if cross < best_cross:
            best, best_cross = [list(c) for c in cur], cross
    return best


def _isotonic(targets: list[float], weights: list[float], seps: list[float]) -> list[float]:
    """Least squares y close to targets with y[i+1] - y[i] >= seps[i] (pool adjacent violators)."""
    offs = [0.0]
    for s in seps:
        offs.append(offs[-1] + s)
    blocks: list[list[float]] = []  # [value, weight, count]
    for t, w, o in zip(targets, weights, offs):
        blocks.append([t - o, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    z = [v for v, _, n in blocks for _ in range(n)]
    return [zi + o for zi, o in zip(z, offs)]


def _place_rows(cols, items: dict[str, _Item], links, p: Params, center: bool) -> None:
    def sep(a: _Item, b: _Item) -> float:
        gap = p.row_gap if (a.node and b.node) else p.dummy_gap
        return a.down + b.up + gap

    for keys in cols:
        y = 0.0
        for i, k in enumerate(keys):
            if i:
                y += sep(items[keys[i - 1]], items[k])
            items[k].y = y
        mid = (items[keys[0]].y + items[keys[-1]].y) / 2 if keys else 0.0
        for k in keys:
            items[k].y -= mid
    if center:
        return
    nbrs: dict[str, list[str]] = {}
    for a, b in links:
        nbrs.setdefault(a, []).append(b)
        nbrs.setdefault(b, []).append(a)
    for it in range(16):
        order = range(len(cols)) if it % 2 == 0 else range(len(cols) - 1, -1, -1)
        for c in order:
            keys = cols[c]
            if not keys:
                continue
            targets, weights = [], []
            for k in keys:
                ns = nbrs.get(k, [])
                cur = items[k].y
                targets.append((sum(items[n].y for n in ns) + 0.3 * cur) / (len(ns) + 0.3) if ns else cur)
                weights.append(4.0 if items[k].node is None else 1.0)  # straighten long edges first
            seps = [sep(items[a], items[b]) for a, b in zip(keys, keys[1:])]
            for k, y in zip(keys, _isotonic(targets, weights, seps)):
                items[k].y = y


def _route(points, start, end, obstacles: list[Box]):
    """The edge's polyline: bend points dropped wherever the straight shortcut stays clear
    of every obstacle. start(p) / end(p) give the port on the source / target facing p."""
    last = len(points) - 1

    def seg(i, j):
        a = start(points[j]) if i == 0 else points[i]
        b = end(a) if j == last else points[j]
        return a, b

    kept = [0]
    i = 0
    while i < last:
        j = last
        while j > i + 1 and any(segment_hits_box(*seg(i, j), b) for b in obstacles):
            j -= 1
        kept.append(j)
        i = j
    out = [points[k] for k in kept]
    out[0] = start(out[1])
    out[-1] = end(out[-2])
    return out


def layout(nodes: list[NodeSpec], edges: list[EdgeSpec], p: Params) -> Layout:
    """Lay out; when labels and margins overhang the columns past max_width, narrow the
    column span by the overhang and lay out again."""
    out = _layout(nodes, edges, p)
    span = p.max_width
    for _ in range(3):
        if out.width <= p.max_width + 1e-9:
            break
        span -= out.width - p.max_width + 0.01
        out = _layout(nodes, edges, replace(p, max_width=span))
    return out


def _layout(nodes: list[NodeSpec], edges: list[EdgeSpec], p: Params) -> Layout:
    by_name = {n.name: n for n in nodes}
    chains = _chains(by_name, edges)
    ncols = max(n.col for n in nodes) + 1
    items: dict[str, _Item] = {}
    cols: list[list[str]] = [[] for _ in range(ncols)]
    for n in nodes:
        up = n.h / 2 + sum(label_size(s)[1] + p.label_pad for s in n.labels if s.prefer == "above")
        down = n.h / 2 + sum(label_size(s)[1] + p.label_pad for s in n.labels if s.prefer == "below")
        items[n.name] = _Item(n.name, n.col, up, down, n)
        cols[n.col].append(n.name)
    for chain in chains:
        for k in chain[1:-1]:
            c = int(k.rsplit(":", 1)[1])
            items[k] = _Item(k, c, 0.0, 0.0)
            cols[c].append(k)
    links = [(a, b) for chain in chains for a, b in zip(chain, chain[1:])]
    if p.reorder:
        cols = _order(cols, links, p.sweeps)
    _place_rows(cols, items, links, p, center=not p.reorder)

    widths = [max((items[k].node.w for k in keys if items[k].node), default=0.0) for keys in cols]
    for n in nodes:  # the leaf boxes of a column share one width: a tidy column, one right edge
        if n.kind == "box":
            n.w = max(m.w for m in nodes if m.kind == "box" and m.col == n.col)
    gap = max(p.min_gap, min(p.gap, (p.max_width - sum(widths)) / max(ncols - 1, 1)))
    xs, x = [], 0.0
    for c, w in enumerate(widths):
        x += w / 2
        xs.append(x)
        x += w / 2 + gap

    out = Layout(0.0, 0.0)
    for n in nodes:
        out.shapes.append(Shape(n.name, n.kind, xs[n.col], items[n.name].y, n.w, n.h, n.text.markup, n.style, n.size))
    obstacles = [(s.name, s.box.grown(0.08)) for s in out.shapes]
    for n in nodes:  # keep the reserved label room free of shortcut edges
        s = out.shape(n.name)
        if any(lab.prefer == "above" for lab in n.labels):
            obstacles.append((n.name, Box(s.cx - 0.3, s.cy - items[n.name].up, s.cx + 0.3, s.cy)))
        if any(lab.prefer == "below" for lab in n.labels):
            obstacles.append((n.name, Box(s.cx - 0.3, s.cy, s.cx + 0.3, s.cy + items[n.name].down)))
    for e, chain in zip(edges, chains):
        src, dst = out.shape(e.src), out.shape(e.dst)
        pts = [(src.cx, src.cy)]
        for k in chain[1:-1]:  # cross a column level, so that steep runs stay in the gaps
            c = items[k].col
            pts += [(xs[c] - widths[c] / 2, items[k].y), (xs[c] + widths[c] / 2, items[k].y)]
        pts.append((dst.cx, dst.cy))
        others = [b for owner, b in obstacles if owner not in (e.src, e.dst)]

        # A box sends its edges from the middle of its right side, so that a steep edge
        # never grazes the box above or below it.
        def start(q, src=src):
            return (src.cx + src.w / 2, src.cy) if src.kind == "box" else src.boundary_toward(q, p.port_angle)
        pts = _route(pts, start, lambda q, dst=dst: dst.boundary_toward(q, p.port_angle), others)
        out.edges.append(Edge(e.src, e.dst, pts))

    for n in nodes:
        s = out.shape(n.name)
        for spec in n.labels:
            w, h = label_size(spec)
            cands = labels.candidates(s.box, w, h, spec.prefer, 2 * p.label_pad)
            labels.place_label(n.name, spec.text.markup, spec.size, w, h, cands, out, p.label_pad)
    for e, edge in zip(edges, out.edges):
        if e.tag is not None:
            w, h = e.tag.width(7) + 0.06, 0.3
            labels.place_label(f"{e.src}->{e.dst}", e.tag.markup, 7, w, h, list(labels.tag_candidates(edge, w, h)),
                         out, 0.03)
    _normalize(out, p.margin)
    return out


def _normalize(out: Layout, margin: float) -> None:
    boxes = [s.box for s in out.shapes] + [lab.box for lab in out.labels]
    pts = [pt for e in out.edges for pt in e.points]
    x0 = min([b.x0 for b in boxes] + [x for x, _ in pts])
    y0 = min([b.y0 for b in boxes] + [y for _, y in pts])
    x1 = max([b.x1 for b in boxes] + [x for x, _ in pts])
    y1 = max([b.y1 for b in boxes] + [y for _, y in pts])
    out.translate(margin - x0, margin - y0)
    out.width, out.height = x1 - x0 + 2 * margin, y1 - y0 + 2 * margin

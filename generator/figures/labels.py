"""Label placement: the first spot around a node (or beside an edge's last segment)
that covers no node, no label and no edge and clearly belongs to its owner; failing
that, the spot that does least harm."""
from __future__ import annotations

import math

from . import clarity
from .geometry import Box, Edge, Label, Layout, Shape, segment_hits_box


AMBIGUOUS = 50  # a label nearer something else than its owner misleads: worse than a crossing


def candidates(box: Box, w: float, h: float, prefer: str, gap: float):
    """Spots around a node box, best first. "above" / "below": a name or parameter label,
    straight above (below) the node, then nudged sideways or farther out, then beside;
    "incoming": a small note on the node's left (incoming) shoulder. Made as they are
    tried (the first spot or two is usually clean)."""
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    if prefer == "incoming":
        r = (box.x1 - box.x0) / 2
        for angle in (50, -50, 60, -60, 40, -40, 70, -70):
            a = math.radians(angle)
            for extra in (0.08, 0.16):
                # the centre sits where the label's box just clears the circle in that direction
                reach = r + extra + abs(w / 2 * math.cos(a)) + abs(h / 2 * math.sin(a))
                yield cx - reach * math.cos(a), cy - reach * math.sin(a)
        return
    above, below = box.y0 - gap - h / 2, box.y1 + gap + h / 2
    right, left = box.x1 + gap + w / 2, box.x0 - gap - w / 2
    near, far = (above, below) if prefer == "above" else (below, above)
    step = -1 if prefer == "above" else 1  # moving away from the node
    yield cx, near
    for lift in (0.0, 0.12, 0.24):
        for dx in (0.15, -0.15, 0.3, -0.3):
            yield cx + dx, near + step * lift
        if lift:
            yield cx, near + step * lift
    yield from ((right - 0.1, near - step * 0.1), (left + 0.1, near - step * 0.1), (right, cy), (left, cy),
                (cx, far), (right - 0.1, far + step * 0.1), (left + 0.1, far + step * 0.1))


class Scene:
    """What a label must avoid, flattened once per layout (labels try many spots): node
    outlines, edge segments with their bounding boxes for a cheap first test, and the
    layout's labels as placed so far (read live: placing a label adds one)."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.flat = clarity.Flat(layout)
        self.shapes = self.flat.shapes  # per node: name, box edges, outline (clarity.flat_shapes)
        self.segments = []  # (bounding box..., p, q, owner)
        for e in layout.edges:
            owner = f"{e.src}->{e.dst}"
            for p, q in zip(e.points, e.points[1:]):
                lo_x, hi_x = (p[0], q[0]) if p[0] < q[0] else (q[0], p[0])  # (only compared)
                lo_y, hi_y = (p[1], q[1]) if p[1] < q[1] else (q[1], p[1])
                self.segments.append((lo_x, lo_y, hi_x, hi_y, p, q, owner))
        self._padded: dict[float, list[tuple]] = {}

    def _padded_shapes(self, pad: float) -> list[tuple]:
        """The shapes with their boxes' left and top edges less ``pad`` (a label's pad:
        one or two values per layout, each tried against many spots)."""
        padded = self._padded.get(pad)
        if padded is None:
            padded = [(sx0 - pad, sy0 - pad, sx1, sy1, outline) for _, sx0, sy0, sx1, sy1, outline in self.shapes]
            self._padded[pad] = padded
        return padded

    def cost(self, box: Box, pad: float, bound: float, skip_edge: str | None = None) -> float:
        """Collision cost of ``box``: 100 per node or label it covers (far worse than an
        edge crossing it), 1 per edge segment through it (but ``skip_edge``'s); stops
        once it reaches ``bound``."""
        x0, y0, x1, y1 = box
        lo_x, lo_y = x0 - pad, y0 - pad
        n = 0
        for px0, py0, sx1, sy1, outline in self._padded_shapes(pad):
            if lo_x < sx1 and px0 < x1 and lo_y < sy1 and py0 < y1 and clarity.outline_gap(box, *outline) < pad:
                n += 100
        for lab in self.layout.labels:
            lx, hw = lab.cx, lab.w / 2
            if lo_x < lx + hw and lx - hw - pad < x1:
                ly, hh = lab.cy, lab.h / 2
                if lo_y < ly + hh and ly - hh - pad < y1:
                    n += 100
        if n >= bound:
            return n
        g = pad / 2
        gx0, gy0, gx1, gy1 = grown = (x0 - g, y0 - g, x1 + g, y1 + g)  # a plain tuple: all segment_hits_box needs
        for mx0, my0, mx1, my1, p, q, owner in self.segments:
            if mx1 > gx0 and mx0 < gx1 and my1 > gy0 and my0 < gy1 and owner != skip_edge \
                    and segment_hits_box(p, q, grown):
                n += 1
                if n >= bound:
                    return n
        return n


def place_label(label: Label, spots, layout: Layout, pad: float, required: bool = True,
                scene: Scene | None = None) -> float | None:
    """Put ``label`` at the best of ``spots``; a label that is not required is left out
    unless some spot is clean. Returns the harm done (0: a clean spot), None if left out.
    ``scene``: the layout's, when the caller places many labels on one layout."""
    scene = Scene(layout) if scene is None else scene
    # a backed tag sits on its own edge, on a white patch: that edge does not count
    skip = label.owner if label.backed else None
    tag = label.kind == "tag"
    best = None
    for cx, cy in spots:
        box = Box.around(cx, cy, label.w, label.h)
        # a spot costing as much as the best so far cannot win (the first best spot does)
        bound = math.inf if best is None else best[0]
        cost = scene.cost(box, pad, bound, skip)
        if cost < bound:
            clear = (scene.flat.tag_is_clear((cx, cy), label.owner, clarity.TAG_MARGIN + 0.03) if tag
                     else scene.flat.name_is_clear(box, label.owner, clarity.NAME_MARGIN + 0.05))
            cost += AMBIGUOUS * (not clear)
        if best is None or cost < best[0]:
            best = (cost, cx, cy)
        if cost == 0:
            break
    if best is None or (best[0] and not required):
        return None
    label.cx, label.cy = best[1], best[2]
    layout.labels.append(label)
    return best[0]


def tag_spots(edge: Edge, target: Shape, w: float, h: float, side: int):
    """Spots for an operand tag, first on ``side`` of the edge (-1 above, +1 below, 0
    either: away from the sibling operand's edge): beside the arrowhead on the target's
    outline, then beside the edge's last segment, nearest the arrow first."""
    (x0, y0), (x1, y1) = edge.points[-2], edge.points[-1]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    nx, ny = (-uy, ux) if ux >= 0 else (uy, -ux)  # the normal pointing down (+y)
    backs = [b for b in (0.25, 0.35, 0.47, 0.6, 0.75, 0.9, 1.05, 1.2) if b <= length - 0.1] or [length / 2]
    clear = abs(nx) * w / 2 + abs(ny) * h / 2  # centre to line where the box just touches it
    for s in (side, -side) if side else (-1, 1):
        yield from _beside(x1, y1, ux, uy, s * nx, s * ny, clear + 0.04, backs)
        if target.kind == "circle":
            tip = math.atan2(y1 - target.cy, x1 - target.cx)
            turn = -1 if x1 < target.cx else 1  # turning this way moves the tip up the outline
            for degrees in (30, 40, 52, 66, 80):
                a = tip + s * turn * math.radians(degrees)
                c, d = math.cos(a), math.sin(a)
                reach = target.w / 2 + 0.05 + abs(w / 2 * c) + abs(h / 2 * d)
                yield target.cx + reach * c, target.cy + reach * d
        yield from _beside(x1, y1, ux, uy, s * nx, s * ny, clear + 0.13, backs)


def on_edge_spots(edge: Edge, w: float, h: float):
    """Last resort for a tag with no clear spot beside its edge: on the edge itself (drawn
    on a white patch that interrupts the line), behind the arrowhead."""
    (x0, y0), (x1, y1) = edge.points[-2], edge.points[-1]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    for back in (0.3, 0.4, 0.5, 0.65, 0.8, 1.0):
        if back + max(w, h) / 2 < length:
            yield x1 - ux * back, y1 - uy * back


def _beside(x1, y1, ux, uy, nx, ny, off, backs):
    for back in backs:
        yield x1 - ux * back + nx * off, y1 - uy * back + ny * off

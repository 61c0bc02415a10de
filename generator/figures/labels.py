"""Label placement: the first spot around a node (or beside an edge's arrow end) that
covers no node, no label and no edge; failing that, the spot that does least harm."""
from __future__ import annotations

import math

from .geometry import Box, Edge, Label, Layout, Shape, segment_hits_box


def candidates(box: Box, w: float, h: float, prefer: str, gap: float):
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    above, below = box.y0 - gap - h / 2, box.y1 + gap + h / 2
    right, left = box.x1 + gap + w / 2, box.x0 - gap - w / 2
    spots = {"above": (cx, above), "below": (cx, below),
             "above-right": (right - 0.1, above + 0.1), "below-right": (right - 0.1, below - 0.1),
             "above-left": (left + 0.1, above + 0.1), "below-left": (left + 0.1, below - 0.1),
             "right": (right, cy), "left": (left, cy)}
    order = ["above", "below"] if prefer == "above" else ["below", "above"]
    order += ["above-right", "above-left", "below-right", "below-left", "right", "left"]
    return [spots[k] for k in order]


def collisions(box: Box, shapes: list[Shape], labels: list[Label], edges: list[Edge], pad: float) -> int:
    # Covering a node or a label is far worse than being crossed by an edge.
    n = 100 * (sum(box.overlaps(s.box, pad) for s in shapes) + sum(box.overlaps(lab.box, pad) for lab in labels))
    grown = box.grown(pad / 2)
    return n + sum(segment_hits_box(p, q, grown) for e in edges for p, q in e.segments())


def place_label(owner, text, size, w, h, candidates, layout: Layout, pad: float) -> None:
    best = None
    for cx, cy in candidates:
        box = Box.around(cx, cy, w, h)
        cost = collisions(box, layout.shapes, layout.labels, layout.edges, pad)
        if best is None or cost < best[0]:
            best = (cost, cx, cy)
        if cost == 0:
            break
    layout.labels.append(Label(owner, text, best[1], best[2], w, h, size))


def tag_candidates(edge: Edge, w: float, h: float):
    (x0, y0), (x1, y1) = edge.points[-2], edge.points[-1]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    nx, ny = -uy, ux
    for extra in (0.09, 0.2):
        off = extra + max(w, h) / 2
        for back in (0.32, 0.5, 0.7, 0.22, 0.9, 1.1, 1.3):
            back = min(back, length * 0.8)
            for side in (1, -1):
                yield x1 - ux * back + side * nx * off, y1 - uy * back + side * ny * off

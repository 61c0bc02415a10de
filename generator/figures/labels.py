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
    "incoming": a small note on the node's left (incoming) shoulder."""
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    if prefer == "incoming":
        r = (box.x1 - box.x0) / 2
        out = []
        for angle in (50, -50, 60, -60, 40, -40, 70, -70):
            a = math.radians(angle)
            for extra in (0.08, 0.16):
                # the centre sits where the label's box just clears the circle in that direction
                reach = r + extra + abs(w / 2 * math.cos(a)) + abs(h / 2 * math.sin(a))
                out.append((cx - reach * math.cos(a), cy - reach * math.sin(a)))
        return out
    above, below = box.y0 - gap - h / 2, box.y1 + gap + h / 2
    right, left = box.x1 + gap + w / 2, box.x0 - gap - w / 2
    near, far = (above, below) if prefer == "above" else (below, above)
    step = -1 if prefer == "above" else 1  # moving away from the node
    out = [(cx, near)]
    for lift in (0.0, 0.12, 0.24):
        out += [(cx + dx, near + step * lift) for dx in (0.15, -0.15, 0.3, -0.3)]
        if lift:
            out.append((cx, near + step * lift))
    out += [(right - 0.1, near - step * 0.1), (left + 0.1, near - step * 0.1), (right, cy), (left, cy),
            (cx, far), (right - 0.1, far + step * 0.1), (left + 0.1, far + step * 0.1)]
    return out


def collisions(box: Box, shapes: list[Shape], labels: list[Label], edges: list[Edge], pad: float) -> int:
    # Covering a node or a label is far worse than being crossed by an edge.
    n = 100 * (sum(box.overlaps(s.box, pad) and s.gap_to(box) < pad for s in shapes)
               + sum(box.overlaps(lab.box, pad) for lab in labels))
    grown = box.grown(pad / 2)
    return n + sum(segment_hits_box(p, q, grown) for e in edges for p, q in e.segments())


def place_label(label: Label, spots, layout: Layout, pad: float, required: bool = True) -> float | None:
    """Put ``label`` at the best of ``spots``; a label that is not required is left out
    unless some spot is clean. Returns the harm done (0: a clean spot), None if left out."""
    best = None
    for cx, cy in spots:
        box = Box.around(cx, cy, label.w, label.h)
        # a backed tag sits on its own edge, on a white patch: that edge does not count
        edges = [e for e in layout.edges if not (label.backed and f"{e.src}->{e.dst}" == label.owner)]
        cost = collisions(box, layout.shapes, layout.labels, edges, pad)
        if label.kind == "tag":
            cost += AMBIGUOUS * (not clarity.tag_is_clear((cx, cy), label.owner, layout.edges,
                                                           clarity.TAG_MARGIN + 0.03))
        else:
            cost += AMBIGUOUS * (not clarity.name_is_clear(box, label.owner, layout.shapes,
                                                            clarity.NAME_MARGIN + 0.05))
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

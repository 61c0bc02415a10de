"""Plane geometry for the figures, in centimetres with y pointing down (as in Typst).

A :class:`Layout` is what the renderer draws and what the tests inspect: node
shapes, text labels and edge polylines, all with explicit boxes."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple

Point = tuple[float, float]
_new_tuple = tuple.__new__


class Box(NamedTuple):
    """An axis-parallel box (a tuple: cheap to make, which the label search does a lot)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @staticmethod
    def around(cx: float, cy: float, w: float, h: float) -> "Box":
        # tuple.__new__ straight away: Box(...) goes through a generated __new__ (a call
        # more), and the label search makes tens of thousands of boxes a student
        return _new_tuple(Box, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))

    def grown(self, pad: float) -> "Box":
        return _new_tuple(Box, (self.x0 - pad, self.y0 - pad, self.x1 + pad, self.y1 + pad))

    def overlaps(self, other: "Box", pad: float = 0.0) -> bool:
        return (self.x0 - pad < other.x1 and other.x0 - pad < self.x1
                and self.y0 - pad < other.y1 and other.y0 - pad < self.y1)

    def inside(self, width: float, height: float, eps: float = 1e-9) -> bool:
        return self.x0 >= -eps and self.y0 >= -eps and self.x1 <= width + eps and self.y1 <= height + eps


def segment_hits_box(p: Point, q: Point, box: Box) -> bool:
    """Whether the segment pq meets the (open) box: Liang-Barsky clipping."""
    (x0, y0), (x1, y1) = p, q
    bx0, by0, bx1, by1 = box
    # the segment's bounding box misses the open box: no crossing (the common case, cheaply)
    if (x0 <= bx0 and x1 <= bx0) or (x0 >= bx1 and x1 >= bx1) or (y0 <= by0 and y1 <= by0) \
            or (y0 >= by1 and y1 >= by1):
        return False
    # Clip t in [0, 1] by the box's four sides, unrolled (the label search's hottest test):
    # a side the segment runs parallel to cuts it off unless the segment lies inside it;
    # entering sides raise t0, leaving sides lower t1. Once t0 >= t1 it stays so (t0 only
    # rises, t1 only falls), so one test at the end decides as a test after each side did.
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    if abs(dx) < 1e-12:
        if x0 - bx0 <= 0 or bx1 - x0 <= 0:
            return False
    elif dx > 0:
        t = (x0 - bx0) / -dx
        if t > t0:
            t0 = t
        t = (bx1 - x0) / dx
        if t < t1:
            t1 = t
    else:
        t = (x0 - bx0) / -dx
        if t < t1:
            t1 = t
        t = (bx1 - x0) / dx
        if t > t0:
            t0 = t
    if abs(dy) < 1e-12:
        if y0 - by0 <= 0 or by1 - y0 <= 0:
            return False
    elif dy > 0:
        t = (y0 - by0) / -dy
        if t > t0:
            t0 = t
        t = (by1 - y0) / dy
        if t < t1:
            t1 = t
    else:
        t = (y0 - by0) / -dy
        if t < t1:
            t1 = t
        t = (by1 - y0) / dy
        if t > t0:
            t0 = t
    return t1 - t0 > 1e-9


def segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Proper crossing of segments ab and cd (shared endpoints do not count)."""
    def orient(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    d1, d2, d3, d4 = orient(c, d, a), orient(c, d, b), orient(a, b, c), orient(a, b, d)
    return d1 * d2 < -1e-12 and d3 * d4 < -1e-12


def point_segment_distance(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 < 1e-18:
        t = 0.0
    else:  # max(0.0, min(1.0, t)), without the calls
        t = ((px - ax) * dx + (py - ay) * dy) / length2
        t = t if t < 1.0 else 1.0
        t = t if t > 0.0 else 0.0
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def polyline_distance(p: Point, points: list[Point]) -> float:
    if len(points) == 2:  # most edges: one segment
        return point_segment_distance(p, points[0], points[1])
    return min(point_segment_distance(p, a, b) for a, b in zip(points, points[1:]))


def box_point_distance(box: "Box", p: Point) -> float:
    dx = max(box.x0 - p[0], 0.0, p[0] - box.x1)
    dy = max(box.y0 - p[1], 0.0, p[1] - box.y1)
    return math.hypot(dx, dy)


def box_gap(a: "Box", b: "Box") -> float:
    """The distance between two boxes (0 when they touch or overlap)."""
    dx = max(a.x0 - b.x1, 0.0, b.x0 - a.x1)
    dy = max(a.y0 - b.y1, 0.0, b.y0 - a.y1)
    return math.hypot(dx, dy)


@dataclass
class Shape:
    """A drawn node. kind: "circle" (op nodes, units) or "box" (leaves, the loss)."""

    name: str
    kind: str
    cx: float
    cy: float
    w: float
    h: float
    text: str    # Typst math markup shown inside
    style: str   # "input", "param", "op", "loss"
    size: float = 9.0  # points, of the text inside

    @property
    def box(self) -> Box:
        return Box.around(self.cx, self.cy, self.w, self.h)

    def gap_to(self, box: Box) -> float:
        """The distance from the drawn outline (circle or box) to a box."""
        if self.kind == "circle":
            return max(0.0, box_point_distance(box, (self.cx, self.cy)) - self.w / 2)
        return box_gap(self.box, box)

    def boundary_toward(self, p: Point, max_angle: float = 90.0, half: int = 0, min_angle: float = 0.0) -> Point:
        """The point where the ray from the centre toward p leaves the shape. On a
        circle the point stays within max_angle degrees of the horizontal, which keeps
        the space straight above and below free for labels; half=-1 (+1) keeps it in the
        upper (lower) half, at least min_angle degrees off the horizontal."""
        dx, dy = p[0] - self.cx, p[1] - self.cy
        if self.kind == "circle":
            r = self.w / 2
            angle = math.atan2(dy, abs(dx))
            limit = math.radians(max_angle)
            lo, hi = -limit, limit
            if half < 0:
                hi = -math.radians(min_angle)
            elif half > 0:
                lo = math.radians(min_angle)
            angle = angle if angle < hi else hi  # max(lo, min(hi, angle)), without the calls
            angle = angle if angle > lo else lo
            return self.cx + math.copysign(math.cos(angle) * r, dx or 1.0), self.cy + math.sin(angle) * r
        scale = min((self.w / 2) / abs(dx) if dx else math.inf, (self.h / 2) / abs(dy) if dy else math.inf)
        return self.cx + dx * scale, self.cy + dy * scale


@dataclass
class Label:
    """Text beside a node or an edge; the box is what it may not share with anything else.
    kind: "name" (names its owner node), "note" (names its owner node in the key only)
    or "tag" (marks the operand of the edge "src->dst" it is owned by); fill: a Typst
    colour, or "" for black."""

    owner: str
    text: str
    cx: float
    cy: float
    w: float
    h: float
    size: float  # points
    kind: str = "name"
    fill: str = ""
    backed: bool = False  # drawn on a white patch over its own edge (a tag with no room beside it)

    @property
    def box(self) -> Box:
        return Box.around(self.cx, self.cy, self.w, self.h)


@dataclass
class Edge:
    src: str
    dst: str
    points: list[Point]  # from the source's boundary to the arrow tip on the target's boundary

    def segments(self) -> list[tuple[Point, Point]]:
        return list(zip(self.points, self.points[1:]))


@dataclass
class Layout:
    width: float
    height: float
    shapes: list[Shape] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def shape(self, name: str) -> Shape:
        return next(s for s in self.shapes if s.name == name)

    def copy(self, notes: bool = True) -> "Layout":
        """An independent copy (a cached layout is never handed out itself); without the
        key's notes when ``notes`` is False, every other position unchanged."""
        return Layout(self.width, self.height, [replace(s) for s in self.shapes],
                      [replace(lab) for lab in self.labels if notes or lab.kind != "note"],
                      [Edge(e.src, e.dst, list(e.points)) for e in self.edges])

    def translate(self, dx: float, dy: float) -> None:
        for s in self.shapes:
            s.cx, s.cy = s.cx + dx, s.cy + dy
        for lab in self.labels:
            lab.cx, lab.cy = lab.cx + dx, lab.cy + dy
        for e in self.edges:
            e.points = [(x + dx, y + dy) for x, y in e.points]


def problems(layout: Layout, edge_clearance: float = 0.0) -> list[str]:
    """Every geometric defect of a layout, as readable strings (empty when clean):
    overlapping boxes (a circle's own outline against a label), an edge through a node other than its ends or through a label,
    anything outside the width and height."""
    found = []
    width, height = layout.width, layout.height
    shape_boxes = [s.box for s in layout.shapes]
    label_boxes = [lab.box for lab in layout.labels]
    boxes = shape_boxes + label_boxes
    owners = list(layout.shapes) + [None] * len(label_boxes)  # the shape of each box, if any
    overlapping = _overlapping_pairs(boxes)
    for i, a in enumerate(boxes):
        if not a.inside(width, height):
            found.append(f"{_what(layout, i)} outside the figure")
        for j in overlapping.get(i, ()):
            sa, b = owners[i], boxes[j]
            # a label may sit in the corner of a circle's bounding square, clear of the circle
            if sa is None or owners[j] is not None or sa.kind != "circle" or sa.gap_to(b) <= 0:
                found.append(f"{_what(layout, i)} overlaps {_what(layout, j)}")
    # (box edges..., the box, its owner): the edges unpacked for the cheap first test
    grown = [(*box, box, s.name) for s, box in zip(layout.shapes, (b.grown(edge_clearance) for b in shape_boxes))]
    labelled = [(*box, box, lab) for lab, box in zip(layout.labels, label_boxes)]
    shape = {}
    for s in reversed(layout.shapes):  # the first of a name, as Layout.shape finds it
        shape[s.name] = s
    fig_lo, fig_hi_x, fig_hi_y = -1e-9, width + 1e-9, height + 1e-9  # the figure's bounds (fig_lo: x and y)
    for e in layout.edges:
        points = e.points
        for p, q in zip(points, points[1:]):
            # boxes the segment's bounding box misses are skipped (segment_hits_box's own first test)
            lo_x, hi_x = (p[0], q[0]) if p[0] < q[0] else (q[0], p[0])
            lo_y, hi_y = (p[1], q[1]) if p[1] < q[1] else (q[1], p[1])
            for bx0, by0, bx1, by1, box, name in grown:
                if bx0 < hi_x and bx1 > lo_x and by0 < hi_y and by1 > lo_y \
                        and name not in (e.src, e.dst) and segment_hits_box(p, q, box):
                    found.append(f"edge {e.src}->{e.dst} passes through node {name}")
            for bx0, by0, bx1, by1, box, lab in labelled:
                if not (bx0 < hi_x and bx1 > lo_x and by0 < hi_y and by1 > lo_y):
                    continue
                if lab.backed and lab.owner == f"{e.src}->{e.dst}":
                    continue
                if segment_hits_box(p, q, box):
                    found.append(f"edge {e.src}->{e.dst} crosses label {lab.text} of {lab.owner}")
            for x, y in (p, q):
                if not (fig_lo <= x <= fig_hi_x and fig_lo <= y <= fig_hi_y):
                    found.append(f"edge {e.src}->{e.dst} leaves the figure")
        dst = shape[e.dst]
        (px, py), (tx, ty) = points[-2], points[-1]
        if dst.kind == "circle" and (px - tx) * (tx - dst.cx) + (py - ty) * (ty - dst.cy) <= 0:
            found.append(f"edge {e.src}->{e.dst} cuts through its target")
    return found


def _what(layout: Layout, i: int) -> str:
    """The i-th of the layout's shapes then labels, as problems names it."""
    if i < len(layout.shapes):
        return f"node {layout.shapes[i].name}"
    lab = layout.labels[i - len(layout.shapes)]
    return f"label {lab.text} of {lab.owner}"


def _overlapping_pairs(boxes: list[Box]) -> dict[int, list[int]]:
    """For each i, the j > i (ascending) whose box overlaps box i (Box.overlaps). Swept
    in order of left edge, every box's width being positive: a box is tested only
    against those that start before it ends, not against every other."""
    order = sorted(range(len(boxes)), key=lambda k: boxes[k][0])
    pairs: dict[int, list[int]] = {}
    for n, i in enumerate(order):
        ax0, ay0, ax1, ay1 = boxes[i]
        for j in order[n + 1:]:
            b = boxes[j]
            if b[0] >= ax1:
                break  # this box and every later one start past box i's right edge
            if ax0 < b[2] and ay0 < b[3] and b[1] < ay1:
                pairs.setdefault(min(i, j), []).append(max(i, j))
    for found in pairs.values():
        found.sort()
    return pairs

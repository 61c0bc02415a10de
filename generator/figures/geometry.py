"""Plane geometry for the figures, in centimetres with y pointing down (as in Typst).

A :class:`Layout` is what the renderer draws and what the tests inspect: node
shapes, text labels and edge polylines, all with explicit boxes."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @staticmethod
    def around(cx: float, cy: float, w: float, h: float) -> "Box":
        return Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)

    def grown(self, pad: float) -> "Box":
        return Box(self.x0 - pad, self.y0 - pad, self.x1 + pad, self.y1 + pad)

    def overlaps(self, other: "Box", pad: float = 0.0) -> bool:
        return (self.x0 - pad < other.x1 and other.x0 - pad < self.x1
                and self.y0 - pad < other.y1 and other.y0 - pad < self.y1)

    def inside(self, width: float, height: float, eps: float = 1e-9) -> bool:
        return self.x0 >= -eps and self.y0 >= -eps and self.x1 <= width + eps and self.y1 <= height + eps


def segment_hits_box(p: Point, q: Point, box: Box) -> bool:
    """Whether the segment pq meets the (open) box: Liang-Barsky clipping."""
    (x0, y0), (x1, y1) = p, q
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for denom, num in ((-dx, x0 - box.x0), (dx, box.x1 - x0), (-dy, y0 - box.y0), (dy, box.y1 - y0)):
        if abs(denom) < 1e-12:
            if num <= 0:
                return False
            continue
        t = num / denom
        if denom < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 >= t1:
            return False
    return t1 - t0 > 1e-9


def segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Proper crossing of segments ab and cd (shared endpoints do not count)."""
    def orient(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    d1, d2, d3, d4 = orient(c, d, a), orient(c, d, b), orient(a, b, c), orient(a, b, d)
    return d1 * d2 < -1e-12 and d3 * d4 < -1e-12


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

    def boundary_toward(self, p: Point, max_angle: float = 90.0) -> Point:
        """The point where the ray from the centre toward p leaves the shape. On a
        circle the point stays within max_angle degrees of the horizontal, which keeps
        the space straight above and below free for labels."""
        dx, dy = p[0] - self.cx, p[1] - self.cy
        norm = math.hypot(dx, dy) or 1.0
        if self.kind == "circle":
            r = self.w / 2
            angle = math.atan2(dy, abs(dx))
            limit = math.radians(max_angle)
            angle = max(-limit, min(limit, angle))
            return self.cx + math.copysign(math.cos(angle) * r, dx or 1.0), self.cy + math.sin(angle) * r
        scale = min((self.w / 2) / abs(dx) if dx else math.inf, (self.h / 2) / abs(dy) if dy else math.inf)
        return self.cx + dx * scale, self.cy + dy * scale


@dataclass
class Label:
    """Text beside a node or an edge; the box is what it may not share with anything else."""

    owner: str
    text: str
    cx: float
    cy: float
    w: float
    h: float
    size: float  # points

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

    def translate(self, dx: float, dy: float) -> None:
        for s in self.shapes:
            s.cx, s.cy = s.cx + dx, s.cy + dy
        for lab in self.labels:
            lab.cx, lab.cy = lab.cx + dx, lab.cy + dy
        for e in self.edges:
            e.points = [(x + dx, y + dy) for x, y in e.points]


def problems(layout: Layout, edge_clearance: float = 0.0) -> list[str]:
    """Every geometric defect of a layout, as readable strings (empty when clean):
    overlapping boxes, an edge through a node other than its ends or through a label,
    anything outside the width and height."""
    found = []
    boxes = [(f"node {s.name}", s.box) for s in layout.shapes] + \
            [(f"label {lab.text} of {lab.owner}", lab.box) for lab in layout.labels]
    for i, (na, a) in enumerate(boxes):
        if not a.inside(layout.width, layout.height):
            found.append(f"{na} outside the figure")
        for nb, b in boxes[i + 1:]:
            if a.overlaps(b):
                found.append(f"{na} overlaps {nb}")
    for e in layout.edges:
        for p, q in e.segments():
            for s in layout.shapes:
                if s.name not in (e.src, e.dst) and segment_hits_box(p, q, s.box.grown(edge_clearance)):
                    found.append(f"edge {e.src}->{e.dst} passes through node {s.name}")
            for lab in layout.labels:
                if segment_hits_box(p, q, lab.box):
                    found.append(f"edge {e.src}->{e.dst} crosses label {lab.text} of {lab.owner}")
            for x, y in (p, q):
                if not (-1e-9 <= x <= layout.width + 1e-9 and -1e-9 <= y <= layout.height + 1e-9):
                    found.append(f"edge {e.src}->{e.dst} leaves the figure")
    return found

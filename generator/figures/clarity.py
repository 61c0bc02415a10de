"""Whether each label clearly belongs to what it names: a name label must sit nearer
its own node than any other node, an operand tag nearer its own edge than any other
edge, each by a margin. A label that passes the collision checks can still mislead
(the tag "a" halfway between two arrows decides which operand is the numerator)."""
from __future__ import annotations

import math

from .geometry import Box, Edge, Layout, Point, Shape, polyline_distance, segments_cross

NAME_MARGIN = 0.25  # cm: other nodes at least this much farther than the own node
TAG_MARGIN = 0.08   # cm: other edges at least this much farther than the own edge


def _edge(owner: str, edges: list[Edge]) -> Edge:
    return next(e for e in edges if f"{e.src}->{e.dst}" == owner)


# The two tests, on shapes and edges flattened once per layout (label placement tries many
# spots; ambiguities checks every label): what is far enough by its bounding box alone
# needs no exact distance. tests/test_figures.py checks them against the plain definitions.

def flat_shapes(shapes: list[Shape]) -> list[tuple]:
    """Per node: name, box edges (x0, y0, x1, y1) and its outline: outline_gap's
    arguments after the box (whether a circle, centre, radius, box edges again)."""
    out = []
    for s in shapes:
        x0, y0, x1, y1 = s.box
        out.append((s.name, x0, y0, x1, y1, (s.kind == "circle", s.cx, s.cy, s.w / 2, x0, y0, x1, y1)))
    return out


def flat_edges(edges: list[Edge]) -> list[tuple]:
    """Per edge: owner ("src->dst"), bounding box (x0, y0, x1, y1) and points."""
    out = []
    for e in edges:
        xs, ys = [x for x, _ in e.points], [y for _, y in e.points]
        out.append((f"{e.src}->{e.dst}", min(xs), min(ys), max(xs), max(ys), e.points))
    return out


def outline_gap(box: Box, circle: bool, cx: float, cy: float, r: float,
                sx0: float, sy0: float, sx1: float, sy1: float) -> float:
    """Shape.gap_to, from flattened values: the same distances, with conditionals for
    max() (a zero's sign aside, which hypot ignores; label placement calls this a lot)."""
    x0, y0, x1, y1 = box
    if circle:
        dx, far = x0 - cx, cx - x1
        dy, low = y0 - cy, cy - y1
    else:
        dx, far = sx0 - x1, x0 - sx1
        dy, low = sy0 - y1, y0 - sy1
    if far > dx:
        dx = far
    if low > dy:
        dy = low
    gap = math.hypot(dx if dx > 0.0 else 0.0, dy if dy > 0.0 else 0.0)
    if circle:
        gap -= r
        return gap if gap > 0.0 else 0.0
    return gap


class Flat:
    """A layout's shapes and edges flattened once (flat_shapes, flat_edges, the edges at
    their first use), each found by its name, for the two tests on many labels."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.shapes = flat_shapes(layout.shapes)
        self.shape_of = _first_by_name(self.shapes)
        self._edges: list[tuple] | None = None
        self._edge_of: dict[str, tuple] = {}

    @property
    def edges(self) -> list[tuple]:
        if self._edges is None:
            self._edges = flat_edges(self.layout.edges)
            self._edge_of = _first_by_name(self._edges)
        return self._edges

    def name_is_clear(self, box: Box, owner: str, margin: float) -> bool:
        """Whether the name label ``box`` of node ``owner`` is nearer its own node than any
        other node by ``margin`` (on the flattened shapes)."""
        need = outline_gap(box, *self.shape_of[owner][5]) + margin
        far_enough = need + 1e-9
        x0, y0, x1, y1 = box
        for name, sx0, sy0, sx1, sy1, outline in self.shapes:
            if name == owner:
                continue
            # A shape lies inside its box, so it is at least as far as the box in x or y
            # alone: a box that far needs no exact distance (the allowance: rounding never decides).
            if sx0 - x1 >= far_enough or x0 - sx1 >= far_enough or sy0 - y1 >= far_enough or y0 - sy1 >= far_enough:
                continue
            if outline_gap(box, *outline) < need:
                return False
        return True

    def tag_is_clear(self, center: Point, owner: str, margin: float) -> bool:
        """Whether the operand tag at ``center`` of edge ``owner`` ("src->dst") is nearer
        its own edge than any other edge by ``margin`` (on the flattened edges); an edge
        whose bounding box is already far enough needs no exact distance."""
        edges = self.edges
        px, py = center
        need = polyline_distance(center, self._edge_of[owner][5]) + margin
        far_enough = need + 1e-9
        for name, ex0, ey0, ex1, ey1, pts in edges:
            if name == owner:
                continue
            # the distance to the bounding box: max(ex0 - px, 0.0, px - ex1) and its like,
            # without the calls (a zero's sign aside, which hypot ignores)
            dx, far = ex0 - px, px - ex1
            dy, low = ey0 - py, py - ey1
            if far > dx:
                dx = far
            if low > dy:
                dy = low
            if dx >= far_enough or dy >= far_enough:
                continue  # the hypot below is at least either (far_enough > 0): the same answer
            if math.hypot(dx if dx > 0.0 else 0.0, dy if dy > 0.0 else 0.0) >= far_enough:
                continue  # (the allowance: rounding never decides)
            if polyline_distance(center, pts) < need:
                return False
        return True


def _first_by_name(flat: list[tuple]) -> dict[str, tuple]:
    """Each name's first entry (as next() over the list finds it)."""
    by_name = {}
    for entry in reversed(flat):
        by_name[entry[0]] = entry
    return by_name


def ambiguities(layout: Layout, name_margin: float = NAME_MARGIN, tag_margin: float = TAG_MARGIN) -> list[str]:
    """Every label that does not clearly belong to its owner, as readable strings."""
    found = []
    flat = Flat(layout)
    for lab in layout.labels:
        if lab.kind == "tag":
            if not flat.tag_is_clear((lab.cx, lab.cy), lab.owner, tag_margin):
                found.append(f"tag {lab.text} of edge {lab.owner} is as near another edge")
        elif not flat.name_is_clear(lab.box, lab.owner, name_margin):
            found.append(f"label {lab.text} of {lab.owner} is as near another node")
    tagged = [_edge(lab.owner, layout.edges) for lab in layout.labels if lab.kind == "tag"]
    for i, e in enumerate(tagged):
        for f in tagged[i + 1:]:
            if e.dst == f.dst and any(segments_cross(p, q, r, t) for p, q in e.segments() for r, t in f.segments()):
                found.append(f"operand edges {e.src}->{e.dst} and {f.src}->{f.dst} cross")
    return found

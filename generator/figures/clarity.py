"""Whether each label clearly belongs to what it names: a name label must sit nearer
its own node than any other node, an operand tag nearer its own edge than any other
edge, each by a margin. A label that passes the collision checks can still mislead
(the tag "a" halfway between two arrows decides which operand is the numerator)."""
from __future__ import annotations

from .geometry import Box, Edge, Layout, Shape, polyline_distance, segments_cross

NAME_MARGIN = 0.25  # cm: other nodes at least this much farther than the own node
TAG_MARGIN = 0.08   # cm: other edges at least this much farther than the own edge


def name_is_clear(box: Box, owner: str, shapes: list[Shape], margin: float = NAME_MARGIN) -> bool:
    own = next(s for s in shapes if s.name == owner).gap_to(box)
    return all(s.gap_to(box) >= own + margin for s in shapes if s.name != owner)


def tag_is_clear(center: tuple[float, float], owner: str, edges: list[Edge], margin: float = TAG_MARGIN) -> bool:
    own = polyline_distance(center, _edge(owner, edges).points)
    return all(polyline_distance(center, e.points) >= own + margin
               for e in edges if f"{e.src}->{e.dst}" != owner)


def _edge(owner: str, edges: list[Edge]) -> Edge:
    return next(e for e in edges if f"{e.src}->{e.dst}" == owner)


def ambiguities(layout: Layout, name_margin: float = NAME_MARGIN, tag_margin: float = TAG_MARGIN) -> list[str]:
    """Every label that does not clearly belong to its owner, as readable strings."""
    found = []
    for lab in layout.labels:
        if lab.kind == "tag":
            if not tag_is_clear((lab.cx, lab.cy), lab.owner, layout.edges, tag_margin):
                found.append(f"tag {lab.text} of edge {lab.owner} is as near another edge")
        elif not name_is_clear(lab.box, lab.owner, layout.shapes, name_margin):
            found.append(f"label {lab.text} of {lab.owner} is as near another node")
    tagged = [_edge(lab.owner, layout.edges) for lab in layout.labels if lab.kind == "tag"]
    for i, e in enumerate(tagged):
        for f in tagged[i + 1:]:
            if e.dst == f.dst and any(segments_cross(p, q, r, t) for p, q in e.segments() for r, t in f.segments()):
                found.append(f"operand edges {e.src}->{e.dst} and {f.src}->{f.dst} cross")
    return found

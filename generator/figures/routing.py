"""Edge routes: polylines through the column levels an edge crosses, shortened wherever
a straight run stays clear, leaving a box from its right side and meeting a circle
within the port angle (in the upper or lower half for the two operands of a - b, a / b)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from .geometry import Box, Edge, Point, Shape, segment_hits_box

BOX_PORT_STEP = 0.11  # cm between the exit points of a box's edges


@dataclass
class Route:
    """What one edge needs: its ends, the points it passes (centre, column levels, centre),
    the obstacles it must avoid (each with its owner: those of its own ends do not count),
    the half of the target it arrives in (-1 upper, +1 lower)."""
    src: Shape
    dst: Shape
    via: list[Point]
    obstacles: list[tuple[str, Box]]
    port: int = 0
    exit_dy: float = 0.0  # from a box: height of the exit point relative to the centre


def shorten(points, start, end, obstacles: list[tuple[str, Box]], ignore: tuple[str, ...] = ()):
    """The polyline: bend points dropped wherever the straight shortcut stays clear of
    every obstacle (but those owned by a name in ``ignore``). start(p) / end(p) give the
    port on the source / target facing p."""
    last = len(points) - 1

    def seg(i, j):
        a = start(points[j]) if i == 0 else points[i]
        b = end(a) if j == last else points[j]
        return a, b

    kept = [0]
    i = 0
    while i < last:
        j = last
        while j > i + 1:
            a, b = seg(i, j)
            if _clear(a, b, obstacles, ignore):
                break
            j -= 1
        kept.append(j)
        i = j
    out = [points[k] for k in kept]
    out[0] = start(out[1])
    out[-1] = end(out[-2])
    return out


def _clear(a: Point, b: Point, obstacles: list[tuple[str, Box]], ignore: tuple[str, ...]) -> bool:
    """Whether the segment ab misses every obstacle not owned by a name in ``ignore``.
    Only the boxes its bounding box overlaps are tested (segment_hits_box's own first
    test, done here without a call for each of the others), the owner after that."""
    lo_x, hi_x = (a[0], b[0]) if a[0] < b[0] else (b[0], a[0])
    lo_y, hi_y = (a[1], b[1]) if a[1] < b[1] else (b[1], a[1])
    for owner, box in obstacles:
        if box[0] < hi_x and box[2] > lo_x and box[1] < hi_y and box[3] > lo_y and owner not in ignore \
                and segment_hits_box(a, b, box):
            return False
    return True


def route(r: Route, port_angle: float, split_angle: float, port: int | None = None) -> Edge:
    half = r.port if port is None else port

    # A box sends its edges from its right side, near the middle, so that a steep edge
    # never grazes the box above or below it.
    def start(q):
        if r.src.kind == "box":
            return r.src.cx + r.src.w / 2, r.src.cy + r.exit_dy
        return r.src.boundary_toward(q, port_angle)

    def end(q):
        return r.dst.boundary_toward(q, port_angle, half, min(split_angle, port_angle / 2))
    return Edge(r.src.name, r.dst.name, shorten(r.via, start, end, r.obstacles, (r.src.name, r.dst.name)))


def operand_ports(routes: list[Route], natural: list[Edge | None]) -> list[int]:
    """Each edge's half of its target: as asked, unless the upper operand's last stretch
    comes in from lower than its sibling's (the ordering could not swap them: pinned
    inputs); then the two swap halves, so they never cross at the node."""
    slope = {}
    for r, e in zip(routes, natural):
        if r.port:
            x, y = e.points[-2]
            slope[(r.dst.name, r.port)] = math.atan2(y - r.dst.cy, abs(r.dst.cx - x))
    ports = []
    for r in routes:
        other = slope.get((r.dst.name, -r.port))
        swap = r.port and other is not None and (slope[(r.dst.name, r.port)] - other) * r.port < -1e-9
        ports.append(-r.port if swap else r.port)
    return ports


def spread_box_exits(routes: list[Route]) -> None:
    """Edges leaving one box start at distinct heights, in the order of where they head,
    so that a fan of short edges is not one point (an operand tag needs room)."""
    by_src: dict[str, list[Route]] = {}
    for r in routes:
        if r.src.kind == "box":
            by_src.setdefault(r.src.name, []).append(r)
    for group in by_src.values():
        group.sort(key=lambda r: (r.via[1][1], r.dst.cy, r.dst.cx))
        step = min(BOX_PORT_STEP, (group[0].src.h - 0.2) / max(len(group) - 1, 1))
        for i, r in enumerate(group):
            r.exit_dy = (i - (len(group) - 1) / 2) * step

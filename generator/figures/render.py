"""Layout -> Typst code, built-in shapes only. Every length is printed as :func:`cm`
prints it (three decimals), so one layout always gives byte-identical code."""
from __future__ import annotations

import math

from .geometry import Layout

STROKE = "0.6pt + black"
EDGE_STROKE = "0.55pt + black"
FILL = {"input": "luma(94%)", "param": "rgb(\"#fdf1dc\")", "op": "white", "loss": "white"}
ARROW_LEN = 0.2
ARROW_HALF = 0.075


def cm(x: float) -> str:
    # + 0.0 turns -0.0 into 0.0. _subpath formats its points inline, without the call
    # (the figures' most frequent formatting): it must print exactly this format.
    return f"{x + 0.0:.3f}cm"


def text_at(cx: float, cy: float, size: float, markup: str, figure: tuple[float, float],
            fill: str = "", anchor: str = "center") -> str:
    """Text centred at (cx, cy) of a figure of size ``figure`` (w, h), or with its right
    end there (``anchor="right"``): placed by alignment, so no sized box is needed to
    centre it (cheaper for Typst, and the text can never wrap)."""
    w, h = figure
    colour = f", fill: {fill}" if fill else ""
    dx = cx - w / 2 if anchor == "center" else cx - w
    return (f"  #place({anchor} + horizon, dx: {cm(dx)}, dy: {cm(cy - h / 2)}, "
            f"text(size: {size:.1f}pt{colour})[{markup}])")


def _subpath(points, close: bool = False) -> str:
    # each point as cm() prints it, inlined: the figures' most frequent formatting
    (x, y), rest = points[0], points[1:]
    segments = [f"curve.move(({x + 0.0:.3f}cm, {y + 0.0:.3f}cm))"]
    segments += [f"curve.line(({x + 0.0:.3f}cm, {y + 0.0:.3f}cm))" for x, y in rest]
    if close:
        segments.append("curve.close()")
    return ", ".join(segments)


def paths(polylines, stroke: str) -> str:
    """Several polylines with one stroke as one shape: Typst lays out one element, not many."""
    return f"  #place(top + left, curve(stroke: {stroke}, {', '.join(_subpath(line) for line in polylines)}))"


def filled(polygons, fill: str = "black") -> str:
    """Several filled polygons as one shape."""
    return (f"  #place(top + left, curve(fill: {fill}, stroke: none, "
            f"{', '.join(_subpath(poly, close=True) for poly in polygons)}))")


def arrow(points) -> tuple[list, list]:
    """A polyline ending in an arrowhead at its last point: (the line, the head)."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    base = (x1 - ux * ARROW_LEN, y1 - uy * ARROW_LEN)
    line_pts = list(points[:-1]) + [(x1 - ux * ARROW_LEN * 0.6, y1 - uy * ARROW_LEN * 0.6)]
    head = [(x1, y1), (base[0] - uy * ARROW_HALF, base[1] + ux * ARROW_HALF),
            (base[0] + uy * ARROW_HALF, base[1] - ux * ARROW_HALF)]
    return line_pts, head


def render(layout: Layout, notes: bool = True) -> str:
    """The figure's code; without the key's notes when ``notes`` is False."""
    return _joined(_lines(layout), notes)


def render_both(layout: Layout) -> tuple[str, str]:
    """render(layout, notes=False) and render(layout, notes=True): the lines but the notes'
    are made once for both."""
    lines = _lines(layout)
    return _joined(lines, False), _joined(lines, True)


def _joined(lines: list[tuple[str, bool]], notes: bool) -> str:
    return "\n".join([line for line, note in lines if notes or not note]) + "\n"


def _lines(layout: Layout) -> list[tuple[str, bool]]:
    """The figure's lines, each with whether it draws a note (the key's alone)."""
    fig = (layout.width, layout.height)
    lines = [f"#block(width: {cm(layout.width)}, height: {cm(layout.height)}, breakable: false)["]
    if layout.edges:
        arrows = [arrow(e.points) for e in layout.edges]
        lines += [paths([a[0] for a in arrows], EDGE_STROKE), filled([a[1] for a in arrows])]
    for s in layout.shapes:
        fill = FILL.get(s.style, "white")
        if s.kind == "circle":
            shape = f"circle(radius: {cm(s.w / 2)}, stroke: {STROKE}, fill: {fill})"
        else:
            shape = f"rect(width: {cm(s.w)}, height: {cm(s.h)}, radius: 0.1cm, stroke: {STROKE}, fill: {fill})"
        lines.append(f"  #place(top + left, dx: {cm(s.cx - s.w / 2)}, dy: {cm(s.cy - s.h / 2)}, {shape})")
        lines.append(text_at(s.cx, s.cy, s.size, s.text, fig))
    out = [(line, False) for line in lines]
    for lab in layout.labels:
        note = lab.kind == "note"
        if lab.backed:  # a white patch interrupting the edge the tag sits on
            out.append((f"  #place(top + left, dx: {cm(lab.cx - lab.w / 2)}, dy: {cm(lab.cy - lab.h / 2)}, "
                        f"rect(width: {cm(lab.w)}, height: {cm(lab.h)}, fill: white, stroke: none))", note))
        out.append((text_at(lab.cx, lab.cy, lab.size, lab.text, fig, lab.fill), note))
    out.append(("]", False))
    return out

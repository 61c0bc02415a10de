"""Layout -> Typst code, built-in shapes only. Every number goes through :func:`cm`
(three decimals), so one layout always gives byte-identical code."""
from __future__ import annotations

import math

from .geometry import Layout

STROKE = "0.6pt + black"
EDGE_STROKE = "0.55pt + black"
FILL = {"input": "luma(94%)", "param": "rgb(\"#fdf1dc\")", "op": "white", "loss": "white"}
ARROW_LEN = 0.2
ARROW_HALF = 0.075


def cm(x: float) -> str:
    return f"{x + 0.0:.3f}cm"  # + 0.0 turns -0.0 into 0.0


def pt(x: float) -> str:
    return f"{x:.1f}pt"


def point(p) -> str:
    return f"({cm(p[0])}, {cm(p[1])})"


def text_at(cx: float, cy: float, w: float, h: float, size: float, markup: str, fill: str = "") -> str:
    # The box is wider than the text so that nothing ever wraps; the text is centred in it.
    bw, bh = w + 1.0, h + 0.2
    colour = f", fill: {fill}" if fill else ""
    return (f"  #place(top + left, dx: {cm(cx - bw / 2)}, dy: {cm(cy - bh / 2)}, box(width: {cm(bw)}, "
            f"height: {cm(bh)}, align(center + horizon, text(size: {pt(size)}{colour})[{markup}])))")


def arrow(points, stroke: str = EDGE_STROKE) -> list[str]:
    """A polyline whose last segment ends in a filled arrowhead at the last point."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    base = (x1 - ux * ARROW_LEN, y1 - uy * ARROW_LEN)
    line_pts = points[:-1] + [(x1 - ux * ARROW_LEN * 0.6, y1 - uy * ARROW_LEN * 0.6)]
    moves = ", ".join([f"curve.move({point(line_pts[0])})"] + [f"curve.line({point(p)})" for p in line_pts[1:]])
    head = [(x1, y1), (base[0] - uy * ARROW_HALF, base[1] + ux * ARROW_HALF),
            (base[0] + uy * ARROW_HALF, base[1] - ux * ARROW_HALF)]
    return [f"  #place(top + left, curve(stroke: {stroke}, {moves}))",
            f"  #place(top + left, polygon(fill: black, stroke: none, {', '.join(point(p) for p in head)}))"]


def render(layout: Layout, notes: bool = True) -> str:
    """The figure's code; without the key's notes when ``notes`` is False."""
    lines = [f"#block(width: {cm(layout.width)}, height: {cm(layout.height)}, breakable: false)["]
    for e in layout.edges:
        lines += arrow(e.points)
    for s in layout.shapes:
        fill = FILL.get(s.style, "white")
        if s.kind == "circle":
            shape = f"circle(radius: {cm(s.w / 2)}, stroke: {STROKE}, fill: {fill})"
        else:
            shape = f"rect(width: {cm(s.w)}, height: {cm(s.h)}, radius: 0.1cm, stroke: {STROKE}, fill: {fill})"
        lines.append(f"  #place(top + left, dx: {cm(s.cx - s.w / 2)}, dy: {cm(s.cy - s.h / 2)}, {shape})")
        lines.append(text_at(s.cx, s.cy, s.w, s.h, s.size, s.text))
    for lab in layout.labels:
        if lab.kind == "note" and not notes:
            continue
        if lab.backed:  # a white patch interrupting the edge the tag sits on
            lines.append(f"  #place(top + left, dx: {cm(lab.cx - lab.w / 2)}, dy: {cm(lab.cy - lab.h / 2)}, "
                         f"rect(width: {cm(lab.w)}, height: {cm(lab.h)}, fill: white, stroke: none))")
        lines.append(text_at(lab.cx, lab.cy, lab.w, lab.h, lab.size, lab.text, lab.fill))
    lines.append("]")
    return "\n".join(lines) + "\n"

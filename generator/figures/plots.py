"""Small line plots drawn with built-in Typst shapes: the leaky ReLU of the reference
material and the training curves of Question 2."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from ..errors import PsetError
from .metrics import number
from .render import cm, paths, text_at

AXIS = "0.5pt + black"


def nice_ticks(lo: float, hi: float, target: int = 4) -> list[float]:
    """Round tick values covering [lo, hi]: a step of 1, 2 or 5 times a power of ten."""
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _tick_text(v: float, ticks: list[float]) -> str:
    """A tick label, as text: digits look the same as in math and cost far less to set."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return _num_text(round(v, decimals))


def _num_text(v: float) -> str:
    return number(v)[0].replace("-", "\u2212")  # a minus sign, as math would set it


@dataclass(frozen=True)
class Panel:
    """A plot area (cm, relative to the figure) and the data ranges it shows."""

    x0: float
    y0: float
    w: float
    h: float
    xlo: float
    xhi: float
    ylo: float
    yhi: float

    def at(self, x: float, y: float) -> tuple[float, float]:
        return (self.x0 + (x - self.xlo) / (self.xhi - self.xlo) * self.w,
                self.y0 + self.h - (y - self.ylo) / (self.yhi - self.ylo) * self.h)


def _line(points, stroke: str) -> str:
    return paths([points], stroke)


def _axes(p: Panel, xticks, yticks, xtitle: str, ytitle: str, fig: tuple[float, float]) -> list[str]:
    """Frame-less axes: the x axis at the bottom, the y axis at the left, with ticks.
    The axes and ticks are one shape; the labels are placed text."""
    segments = [[p.at(p.xlo, p.ylo), p.at(p.xhi, p.ylo)], [p.at(p.xlo, p.ylo), p.at(p.xlo, p.yhi)]]
    labels = []
    for t in xticks:
        x, y = p.at(t, p.ylo)
        segments.append([(x, y), (x, y + 0.08)])
        labels.append(text_at(x, y + 0.28, 7.0, _tick_text(t, xticks), fig))
    for t in yticks:
        x, y = p.at(p.xlo, t)
        segments.append([(x - 0.08, y), (x, y)])
        labels.append(text_at(x - 0.1, y, 7.0, _tick_text(t, yticks), fig, anchor="right"))
    labels.append(text_at(p.x0 + p.w / 2, p.y0 + p.h + 0.65, 7.5, xtitle, fig))
    labels.append(f"  #place(top + left, dx: {cm(p.x0 - 1.25)}, dy: {cm(p.y0)}, box(width: 0.4cm, height: {cm(p.h)}, "
                  f"align(center + horizon, rotate(-90deg, reflow: true, text(size: 7.5pt)[{ytitle}]))))")
    return [paths(segments, AXIS)] + labels


def _finite(values, what: str) -> list[float]:
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise PsetError(f"figure: {what} must be numbers") from None
    if not all(map(math.isfinite, out)):
        raise PsetError(f"figure: {what} must be finite numbers")
    return out


def leaky_relu_plot(alpha: float) -> str:
    """f(x) = max(x, alpha x) on [-3, 3] with axes through the origin, ~6 cm wide."""
    (alpha,) = _finite([alpha], "the leaky ReLU slope alpha")
    if not 0 <= alpha < 1:
        raise PsetError(f"figure: leaky ReLU slope alpha must be in [0, 1), got {alpha}")
    width, height = 6.0, 3.6
    fig = (width, height)
    p = Panel(0.3, 0.45, 5.3, 2.9, -3.0, 3.0, -1.0, 3.0)
    lines = [f"#block(width: {cm(width)}, height: {cm(height)}, breakable: false)["]
    segments = [[p.at(-3.0, 0.0), p.at(3.0, 0.0)], [p.at(0.0, -1.0), p.at(0.0, 3.0)]]
    labels = []
    for t in (-3, -2, -1, 1, 2, 3):  # left of 0 the curve runs just below the axis: labels go above
        x, y = p.at(t, 0)
        segments.append([(x, y - 0.06), (x, y + 0.06)])
        labels.append(text_at(x, y + (0.25 if t > 0 else -0.25), 7.0, _num_text(t), fig))
    for t in (1, 2, 3):
        x, y = p.at(0, t)
        segments.append([(x - 0.06, y), (x + 0.06, y)])
        labels.append(text_at(x - 0.3, y, 7.0, str(t), fig))
    lines += [paths(segments, AXIS)] + labels
    lines.append(text_at(p.x0 + p.w + 0.15, p.at(0, 0)[1] - 0.22, 8, "$x$", fig))
    lines.append(_line([p.at(-3, -3 * alpha), p.at(0, 0), p.at(3, 3)], "1.1pt + rgb(\"#1f5fa8\")"))
    a = number(alpha)[0]
    lines.append(text_at(*p.at(1.0, 2.4), 7.5, "slope $1$", fig))
    lines.append(text_at(*p.at(-1.7, 0.75), 7.5, f"slope $alpha = {a}$", fig))
    lines.append(text_at(width / 2, 0.2, 8, f"$f(x) = max(x, {a} x)$", fig))
    lines.append("]")
    return "\n".join(lines) + "\n"


def curves_plot(epochs: list[int], train_loss: list[float], val_accuracy: list[float]) -> str:
    """Two panels side by side: training loss and validation accuracy against the epoch."""
    # The question and its key draw the same plot: make its code once.
    return _curves_plot(tuple(epochs), tuple(train_loss), tuple(val_accuracy))


@functools.lru_cache(maxsize=16)
def _curves_plot(epochs: tuple, train_loss: tuple, val_accuracy: tuple) -> str:
    xs = _finite(epochs, "epochs")
    losses = _finite(train_loss, "train_loss")
    accs = _finite(val_accuracy, "val_accuracy")
    if len(xs) < 2 or not len(xs) == len(losses) == len(accs):
        raise PsetError(f"figure: curves need two or more epochs and one loss and accuracy per epoch "
                        f"(got {len(xs)}, {len(losses)}, {len(accs)})")
    if any(b <= a for a, b in zip(xs, xs[1:])):
        raise PsetError("figure: epochs must increase")
    panel_w, panel_h, left, top = 4.8, 3.0, 1.45, 0.15
    xticks = nice_ticks(xs[0], xs[-1])
    fig = (2 * (left + panel_w) + 0.4, top + panel_h + 0.95)
    lines = [f"#block(width: {cm(fig[0])}, height: {cm(fig[1])}, breakable: false)["]
    for i, (ys, title) in enumerate(((losses, "training loss"), (accs, "validation accuracy"))):
        # Both axes start at 0: an accuracy axis starting at its lowest value makes a 40% plateau look high.
        lo, hi = min(min(ys), 0.0), max(ys)
        yticks = nice_ticks(lo, hi, 3)
        x0 = left + i * (left + panel_w + 0.4)
        p = Panel(x0, top, panel_w, panel_h, xticks[0], xticks[-1], yticks[0], yticks[-1])
        lines += _axes(p, xticks, yticks, "epoch", title, fig)
        lines.append(_line([p.at(x, y) for x, y in zip(xs, ys)], "1pt + rgb(\"#1f5fa8\")"))
    lines.append("]")
    return "\n".join(lines) + "\n"

"""The ``[grading]`` table of the course config: tolerance, follow-through, points.

Tolerance rule (a cell is right when)::

    |submitted - expected| <= atol + rtol * scale

where ``scale`` is the larger of ``|expected|`` and the sum of the magnitudes of the
chain-rule terms whose sum is the cell (the last backprop step into it), so a gradient
that is a small difference of large terms gets the tolerance of its terms. A gradient
cell that misses the key but equals (within the same rule) the chain rule applied to
the student's own submitted upstream cells is *consistent*: full marks when every
upstream cell it used is right (their rounding carried forward), the follow-through
share of the points when some upstream cell is wrong.

Defaults, by experiment (600 seeds, 22,916 cells; the replaying students are
``synthetic.rounded_student``): students who replay the graph rounding every forward
value and every gradient to 3 decimals as they go, or to 4 (also rounding every local
derivative and product), all score full marks with ``atol = 0.002, rtol = 0.01`` even
with follow-through switched off; at ``atol = 0.001`` 18 of 600 3-decimal students lose
a cell. 3-decimal rounding alone moves some cells by up to 18 % (a gradient of 0.00245
written as 0.002 and then multiplied by 24), which only the consistency check accepts
without a loose tolerance. Answers mapped by a per-cell affine map ``a*x + b`` (a in
[1.2, 1.6], b in [0.1, 0.4]) score 2 % (follow-through included); one common map
``1.37*x + 0.21`` for every cell keeps the relations with local derivative 1
(``dL/dB1 = dL/dH1`` behind an add or a positive leaky ReLU; ``dL/dZ = Yhat - Y`` when
Y = 0), which earn follow-through as they should: 17 %.

A node without a cell (the output unit's pre-activation Z) takes the student's gradient
from its anchor, the cell that reads it off (dL/dB = dL/dZ), so a slip there costs that
one cell (score._anchors). Measured again on 600 seeds, as a share of the points:
per-cell maps 2.3 % -> 2.8 %, the common map 17.2 % -> 19.0 % (more copy relations:
dL/dW = dL/dB where the input is 1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import PsetError

# A forward value (Yhat, L) also gets the error that rounding every intermediate value
# to 3 decimals can accumulate on the way to it (only values not already exact to 3
# decimals are rounded): without it, ec-b of seed 466 (tanh(0), reached through 2/3)
# fails a 3-decimal student by 0.004.
FORWARD_ROUNDING = 0.0005
DEFAULT_RTOL = 0.01
DEFAULT_ATOL = 0.002
DEFAULT_ASSIGNMENT = "Problem Set 2"


@dataclass(frozen=True)
class GradingConfig:
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    follow_through: float = 1.0          # share of a cell's points for follow-through credit
    # Points for named cells: "q3a.Yhat" (one question) or "Yhat" (every question that
    # has that cell); the rest of a question's points are split evenly over its other cells.
    cell_points: dict[str, float] | None = None
    assignment: str = DEFAULT_ASSIGNMENT  # the Canvas gradebook column
    source: str = field(default="config", compare=False)   # the config file's name, for messages

    def close(self, submitted: float, expected: float, scale: float = 0.0, slack: float = 0.0) -> bool:
        bound = self.atol + self.rtol * max(abs(expected), scale) + slack
        # A scale that overflowed (a cell of 1e300 carried through) bounds nothing.
        return math.isfinite(bound) and abs(submitted - expected) <= bound

    @classmethod
    def from_table(cls, table: dict, where: str) -> "GradingConfig":
        """Validate a ``[grading]`` TOML table; ``where`` names the file for messages."""
        if not isinstance(table, dict):
            raise PsetError(f"{where}: [grading] must be a table")
        known = {"rtol", "atol", "follow_through", "cell_points", "assignment"}
        for key in table:
            if key not in known:
                raise PsetError(f"{where}: [grading].{key}: unknown key (known: {', '.join(sorted(known))})")
        kwargs = {"source": where}
        for key in ("rtol", "atol"):
            if key in table:
                kwargs[key] = _number(table[key], f"{where}: [grading].{key}", 0.0, 1.0)
        if "follow_through" in table:
            kwargs["follow_through"] = _number(table["follow_through"], f"{where}: [grading].follow_through", 0.0, 1.0)
        if "assignment" in table:
            name = table["assignment"]
            if not isinstance(name, str) or not name.strip() or "\n" in name:
                raise PsetError(f"{where}: [grading].assignment must be a one-line, non-empty string")
            kwargs["assignment"] = name.strip()
        if "cell_points" in table:
            cells = table["cell_points"]
            if not isinstance(cells, dict):
                raise PsetError(f"{where}: [grading].cell_points must be a table of cell = points")
            kwargs["cell_points"] = {str(k): _number(v, f"{where}: [grading].cell_points.{_key(k)}", 0.0, math.inf)
                                     for k, v in cells.items()}
        return cls(**kwargs)


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else f'"{k}"'


def _number(value, what: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PsetError(f"{what} must be a number, got {value!r}")
    if not lo <= value <= hi:
        upper = "" if math.isinf(hi) else f" and at most {hi:g}"
        raise PsetError(f"{what} must be at least {lo:g}{upper}, got {value!r}")
    return float(value)

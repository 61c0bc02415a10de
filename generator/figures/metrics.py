"""Typst math markup for node names, values and operators, with its width.

Widths are in em of New Computer Modern Math, measured with Typst's ``measure``
(tests/test_figures.py re-measures them): the layout needs the size of every
label before Typst ever sees it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import PsetError
from ..floats import left_sum

CM_PER_PT = 2.54 / 72

# Advance widths in em. Binary operators carry their medium spaces (2 x 4/18 em),
# relations their thick spaces (2 x 5/18 em), the comma its thin space.
EM = {"X": 0.879, "W": 1.076, "B": 0.784, "H": 0.909, "L": 0.681, "Y": 0.79, "Z": 0.751,
      "U": 0.788, "P": 0.8, "bW": 1.235, "a": 0.529, "b": 0.443, "f": 0.58, "sigma": 0.595,
      "tanh": 2.001, "min": 1.667, "max": 1.861, "BCE": 2.111, "MSE": 2.154, "digit": 0.5,
      "point": 0.278, "minus": 0.778, "binop": 1.222, "rel": 1.334, "comma": 0.445,
      "subdigit": 0.4, "op": 0.778, "u": 0.572, "z": 0.495, "p": 0.503,
      "lsubdigit": 0.46}  # a subscript after a lowercase italic letter sits a little farther out


@dataclass(frozen=True)
class MathText:
    markup: str   # Typst markup, a complete $...$ equation
    em: float     # advance width in em

    def width(self, size_pt: float) -> float:
        return self.em * size_pt * CM_PER_PT


def number(v: float) -> tuple[str, float]:
    """A leaf value as the text prints it: 2, -1, 0.5, -2.5 (at most 3 decimals)."""
    s = f"{float(v):.3f}".rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    em = left_sum(EM["minus"] if ch == "-" else EM["point"] if ch == "." else EM["digit"] for ch in s)
    return s, em


_NAME = re.compile(r"^(Yhat|[A-Z])(\d*)$")


def _name_parts(name: str, bold: bool = False) -> tuple[str, float]:
    m = _NAME.match(name)
    if not m:
        raise PsetError(f"figure: cannot draw node name {name!r} (expected a letter and digits, or Yhat)")
    letter, digits = m.groups()
    if letter == "Yhat":
        markup, em = "hat(Y)", EM["Y"]
    elif bold:
        markup, em = f"bold({letter})", EM["bW"] if letter == "W" else EM.get(letter, 0.9) * 1.15
    else:
        markup, em = letter, EM.get(letter, 0.9)
    if digits:
        markup += f"_{digits}" if len(digits) == 1 else f"_({digits})"
        em += EM["subdigit"] * len(digits)
    return markup, em


def name(node: str, bold: bool = False) -> MathText:
    """X1 -> $X_1$, Yhat -> $hat(Y)$; bold for a parameter vector."""
    markup, em = _name_parts(node, bold)
    return MathText(f"${markup}$", em)


def intermediate_name(node: str) -> MathText:
    """How the worked solution writes an unlabeled node: U4 -> $u_4$, Z -> $z$, Z3 -> $z_3$."""
    m = _NAME.match(node)
    if not m or m.group(1) not in ("U", "Z", "P"):
        raise PsetError(f"figure: cannot name intermediate node {node!r} (expected U, Z or P and digits)")
    letter, digits = m.group(1).lower(), m.group(2)
    markup, em = letter, EM[letter]
    if digits:
        markup += f"_{digits}" if len(digits) == 1 else f"_({digits})"
        em += EM["lsubdigit"] * len(digits)
    return MathText(f"${markup}$", em)


def leaf_with_value(node: str, value: float) -> MathText:
    """$X_1 = -2.5$"""
    markup, em = _name_parts(node)
    s, vem = number(value)
    return MathText(f"${markup} = {s}$", em + EM["rel"] + vem)


def unit_params(unit: int) -> MathText:
    """The weight vector and bias of an mlp unit: $bold(W)_3, B_3$."""
    w, wem = _name_parts(f"W{unit}", bold=True)
    b, bem = _name_parts(f"B{unit}")
    return MathText(f"${w}, {b}$", wem + EM["comma"] + bem)


# op -> (markup, em); sub and div name their operands a and b (the edges carry the tags).
OP_TEXT = {
    "add": ("$+$", EM["op"]), "sub": ("$a - b$", EM["a"] + EM["binop"] + EM["b"]),
    "mul": ("$times$", EM["op"]), "div": ("$a div b$", EM["a"] + EM["binop"] + EM["b"]),
    "min": ("$min$", EM["min"]), "max": ("$max$", EM["max"]), "sigmoid": ("$sigma$", EM["sigma"]),
    "tanh": ("$tanh$", EM["tanh"]), "leaky_relu": ("$f$", EM["f"]), "bce": ('$"BCE"$', EM["BCE"]),
    "mse": ('$"MSE"$', EM["MSE"]), "neg": ("$-$", EM["minus"]),
}
WORD_OPS = ("min", "max", "tanh", "bce", "mse", "sub", "div")  # drawn a little smaller


def op_text(op: str) -> MathText:
    if op in OP_TEXT:
        markup, em = OP_TEXT[op]
        return MathText(markup, em)
    # Other engine ops (relu, exp, log, square) by name, upright.
    if not re.fullmatch(r"[a-z_]+", op):
        raise PsetError(f"figure: cannot draw op {op!r}")
    return MathText(f'$"{op}"$', 0.55 * len(op))

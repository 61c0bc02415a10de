"""The key's worked solution: the forward pass and every chain-rule step of the
engine's record, as Typst math. Long sums wrap two terms to a row so that every line
fits half the page width (the solution is set in two columns)."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import networkx as nx

from .engine import LEAF_OPS, Solution, Step
from .mathfmt import expression, expression_with_values, local_formula, num, plain, symbol

TERMS_PER_ROW = 2
FORWARD_ROW_CHARS = 38


@functools.lru_cache(maxsize=1024)  # a few hundred formulas (symbols of a graph family)
def _group(formula: str) -> str:
    """Parenthesise a local derivative unless it is one plain token (negatives too)."""
    simple = formula.replace("_", "").replace("(", "").replace(")", "").replace(",", "")
    return formula if simple.isalnum() else f"({formula})"


def _note(g: nx.DiGraph, step: Step, decimals: int) -> str | None:
    """Why a gate's local derivative is what it is: which operand min/max picked, which
    side of 0 a (leaky) ReLU's input is on."""
    data = g._node
    c = data[step.consumer]
    if c["op"] in ("min", "max"):
        vals = [data[a]["value"] for a in c["args"]]
        picked = c["args"][vals.index(c["value"])]
        return f"\"{c['op']} picks\" {symbol(picked)}"
    if c["op"] in ("leaky_relu", "relu"):
        x = data[step.node]["value"]
        side = ">= 0" if x >= 0 else "< 0"
        slope = "" if x >= 0 or c["op"] == "relu" else f", alpha = {plain(c['alpha'], decimals)}"
        return f"{symbol(step.node)} = {plain(x, decimals)} {side}{slope}"
    return None


def _rows(terms: list[str]) -> list[str]:
    if len(terms) <= TERMS_PER_ROW:  # most nodes feed one consumer
        return [" + ".join(terms)]
    return [" + ".join(terms[i:i + TERMS_PER_ROW]) for i in range(0, len(terms), TERMS_PER_ROW)]


@dataclass
class ForwardLine:
    lhs: str
    definition: str
    numbers: str
    value: str

    def math(self) -> str:
        if len(self.definition) + len(self.numbers) + len(self.value) <= FORWARD_ROW_CHARS:
            return f"{self.lhs} = {self.definition} = {self.numbers} = {self.value}"
        return f"{self.lhs} &= {self.definition} \\ &= {self.numbers} = {self.value}"


@dataclass
class BackwardLine:
    lhs: str               # ∇ of the node
    symbolic: list[str]    # upstream gradient times local formula, one per consumer
    numeric: list[str]     # the same with numbers
    value: str
    notes: list[str]

    def math(self) -> str:
        """Rows: the symbolic terms, the numeric ones (each wrapped, continued rows start
        "&quad + "), the value (on the last row when it fits), then the notes."""
        nums = _rows(self.numeric)
        text = (f"{self.lhs} &= " + _CONTINUED.join(_rows(self.symbolic))
                + " \\ &= " + _CONTINUED.join(nums))
        if len(self.numeric) > 1 or len(nums[-1]) > 24:
            text += f" \\ &= {self.value}"
        else:
            text += f" = {self.value}"
        for note in self.notes:
            text += f" \\ & quad ({note})"
        return text


_CONTINUED = " \\ &quad + "  # a new row, continuing a sum


def forward_lines(g: nx.DiGraph, sol: Solution, decimals: int) -> list[ForwardLine]:
    data = g._node  # networkx's own dict of the attribute dicts: much faster than g.nodes[...]
    return [ForwardLine(symbol(n), expression(g, n), expression_with_values(g, n, decimals),
                        plain(data[n]["value"], decimals))
            for n in sol.order if data[n]["op"] not in LEAF_OPS]


def forward_math(g: nx.DiGraph, sol: Solution, decimals: int) -> list[str]:
    """The forward lines as the key prints them (Typst math, one per computed node)."""
    return [line.math() for line in forward_lines(g, sol, decimals)]


def backward_lines(g: nx.DiGraph, sol: Solution, decimals: int) -> list[BackwardLine]:
    into = sol.steps_by_node()
    lines = []
    for name in reversed(sol.order):
        if name == sol.loss:
            continue
        symbolic, numeric, notes = [], [], []
        for s in into.get(name, ()):
            symbolic.append(f"nabla {symbol(s.consumer)} dot {_group(local_formula(g, s))}")
            numeric.append(f"{num(s.upstream, decimals)} dot {num(s.local, decimals)}")
            note = _note(g, s, decimals)
            if note:
                notes.append(note)
        lines.append(BackwardLine(f"nabla {symbol(name)}", symbolic, numeric,
                                  plain(g._node[name]["grad"], decimals), notes))
    return lines


def backward_math(g: nx.DiGraph, sol: Solution, decimals: int) -> list[str]:
    """The backward lines as the key prints them (Typst math, one per node but the loss)."""
    return [line.math() for line in backward_lines(g, sol, decimals)]


def legend(g: nx.DiGraph, family: str) -> str:
    """What the unlabeled nodes' names mean (Typst markup with math)."""
    if family == "mlp":
        return ("$W_(u,i)$ is entry $i$ of $bold(W)_u$; $p_(u,i) = W_(u,i) dot$ (input $i$ of unit $u$) and "
                "$z_u$ is unit $u$'s input before its activation (marked in grey in the figure above).")
    inner = [symbol(n) for n in g.nodes if g.nodes[n]["role"] == "intermediate"]
    if not inner:
        return ""
    return ("The unlabeled op nodes are named " + ", ".join(f"${s}$" for s in inner)
            + " (the small grey names in the figure above): $u_k$ sits inside $H_k$, and $z$ is the input of $sigma$.")

"""Graph nodes and chain-rule steps as Typst math, for the statement and the key.

Names map to the text's symbols (X1 -> X_1, W1[2] -> W_(1,2), Yhat -> hat(Y));
intermediates are lowercase (Z1 -> z_1, U4 -> u_4, P1[2] -> p_(1,2)). Every number
goes through numfmt, so the key has one rounding rule."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import networkx as nx

from .engine import Step
from .floats import left_sum
from .numfmt import exact, math_num, rounded
from .typst_text import string_literal

_NAME = re.compile(r"^([A-Z])(\d+)(?:\[(\d+)\])?$")
OP_SYMBOL = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "min": "min", "max": "max",
             "sigmoid": "σ", "tanh": "tanh", "leaky_relu": "f", "relu": "ReLU", "neg": "−",
             "exp": "exp", "log": "log", "square": "(·)²", "bce": "BCE", "mse": "MSE"}


@functools.lru_cache(maxsize=1024)  # a few dozen names, asked for hundreds of times a student
def symbol(name: str, role: str = "") -> str:
    """Typst math for a node name."""
    if name == "Yhat":
        return "hat(Y)"
    if name == "L":
        return "L"
    if name == "Z":
        return "z"
    m = _NAME.match(name)
    if not m:
        raise ValueError(f"no symbol for node {name!r}")
    letter, idx, sub = m.groups()
    if letter in ("P", "Z", "U"):
        letter = letter.lower()
    return f"{letter}_({idx},{sub})" if sub else f"{letter}_{idx}"


def vector_symbol(label: str) -> str:
    """A parameter vector's label (W3) in bold, as the original writes it."""
    m = _NAME.match(label)
    return f"bold({m.group(1)})_{m.group(2)}" if m else symbol(label)


def short(x: float, decimals: int) -> str:
    """Exact when the number is short (inputs, hidden values), else rounded."""
    return exact(x) if abs(x * 1000 - round(x * 1000)) < 1e-9 else rounded(x, decimals)


@functools.lru_cache(maxsize=4096)  # a value recurs in the key: its own line, its consumers', the notes
def plain(x: float, decimals: int) -> str:
    return math_num(short(x, decimals))


@functools.lru_cache(maxsize=4096)
def num(x: float, decimals: int) -> str:
    """A number for math: parenthesised when negative so products read clearly."""
    text = plain(x, decimals)
    return f"({text})" if text.startswith("−") else text


def _render(op: str, args: list[str], plain: list[str], attrs: dict) -> str:
    """An op applied to operand texts; ``args`` may be parenthesised numbers, ``plain``
    are the same without parentheses (for function-call forms)."""
    if op == "add":
        return " + ".join(args)
    if op == "sub":
        return f"{args[0]} - {args[1]}"
    if op == "mul":
        return " dot ".join(args)
    if op == "div":
        return f"{args[0]} \\/ {args[1]}"
    if op in ("min", "max"):
        return f"{op}({', '.join(plain)})"
    if op == "leaky_relu":
        return f"f({plain[0]})"
    if op == "sigmoid":
        return f"sigma({plain[0]})"
    if op == "tanh":
        return f"tanh({plain[0]})"
    y = attrs.get("target")
    if op == "bce":
        if y == 1:
            return f"-log {args[0]}"
        if y == 0:
            return f"-log(1 - {plain[0]})"
        return f"-Y log {args[0]} - (1 - Y) log(1 - {plain[0]})"
    if op == "mse":
        return f"1/2 ({plain[0]} - {num(y, 4) if y is not None else 'Y'})^2"
    return f"\"{op}\"({', '.join(plain)})"


def expression(g: nx.DiGraph, name: str) -> str:
    """The node's definition in terms of its operands, e.g. "W_1 dot u_1"."""
    a = g._node[name]  # networkx's own dict of the attribute dicts: much faster than g.nodes[...]
    syms = [symbol(x) for x in a["args"]]
    if a["op"] == "bce":
        return f"-Y log {syms[0]} - (1 - Y) log(1 - {syms[0]})"
    if a["op"] == "mse":
        return f"1/2 ({syms[0]} - Y)^2"
    return _render(a["op"], syms, syms, a)


def expression_with_values(g: nx.DiGraph, name: str, decimals: int) -> str:
    """The same definition with the operands' values in place of their symbols."""
    data = g._node
    a = data[name]
    vals = [data[x]["value"] for x in a["args"]]
    return _render(a["op"], [num(v, decimals) for v in vals],
                   [plain(v, decimals) for v in vals], a)


def local_formula(g: nx.DiGraph, step: Step) -> str:
    """The symbolic local derivative d consumer / d node for one step."""
    c = g._node[step.consumer]
    op, args = c["op"], c["args"]
    if op == "add":
        return "1"
    if op == "sub":
        return "1" if step.position == 0 else "-1"
    if op == "mul":
        return " ".join(symbol(x) for i, x in enumerate(args) if i != step.position)
    if op == "div":
        return f"1 \\/ {symbol(args[1])}" if step.position == 0 else f"-{symbol(args[0])} \\/ {symbol(args[1])}^2"
    if op in ("min", "max", "relu"):
        return "1" if step.local else "0"
    if op == "leaky_relu":
        return "1" if step.local == 1.0 else "alpha"
    if op == "sigmoid":
        return f"{symbol(step.consumer)}(1 - {symbol(step.consumer)})"
    if op == "tanh":
        return f"1 - {symbol(step.consumer)}^2"
    if op == "bce":
        y = symbol(args[0])
        return f"({y} - Y) / ({y}(1 - {y}))"
    if op == "mse":
        return f"{symbol(args[0])} - Y"
    return f"\"d{op}\""


@dataclass
class Cell:
    label: str
    header: str   # Typst math
    value: str    # the rounded number(s) as printed, plain text
    width: float  # cm, the writing space a student gets

    @property
    def column_width(self) -> float:
        """cm the cell's table column takes: the writing space and the cell's inset."""
        return self.width + CELL_PADDING_CM


TABLE_WIDTH_CM = 16.0
CELL_PADDING_CM = 0.45  # the table's inset, 6pt a side, and its rules


def cell_header(label: str, is_vector: bool) -> str:
    if label in ("Yhat", "L"):
        return symbol(label)
    return "nabla " + (vector_symbol(label) if is_vector else symbol(label))


def cells(answers: dict, decimals: int) -> list[Cell]:
    out = []
    for label, v in answers.items():
        if isinstance(v, (list, tuple)):
            value = "[" + ", ".join(math_num(rounded(x, decimals)) for x in v) + "]"
            out.append(Cell(label, cell_header(label, True), value, 1.0 + 1.25 * len(v)))
        else:
            out.append(Cell(label, cell_header(label, False), math_num(rounded(v, decimals)), 1.4))
    return out


def _fitted_rows(table: list[Cell]) -> list[list[Cell]]:
    """The answer table's cells split into rows that fit the page width."""
    chunks, width = [[]], 0.0
    for c in table:
        w = c.column_width
        if chunks[-1] and width + w > TABLE_WIDTH_CM:
            chunks.append([])
            width = 0.0
        chunks[-1].append(c)
        width += w
    # Even out the rows so the last one is not a stub, if the even rows still fit: the
    # columns have fixed widths (a cell is as wide as its writing space).
    if len(chunks) > 1:
        flat = [c for ch in chunks for c in ch]
        per = -(-len(flat) // len(chunks))
        even = [flat[i:i + per] for i in range(0, len(flat), per)]
        if all(left_sum(c.column_width for c in row) <= TABLE_WIDTH_CM for row in even):
            chunks = even
    return chunks


@dataclass(frozen=True)
class TableRow:
    """One row of the answer table (a Typst table of its own), as Typst text."""
    columns: str  # the column widths: "1.85cm, 3.95cm, "
    headers: str  # "[$hat(Y)$], [$nabla bold(W)_3$], "
    values: str   # the key's cells: "[#text(9.5pt, "0.9002")], ..."
    blanks: str   # the question's cells, writing space: "[#box(width: 1.4cm, height: 1.5em)], ..."


def answer_table(p, decimals: int) -> tuple[TableRow, ...]:
    """The answer table's rows (its cells split by _fitted_rows to fit the page width) as
    Typst text, for the question and the key."""
    frozen = tuple((label, tuple(v) if isinstance(v, list) else v) for label, v in p.answers.items())
    return _answer_table(frozen, decimals)


@functools.lru_cache(maxsize=64)  # keyed by the answers: the key shows the question's table again
def _answer_table(answers: tuple, decimals: int) -> tuple[TableRow, ...]:
    rows = []
    for row in _fitted_rows(cells(dict(answers), decimals)):
        columns, headers, values, blanks = [], [], [], []
        for c in row:
            column, blank = _sized(c.width)
            columns.append(column)
            headers.append(f"[${c.header}$], ")
            values.append(f"[#text(9.5pt, {string_literal(c.value)})], ")
            blanks.append(blank)
        rows.append(TableRow("".join(columns), "".join(headers), "".join(values), "".join(blanks)))
    return tuple(rows)


@functools.lru_cache(maxsize=64)  # a handful of widths (scalar, vectors of 2, 3...)
def _sized(width: float) -> tuple[str, str]:
    """A cell's column width (Cell.column_width, two decimals) and its writing space
    (Cell.width as a float prints), as Typst table text. Both depend on the width's
    value alone, so widths that compare equal (1 and 1.0) may share a cache entry."""
    width = float(width)
    return f"{width + CELL_PADDING_CM:.2f}cm, ", f"[#box(width: {width!r}cm, height: 1.5em)], "


def parameter_values(g: nx.DiGraph) -> list[tuple[str, str]]:
    """(symbol, value) per parameter as the text lists them: mlp weights as vectors."""
    data = g._node  # networkx's own dict of the attribute dicts: much faster than g.nodes[...]
    entries: dict[str, list[str]] = {}  # W1 -> W1[1], W1[2], ... in node order
    for name in data:
        if "[" in name:
            entries.setdefault(name.split("[")[0], []).append(name)
    out, seen = [], set()
    for name, attrs in data.items():
        if attrs["op"] != "param":
            continue
        base = name.split("[")[0]
        if base in seen:
            continue
        seen.add(base)
        if "[" in name:
            value = "[" + ", ".join(math_num(exact(data[n]["value"])) for n in entries[base]) + "]"
            out.append((vector_symbol(base), value))
        else:
            out.append((symbol(name), math_num(exact(attrs["value"]))))
    return out


def input_values(g: nx.DiGraph) -> list[tuple[str, str]]:
    return [(symbol(n), math_num(exact(a["value"]))) for n, a in g._node.items() if a["op"] == "input"]


def shape_text(g: nx.DiGraph) -> str:
    """'2 inputs, a hidden layer of 3 units' for an mlp graph."""
    from .graphs.mlp import shape_of
    shape = shape_of(g)
    layers = shape[1:-1]
    if len(layers) == 1:
        return f"{shape[0]} inputs, a hidden layer of {layers[0]} units"
    if len(set(layers)) == 1:
        return f"{shape[0]} inputs, {len(layers)} hidden layers of {layers[0]} units each"
    return f"{shape[0]} inputs, hidden layers of " + " and ".join(str(w) for w in layers) + " units"


def has_ordered_ops(g: nx.DiGraph) -> bool:
    """Whether the graph has a node whose operand order matters (sub, div)."""
    return any(a.get("op") in ("sub", "div") for a in g._node.values())


def output_input(g: nx.DiGraph) -> str:
    """The output neuron's input written out: W_3 . [H_1, H_2] + B_3, or H_3 - H_5."""
    data = g._node
    pre = data["Yhat"]["args"][0]
    a = data[pre]
    if a["op"] == "add" and all(x.startswith("P") for x in a["args"][:-1]):
        unit = pre[1:]
        sources = [data[x]["args"][1] for x in a["args"][:-1]]
        return f"bold(W)_{unit} dot [{', '.join(symbol(x) for x in sources)}] + B_{unit}"
    return expression(g, pre) if a["op"] not in ("input", "param") else symbol(pre)

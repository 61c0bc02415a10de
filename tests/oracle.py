"""Independent oracles for the engine: a separate evaluator (its own op code, the
seed's formulas) with central finite differences, and sympy. Nothing here imports
the engine's op implementations."""
from __future__ import annotations

import functools
import math
import operator

ORACLE_OPS = {
    "add": lambda xs, a: functools.reduce(operator.add, xs),
    "sub": lambda xs, a: xs[0] - xs[1],
    "mul": lambda xs, a: functools.reduce(operator.mul, xs),
    "div": lambda xs, a: xs[0] / xs[1],
    "neg": lambda xs, a: 0.0 - xs[0],
    "max": lambda xs, a: sorted(xs)[-1],
    "min": lambda xs, a: sorted(xs)[0],
    "relu": lambda xs, a: xs[0] if xs[0] > 0 else 0.0,
    "leaky_relu": lambda xs, a: max(xs[0], a["alpha"] * xs[0]),   # the seed's f(x) = max(x, 0.1x)
    "sigmoid": lambda xs, a: 1.0 / (1.0 + math.exp(-xs[0])),
    "tanh": lambda xs, a: (math.exp(2 * xs[0]) - 1) / (math.exp(2 * xs[0]) + 1),  # the seed's definition
    "exp": lambda xs, a: math.e ** xs[0],
    "log": lambda xs, a: math.log(xs[0]),
    "square": lambda xs, a: xs[0] ** 2,
    "bce": lambda xs, a: -a["target"] * math.log(xs[0]) - (1 - a["target"]) * math.log(1 - xs[0]),
    "mse": lambda xs, a: 0.5 * (xs[0] - a["target"]) ** 2,
}


def nodes_of(g) -> list[tuple[str, dict]]:
    """Plain (name, attrs) list in an order computed here, not the engine's."""
    import networkx as nx
    return [(n, dict(g.nodes[n])) for n in nx.topological_sort(g)]


def evaluate(nodes, overrides=None) -> dict[str, float]:
    overrides = overrides or {}
    vals: dict[str, float] = {}
    for name, a in nodes:
        if name in overrides:
            vals[name] = overrides[name]
        elif a["op"] in ("input", "param"):
            vals[name] = a["value"]
        else:
            vals[name] = ORACLE_OPS[a["op"]]([vals[x] for x in a["args"]], a)
    return vals


def fd_gradients(nodes, loss="L", h=1e-5) -> dict[str, float]:
    """dL/dnode for every node: perturb that node's value, recompute everything downstream."""
    base = evaluate(nodes)
    grads = {}
    for name, _ in nodes:
        up = evaluate(nodes, {name: base[name] + h})[loss]
        down = evaluate(nodes, {name: base[name] - h})[loss]
        grads[name] = (up - down) / (2 * h)
    return grads


def sympy_leaf_gradients(nodes, loss="L") -> tuple[float, dict[str, float]]:
    """L and dL/dleaf from symbolic differentiation."""
    import sympy as sp
    syms, expr = {}, {}
    for name, a in nodes:
        if a["op"] in ("input", "param"):
            syms[name] = sp.Symbol(name.replace("[", "_").replace("]", ""))
            expr[name] = syms[name]
            continue
        xs = [expr[x] for x in a["args"]]
        op = a["op"]
        if op == "add": e = sp.Add(*xs)
        elif op == "sub": e = xs[0] - xs[1]
        elif op == "mul": e = sp.Mul(*xs)
        elif op == "div": e = xs[0] / xs[1]
        elif op == "neg": e = -xs[0]
        elif op == "max": e = sp.Max(*xs)
        elif op == "min": e = sp.Min(*xs)
        elif op == "relu": e = sp.Max(xs[0], 0)
        elif op == "leaky_relu": e = sp.Max(xs[0], sp.nsimplify(a["alpha"]) * xs[0])
        elif op == "sigmoid": e = 1 / (1 + sp.exp(-xs[0]))
        elif op == "tanh": e = sp.tanh(xs[0])
        elif op == "exp": e = sp.exp(xs[0])
        elif op == "log": e = sp.log(xs[0])
        elif op == "square": e = xs[0] ** 2
        elif op == "bce":
            y = sp.nsimplify(a["target"])
            e = -y * sp.log(xs[0]) - (1 - y) * sp.log(1 - xs[0])
        elif op == "mse": e = sp.Rational(1, 2) * (xs[0] - sp.nsimplify(a["target"])) ** 2
        else: raise KeyError(op)
        expr[name] = e
    subs = {syms[n]: sp.nsimplify(a["value"]) for n, a in nodes if n in syms}
    L = expr[loss]
    value = float(L.subs(subs).evalf(30))
    grads = {n: float(sp.diff(L, s).subs(subs).evalf(30)) for n, s in syms.items()}
    return value, grads

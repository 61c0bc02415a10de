import math

import pytest
from hypothesis import given, settings, strategies as st

from generator.engine import OPS, check_graph, solve
from generator.graphs import original
from generator.graphs.common import GraphBuilder, vector_cells
from oracle import ORACLE_OPS, fd_gradients, nodes_of, sympy_leaf_gradients

GOLDEN_A = {"Yhat": 0.689974, "L": 1.171101, "W3": [-0.137995, 1.379949], "B3": 0.689974,
            "W2": [-0.689974, 0.689974], "B2": 0.689974, "H2": 0.689974, "W1": [-0.068997, 0.068997],
            "B1": 0.068997, "H1": 0.689974, "X1": -0.620977, "X2": 0.275990}
GOLDEN_B = {"Yhat": 0.377541, "L": 0.974077, "H5": 0.622459, "H4": 0.622459, "H3": -0.622459,
            "H2": -1.244918, "H1": -1.452405, "W2": -0.414973, "W1": -1.452405, "B1": -1.244918,
            "X3": 2.489837, "X2": -4.668445, "X1": -0.933689}
# seed-q3.md prints dX3 = 2.489836 and dX2 = -4.668443: sums of already-rounded terms.
# The exact values (sympy, test_seed_graphs_against_sympy) are 2.4898373 and -4.6684450.


def _close6(got, want):
    if isinstance(want, list):
        return len(got) == len(want) and all(_close6(g, w) for g, w in zip(got, want))
    return abs(got - want) <= 1.5e-6  # the reference rounds to 6 decimals


@pytest.mark.parametrize("build, labels, golden", [
    (original.graph_a, list(GOLDEN_A), GOLDEN_A), (original.graph_b, list(GOLDEN_B), GOLDEN_B)])
def test_seed_golden_values(build, labels, golden):
    g = build()
    solve(g)
    cells = vector_cells(g, labels)
    for label in labels:
        assert _close6(cells[label], golden[label]), (label, cells[label], golden[label])


def test_seed_forward_values():
    g = original.graph_a(); solve(g)
    assert [g.nodes[n]["value"] for n in ("Z1", "H1", "Z2", "H2", "Z3")] == pytest.approx([-2, -0.2, 2, 2, 0.8])
    g = original.graph_b(); solve(g)
    assert [g.nodes[f"H{k}"]["value"] for k in range(1, 6)] == pytest.approx([1.5, -1, 1.5, 2, 2])
    assert g.nodes["Z"]["value"] == pytest.approx(-0.5)


def _unary_graph(op, x, **attrs):
    b = GraphBuilder()
    b.leaf("X1", "input", x, "input")
    b.node("Y", op, ["X1"], "hidden", **attrs)
    b.node("L", "mse", ["Y"], "loss", target=0.25)
    return b.graph()


UNARY = {"neg": {}, "relu": {}, "leaky_relu": {"alpha": 0.1}, "sigmoid": {}, "tanh": {}, "exp": {},
         "log": {}, "square": {}}


@settings(max_examples=200, deadline=None)
@given(op=st.sampled_from(sorted(UNARY)), x=st.floats(-4, 4).filter(lambda v: abs(v) > 1e-3))
def test_unary_op_gradient_matches_finite_difference(op, x):
    step = 1e-5
    if op == "log":
        # log's higher derivatives grow like 1/x^3 near 0, so the central difference's
        # step shrinks with x (a fixed 1e-5 at x = 0.00195 is off by 1e-5 relative).
        x = abs(x)
        step = 1e-5 * min(1.0, x)
    g = _unary_graph(op, x, **UNARY[op])
    solve(g)
    nodes = nodes_of(g)
    fd = fd_gradients(nodes, h=step)
    for n in g.nodes:
        assert g.nodes[n]["grad"] == pytest.approx(fd[n], rel=1e-5, abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(op=st.sampled_from(["add", "sub", "mul", "div", "max", "min"]),
       xs=st.lists(st.floats(-4, 4).filter(lambda v: abs(v) > 0.2), min_size=3, max_size=3),
       n=st.sampled_from([2, 3]))
def test_binary_and_nary_op_gradient_matches_finite_difference(op, xs, n):
    if OPS[op].arity == 2:
        n = 2
    xs = xs[:n]
    if op in ("max", "min") and min(abs(a - b) for i, a in enumerate(xs) for b in xs[i + 1:]) < 1e-3:
        return
    b = GraphBuilder()
    args = [b.leaf(f"X{i}", "input", v, "input") for i, v in enumerate(xs, start=1)]
    b.node("Y", op, args, "hidden")
    b.node("L", "mse", ["Y"], "loss", target=0.5)
    g = b.graph()
    solve(g)
    fd = fd_gradients(nodes_of(g))
    for name in g.nodes:
        assert g.nodes[name]["grad"] == pytest.approx(fd[name], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("target", [0.0, 1.0])
@pytest.mark.parametrize("yhat", [0.05, 0.3, 0.7, 0.95])
def test_bce_value_and_derivative_from_the_seed_formulas(target, yhat):
    b = GraphBuilder()
    b.leaf("X1", "input", yhat, "input")
    b.node("L", "bce", ["X1"], "loss", target=target)
    g = b.graph()
    solve(g)
    assert g.nodes["L"]["value"] == pytest.approx(-target * math.log(yhat) - (1 - target) * math.log(1 - yhat))
    assert g.nodes["X1"]["grad"] == pytest.approx((yhat - target) / (yhat * (1 - yhat)))


def test_leaky_relu_derivative_at_zero_is_one_as_the_seed_defines():
    g = _unary_graph("leaky_relu", 0.0, alpha=0.1)
    sol = solve(g)
    assert [s.local for s in sol.steps if s.consumer == "Y"] == [1.0]


def test_fan_out_gradients_are_summed_and_recorded():
    # L = mse(X * X + X): dL/dX = (Y - t)(2X + 1), three terms into X.
    b = GraphBuilder()
    b.leaf("X1", "input", 1.5, "input")
    b.node("P", "mul", ["X1", "X1"], "intermediate")
    b.node("Y", "add", ["P", "X1"], "hidden")
    b.node("L", "mse", ["Y"], "loss", target=1.0)
    g = b.graph()
    sol = solve(g)
    y = 1.5 * 1.5 + 1.5
    assert g.nodes["X1"]["grad"] == pytest.approx((y - 1.0) * (2 * 1.5 + 1))
    steps = sol.steps_into("X1")
    assert len(steps) == 3
    assert sum(s.product for s in steps) == pytest.approx(g.nodes["X1"]["grad"])
    for s in steps:
        assert s.product == pytest.approx(s.local * s.upstream)


def test_step_record_sums_to_every_gradient_on_the_seed_graphs():
    for build in (original.graph_a, original.graph_b):
        g = build()
        sol = solve(g)
        for n in g.nodes:
            if n == sol.loss:
                continue
            steps = sol.steps_into(n)
            assert steps, n
            assert math.fsum(s.product for s in steps) == pytest.approx(g.nodes[n]["grad"], abs=1e-12)
            for s in steps:
                assert s.upstream == g.nodes[s.consumer]["grad"]


def test_seed_graph_b_max_sends_nothing_back_to_h1():
    g = original.graph_b()
    sol = solve(g)
    (into_h1,) = [s for s in sol.steps_into("H1") if s.consumer == "H5"]
    assert into_h1.local == 0.0 and into_h1.product == 0.0


@pytest.mark.parametrize("build", [original.graph_a, original.graph_b])
def test_seed_graphs_against_sympy(build):
    g = build()
    solve(g)
    value, grads = sympy_leaf_gradients(nodes_of(g))
    assert g.nodes["L"]["value"] == pytest.approx(value, rel=1e-12)
    for n, v in grads.items():
        assert g.nodes[n]["grad"] == pytest.approx(v, rel=1e-9, abs=1e-12), n


def test_oracle_ops_cover_the_vocabulary():
    assert set(ORACLE_OPS) == set(OPS)


@pytest.mark.parametrize("mutate, message", [
    (lambda g: g.nodes["Z1"].update(op="frobnicate"), "unknown op"),
    (lambda g: g.nodes["H1"].update(args=["Z1", "Z2"]), "operands"),
    (lambda g: g.nodes["H1"].pop("alpha"), "alpha"),
    (lambda g: g.nodes["L"].pop("target"), "target"),
    (lambda g: g.add_edge("L", "X1"), "cycle"),
])
def test_check_graph_rejects_malformed_graphs(mutate, message):
    g = original.graph_a()
    mutate(g)
    with pytest.raises(ValueError, match=message):
        check_graph(g)

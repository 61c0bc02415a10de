"""The rules of issue 2, items 3 and 4: property tests over random seeds, written
independently of generator/rules.py, plus each rule rejecting a crafted bad draw."""
import math

import networkx as nx
import pytest
from hypothesis import given, settings, strategies as st

from generator import rules
from generator.engine import solve
from generator.graphs import original
from generator.graphs.draft import Draft
from generator.options import DEFAULT
from generator.pset import build_pset

SEEDS = st.integers(min_value=0, max_value=2**63 - 1)


def _operand_values(g, n):
    return [g.nodes[a]["value"] for a in g.nodes[n]["args"]]


def _check_numbers(g):
    for n, a in g.nodes(data=True):
        if a["op"] in ("input", "param"):
            assert a["value"] * 2 == int(a["value"] * 2) and -3 <= a["value"] <= 3, n
        if a["op"] in ("relu", "leaky_relu"):
            assert abs(_operand_values(g, n)[0]) >= 0.05, n
        if a["op"] in ("min", "max"):
            x, y = _operand_values(g, n)
            assert abs(x - y) >= 0.1, n
        if a["op"] == "div":
            assert abs(_operand_values(g, n)[1]) >= 0.5, n
        assert math.isfinite(a["value"]) and math.isfinite(a["grad"])
        if a["role"] in ("input", "param", "hidden") and a["grad"] != 0:
            assert 0.01 <= abs(a["grad"]) <= 10, n
    assert 0.05 <= g.nodes["Yhat"]["value"] <= 0.95
    assert g.nodes["Yhat"]["op"] == "sigmoid" and g.nodes["L"]["op"] == "bce"
    assert g.nodes["L"]["target"] in (0.0, 1.0)
    assert all(n == "L" or nx.has_path(g, n, "L") for n in g.nodes)


def _check_mlp(g):
    inputs = [n for n in g.nodes if g.nodes[n]["op"] == "input"]
    hidden = [n for n in g.nodes if g.nodes[n]["op"] == "leaky_relu"]
    assert len(inputs) in (2, 3) and len(hidden) in (2, 3)
    for h in hidden:  # fully connected: every hidden unit sees every input
        assert set(inputs) <= nx.ancestors(g, h)
    assert any(_operand_values(g, h)[0] < 0 for h in hidden)  # one unit on the leaky branch
    assert all(g.nodes[h]["alpha"] == 0.1 for h in hidden)


def _check_dag(g):
    names = list(g.nodes)
    assert [n for n in names if g.nodes[n]["op"] == "input"] == ["X1", "X2", "X3"]
    assert sorted(n for n in names if g.nodes[n]["role"] == "hidden") == ["H1", "H2", "H3", "H4", "H5"]
    params = [n for n in names if g.nodes[n]["op"] == "param"]
    assert 2 <= len(params) <= 4 and all(p[0] in "WB" for p in params)
    assert any(g.nodes[n]["op"] in ("min", "max") for n in names)
    assert any(g.nodes[n]["op"] in ("mul", "div")
               and sum(g.nodes[a]["op"] != "param" for a in g.nodes[n]["args"]) >= 2 for n in names)
    assert any(g.out_degree(n) >= 2 for n in names)


@settings(max_examples=60, deadline=None)
@given(seed=SEEDS)
def test_every_random_problem_set_meets_every_rule(seed):
    ps = build_pset(seed)
    a, b = ps.problem("q3a").graph, ps.problem("q3b").graph
    _check_numbers(a); _check_mlp(a)
    _check_numbers(b); _check_dag(b)
    for ec, base in (("ec-a", a), ("ec-b", b)):
        g = ps.problem(ec).graph
        assert g.nodes["Yhat"]["op"] == "tanh" and g.nodes["L"]["op"] == "mse"
        assert g.nodes["L"]["target"] == 2 * base.nodes["L"]["target"] - 1
        assert g.nodes["Yhat"]["value"] == pytest.approx(math.tanh(base.nodes[base.nodes["Yhat"]["args"][0]]["value"]))


def _solved(build):
    g = build()
    solve(g)
    return g


def _set_and_solve(g, **values):
    for k, v in values.items():
        g.nodes[k.replace("_", "[", 1) + "]" if "_" in k else k]["value"] = v
    solve(g)
    return g


@pytest.mark.parametrize("rule, make_bad", [
    (rules.leaves_on_grid, lambda: _set_and_solve(original.graph_a(), X1=-1.25)),
    (rules.leaves_on_grid, lambda: _set_and_solve(original.graph_a(), X1=-3.5)),
    (rules.no_kink_at_zero, lambda: _set_and_solve(original.graph_a(), B1=2.0)),        # Z1 = 0
    (rules.no_min_max_tie, lambda: _set_and_solve(original.graph_b(), W1=2)),          # min(X1, H1) = min(2, 2)
    (rules.divisor_not_small, lambda: _set_and_solve(original.graph_b(), W1=0.25)),     # H1 = 0.25
    (rules.hidden_values_short, lambda: _set_and_solve(original.graph_b(), W2=-1)),     # H4 = 2/3
    (rules.output_unsaturated, lambda: _set_and_solve(original.graph_a(), B3=3)),
    (rules.leaf_gradients_nonzero, lambda: _set_and_solve(original.graph_a(), **{"W3_1": 0.0})),
    (rules.some_unit_on_leaky_branch, lambda: _set_and_solve(original.graph_a(), B1=3)),
    (rules.gradients_moderate, lambda: _set_and_solve(original.graph_a(), **{"W3_1": 30.0})),  # dH1 = 30 sigma'
    (rules.gradients_moderate, lambda: _set_and_solve(original.graph_a(), **{"W3_1": 0.001})),
])
def test_each_numeric_rule_rejects_a_bad_draw_and_passes_the_seed(rule, make_bad):
    assert not rule(Draft.of(make_bad()), DEFAULT)
    assert rule(Draft.of(_solved(original.graph_a)), DEFAULT)
    if rule is not rules.some_unit_on_leaky_branch:  # graph (b) has no leaky units
        assert rule(Draft.of(_solved(original.graph_b)), DEFAULT)


def test_structural_rules_pass_the_seeds_graph_b_and_reject_a_plain_chain():
    g = _solved(original.graph_b)
    for rule in (rules.has_routing_gate, rules.has_computed_product, rules.has_fan_out,
                 rules.few_parameters, rules.all_reach_loss):
        assert rule(Draft.of(g), DEFAULT), rule.__name__
    chain = _solved(original.graph_a)  # an mlp: no min/max, products all parameter * something
    assert not rules.has_routing_gate(Draft.of(chain), DEFAULT)
    assert not rules.has_computed_product(Draft.of(chain), DEFAULT)
    chain.add_node("stray", op="input", args=[], value=1.0, role="input")
    assert not rules.all_reach_loss(Draft.of(chain), DEFAULT)

"""Registry-wide: every family's variants checked against independent oracles."""
import math

import pytest

from generator.engine import solve
from generator.graphs import FAMILIES, dag, original
from generator.graphs.common import VALUE_DRAWS_PER_STRUCTURE, sample, with_output
from generator.graphs.draft import Draft
from generator.options import Options
from generator.errors import GenerationError
from generator.seeds import question_rng
from oracle import evaluate, fd_gradients, nodes_of, sympy_leaf_gradients

FAMILY_NAMES = sorted(FAMILIES)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_every_node_value_and_gradient_matches_finite_differences(variants, family):
    assert len(variants[family]) >= 1000
    for v in variants[family]:
        nodes = nodes_of(v.graph)
        values = evaluate(nodes)
        fd = fd_gradients(nodes)
        for name, attrs in nodes:
            assert math.isclose(attrs["value"], values[name], rel_tol=1e-12, abs_tol=1e-12), name
            assert math.isclose(attrs["grad"], fd[name], rel_tol=1e-5, abs_tol=1e-6), (name, attrs["grad"], fd[name])


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_tanh_mse_versions_match_finite_differences(variants, family):
    for v in variants[family][:300]:
        g, _ = with_output(v.graph, "tanh", "mse", 2 * v.graph.nodes["L"]["target"] - 1)
        fd = fd_gradients(nodes_of(g))
        for name in g.nodes:
            assert math.isclose(g.nodes[name]["grad"], fd[name], rel_tol=1e-5, abs_tol=1e-6), name


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_leaf_gradients_match_sympy(variants, family):
    for v in variants[family][:5]:  # symbolic Max/exp chains are slow; FD covers all 1,000
        value, grads = sympy_leaf_gradients(nodes_of(v.graph))
        assert math.isclose(v.graph.nodes["L"]["value"], value, rel_tol=1e-12)
        for name, want in grads.items():
            assert math.isclose(v.graph.nodes[name]["grad"], want, rel_tol=1e-9, abs_tol=1e-12), name


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_answer_labels_cover_every_named_node(variants, family):
    fam = FAMILIES[family]
    for v in variants[family][:100]:
        labels = fam.answer_labels(v.graph)
        assert labels[:2] == ["Yhat", "L"]
        named = {n.split("[")[0] for n in v.graph.nodes if v.graph.nodes[n]["role"] in ("input", "param", "hidden")}
        assert set(labels[2:]) == named
        assert len(labels) == len(set(labels))


def test_answer_labels_follow_the_seeds_column_order():
    g = original.graph_a()
    assert FAMILIES["mlp"].answer_labels(g) == ["Yhat", "L", "W3", "B3", "W2", "B2", "H2", "W1", "B1", "H1", "X1", "X2"]
    g = original.graph_b()
    assert FAMILIES["dag"].answer_labels(g) == ["Yhat", "L", "H5", "H4", "H3", "H2", "H1", "W2", "W1", "B1", "X3", "X2", "X1"]


class ScriptedChooser:
    """Makes given choices, checking each is one the sampler actually offered."""

    def __init__(self, script):
        self.script = list(script)

    def pick(self, seq):
        want = self.script.pop(0)
        assert want in seq, (want, seq)
        return want


def test_dag_family_can_draw_the_seeds_graph_b():
    script = ["add", "fresh", "X1", "fresh", "X2", "scale",          # H1 = W1 (X1 + X2)
              "mul", 3, "any", "X1", "any", "X2", "fresh", "X3", "shift",  # H2 = X1 X2 X3 + B1
              "min", "any", "X1", "fresh", "H1", None,               # H3 = min(X1, H1)
              "div", "fresh", "H2", "any", "H1", "scale",            # H4 = W2 (H2 / H1)
              "max", "any", "H1", "fresh", "H4", None,               # H5 = max(H1, H4)
              "sub"]                                                 # Yhat = sigma(H3 - H5)
    chooser = ScriptedChooser(script)
    assert dag.sample_spec(chooser, 5) == original.DAG_SPEC
    assert chooser.script == []
    assert dag.param_names(original.DAG_SPEC) == ["W1", "B1", "W2"]


def test_sampled_specs_are_sentences_of_the_grammar():
    """The redraw loop builds sampled specs without validating each (dag.build)."""
    choose = dag.RngChooser(question_rng(7, "specs"))
    drawn = 0
    for n_hidden in range(1, 8):  # the config allows 4-6; the default is 5
        for _ in range(1000):
            spec = dag.sample_spec(choose, n_hidden)
            if spec is not None:
                dag.validate_spec(spec)
                drawn += 1
    assert drawn > 1000


def test_dag_sampler_uses_the_whole_grammar(variants):
    ops, outers, arities = set(), set(), set()
    for v in variants["dag"]:
        for n in v.graph.nodes:
            a = v.graph.nodes[n]
            ops.add(a["op"])
            if a["op"] == "mul":
                arities.add(len(a["args"]))
            if a["role"] == "param":
                outers.add(n[0])
    assert {"add", "sub", "mul", "div", "min", "max"} <= ops
    assert arities == {2, 3} and outers == {"W", "B"}


def test_dag_variants_are_not_a_few_templates(variants):
    shapes = {tuple((n, v.graph.nodes[n]["op"], tuple(v.graph.nodes[n]["args"])) for n in v.graph.nodes)
              for v in variants["dag"]}
    assert len(shapes) > 500


def test_mlp_variants_cover_the_shapes():
    from generator.graphs.mlp import shape_of
    o = Options(mlp_layers=(1, 2))
    shapes = {tuple(shape_of(sample(FAMILIES["mlp"], question_rng(s, "shape"), o).graph)) for s in range(300)}
    assert {(2, 2, 1), (2, 3, 1), (3, 2, 1), (3, 3, 1)} <= shapes
    assert any(len(s) == 4 for s in shapes)


def test_impossible_rules_give_an_error_naming_the_rule():
    o = Options(output_min=0.99, max_attempts=50)
    with pytest.raises(GenerationError, match="output_unsaturated"):
        sample(FAMILIES["mlp"], question_rng(1, "x"), o)


def test_original_graphs_solve_again_identically():
    a1, a2 = original.graph_a(), original.graph_a()
    solve(a1); solve(a2)
    assert [a1.nodes[n] for n in a1.nodes] == [a2.nodes[n] for n in a2.nodes]


def _sample_checking_everything(family, rng, o):
    """The redraw loop at its plainest: solve every draw as a DiGraph, check every rule on it."""
    d = None
    for attempt in range(1, o.max_attempts + 1):
        if attempt % VALUE_DRAWS_PER_STRUCTURE == 1:
            d = family.build(rng, o)
        else:
            family.draw_values(d, rng, o)
        g = d.graph()
        try:
            solve(g)
        except (ZeroDivisionError, ValueError, OverflowError):
            continue
        if all(rule(Draft.of(g), o) for rule in family.rules):
            return g, attempt
    raise AssertionError("no draw passed")


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_the_redraw_loop_picks_the_draw_that_checking_everything_picks(family):
    """sample() skips what cannot change a verdict (structural rules once per structure,
    backward after the value rules); it must still accept the very same draw."""
    o = Options()
    for s in range(150):
        v = sample(FAMILIES[family], question_rng(s, "loop"), o)
        g, attempt = _sample_checking_everything(FAMILIES[family], question_rng(s, "loop"), o)
        assert v.attempts == attempt
        assert [(n, v.graph.nodes[n]) for n in v.graph.nodes] == [(n, g.nodes[n]) for n in g.nodes]

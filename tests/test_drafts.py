"""The redraw loop's lightweight graphs (graphs/draft.py) and compiled passes
(engine.Program), checked against networkx's own methods and the old behaviour."""
from __future__ import annotations

import dataclasses

import networkx as nx
import pytest

from generator.config import DEFAULT_CONFIG
from generator.engine import Program
from generator.export import answers_document
from generator.graphs import FAMILIES, original
from generator.graphs.common import Family, sample
from generator.graphs.draft import Draft, copy_graph, to_graph
from generator.options import Options
from generator.pset import build_pset
from generator.seeds import question_rng


def _by_add_methods(g: nx.DiGraph) -> nx.DiGraph:
    """The graph networkx's add_node/add_edge build from g's nodes, operands in order."""
    h = nx.DiGraph()
    for name, attrs in g.nodes(data=True):
        h.add_node(name, **attrs)
        for a in attrs["args"]:
            h.add_edge(a, name)
    return h


def _shape(g: nx.DiGraph):
    return (list(g.nodes(data=True)), list(g.edges(data=True)),
            {n: list(g.successors(n)) for n in g}, {n: list(g.predecessors(n)) for n in g})


@pytest.mark.parametrize("build", [original.graph_a, original.graph_b])
def test_to_graph_builds_what_networkx_add_methods_build(build):
    g = build()
    assert _shape(to_graph(dict(g.nodes(data=True)))) == _shape(_by_add_methods(g))


def test_to_graph_refuses_an_operand_that_is_not_an_earlier_node():
    with pytest.raises(ValueError, match="not an earlier node"):
        to_graph({"a": {"op": "add", "args": ["b"]}, "b": {"op": "input", "args": []}})


@pytest.mark.parametrize("build", [original.graph_a, original.graph_b])
def test_copy_graph_is_what_g_copy_gives(build):
    g = build()
    h = copy_graph(g)
    assert _shape(h) == _shape(g.copy())
    h.nodes["L"]["op"] = "mse"  # its own attribute dicts: the original keeps its op
    assert g.nodes["L"]["op"] == "bce"


def test_integer_options_still_give_float_values():
    """The passes no longer make drawn values floats: the grid must be floats itself (a
    config file casts its numbers; Options made in code need not)."""
    opts = dataclasses.replace(Options(), value_step=1, value_min=-3, value_max=3)
    doc = answers_document(build_pset(3, dataclasses.replace(DEFAULT_CONFIG, options=opts)))
    values = [n["value"] for q in doc["questions"] if "graph" in q for n in q["graph"]["nodes"]]
    assert values and all(isinstance(v, float) for v in values)


def test_backward_needs_a_forward_pass_first():
    program = Program.of(original.graph_a())
    with pytest.raises(RuntimeError, match="forward"):
        program.backward()
    program.forward()
    assert program.backward().steps


def test_a_builder_bug_is_not_taken_for_an_unsolvable_draw():
    """A structure with two sinks is the builder's bug: it must surface, not be redrawn
    until the budget runs out and then blamed on the draws."""
    dag = FAMILIES["dag"]

    def two_sinks(rng, o):
        d = dag.build(rng, o)
        return Draft({**d.nodes, "stray": {"op": "input", "args": [], "value": 1.0, "role": "input"}})
    broken = Family("dag", two_sinks, dag.draw_values, dag.answer_labels, ())
    with pytest.raises(RuntimeError, match="builder bug"):
        sample(broken, question_rng(1, "q3b"), Options())

"""The key's worked solution is built from the engine's step record."""
import math

from generator.engine import solve
from generator.graphs import original
from generator.worked import backward_lines, forward_lines, legend
from generator.mathfmt import output_input, shape_text
from generator.pset import build_pset


def _lines(build):
    g = build()
    sol = solve(g)
    return g, sol, {l.lhs: l for l in backward_lines(g, sol, 4)}


def test_fan_out_node_shows_every_term_and_the_zero_branch():
    g, sol, lines = _lines(original.graph_b)
    h1 = lines["nabla H_1"]
    assert len(h1.symbolic) == len(h1.numeric) == 3         # H1 feeds u4, H3 and H5
    assert any("dot 0" in t for t in h1.numeric)              # max(H1, H4) picks H4
    assert '"max picks" H_4' in h1.notes and '"min picks" H_1' in h1.notes
    assert h1.value == "−1.4524"
    math_text = h1.math()
    assert math_text.count("&quad +") == 2                    # 3 terms wrap to two rows each


def test_every_node_but_the_loss_has_a_line_whose_terms_match_the_record():
    for build in (original.graph_a, original.graph_b):
        g, sol, lines = _lines(build)
        assert len(lines) == g.number_of_nodes() - 1
        for line in lines.values():
            assert line.symbolic and len(line.symbolic) == len(line.numeric)


def test_leaky_steps_say_which_branch():
    g, sol, lines = _lines(original.graph_a)
    assert any("z_1 = −2 < 0, alpha = 0.1" in n for n in lines["nabla z_1"].notes)
    assert any("z_2 = 2 >= 0" in n for n in lines["nabla z_2"].notes)


def test_negative_local_derivatives_are_parenthesised():
    g, sol, lines = _lines(original.graph_b)
    assert lines["nabla H_5"].symbolic == ["nabla z dot (-1)"]


def test_forward_lines_show_each_computed_node_with_its_value():
    g = original.graph_b()
    sol = solve(g)
    fl = {l.lhs: l for l in forward_lines(g, sol, 4)}
    assert fl["H_1"].definition == "W_1 dot u_1" and fl["H_1"].value == "1.5"
    assert fl["H_4"].numbers == "(−3) dot (−0.6667)" and fl["H_4"].value == "2"
    assert fl["L"].numbers == "-log 0.3775"
    assert set(fl) == {"u_1", "H_1", "u_2", "H_2", "H_3", "u_4", "H_4", "H_5", "z", "hat(Y)", "L"}


def test_values_in_lines_agree_with_the_graph():
    ps = build_pset(11)
    for qid in ("q3a", "q3b"):
        p = ps.problem(qid)
        for line in backward_lines(p.graph, p.solution, 4):
            name = line.lhs.removeprefix("nabla ")
            node = next(n for n in p.graph.nodes if _sym(n) == name)
            assert math.isclose(float(line.value.replace("−", "-")), p.graph.nodes[node]["grad"], abs_tol=5e-5)


def _sym(n):
    from generator.mathfmt import symbol
    return symbol(n)


def test_texts_for_the_statement():
    g = original.graph_a()
    assert shape_text(g) == "2 inputs, a hidden layer of 2 units"
    assert output_input(g) == "bold(W)_3 dot [H_1, H_2] + B_3"
    assert output_input(original.graph_b()) == "H_3 - H_5"
    assert "u_1" in legend(original.graph_b(), "dag") and "z_u" in legend(g, "mlp")

import pytest

from generator.errors import PsetError
from generator.pset import build_pset
from generator.seeds import parse_seed, question_rng, variant_code


def test_streams_are_pinned():
    # If numpy or our derivation changes the stream, every student's numbers change: catch it.
    assert question_rng(42, "q3a").integers(0, 2**62, 3).tolist() == [
        1950227994808640125, 2824927316287786489, 3277437607013637027]
    assert question_rng(0, "q3b").integers(0, 2**62, 3).tolist() == [
        3802040963272517808, 3976490036678908359, 2536321919341816112]


def test_seed_42_problem_set_is_pinned():
    ps = build_pset(42)
    a = ps.problem("q3a").graph
    assert {n: a.nodes[n]["value"] for n in a.nodes if a.nodes[n]["op"] in ("input", "param")} == {
        "X1": -2.0, "X2": -3.0, "X3": 1.5, "W1[1]": -3.0, "W1[2]": 2.0, "W1[3]": -2.0, "B1": -2.5,
        "W2[1]": -1.0, "W2[2]": 3.0, "W2[3]": -1.5, "B2": -2.5, "W3[1]": 0.5, "W3[2]": 0.5, "W3[3]": -2.5,
        "B3": -2.5, "W4[1]": 1.5, "W4[2]": 0.5, "W4[3]": -1.0, "B4": -2.0}
    b = ps.problem("q3b").graph
    assert [(n, b.nodes[n]["op"], b.nodes[n]["args"]) for n in b.nodes if b.nodes[n]["role"] == "hidden"] == [
        ("H1", "mul", ["X3", "X2"]), ("H2", "mul", ["W1", "U2"]), ("H3", "add", ["U3", "B1"]),
        ("H4", "add", ["U4", "B2"]), ("H5", "add", ["U5", "B3"])]
    assert ps.variant == variant_code(42) == "BB97-63BD"


def test_streams_are_independent_per_question():
    a = question_rng(7, "q3a").integers(0, 2**62, 4).tolist()
    assert a != question_rng(7, "q3b").integers(0, 2**62, 4).tolist()
    assert a != question_rng(8, "q3a").integers(0, 2**62, 4).tolist()
    assert a == question_rng(7, "q3a").integers(0, 2**62, 4).tolist()


def test_different_seeds_give_different_numbers():
    losses = {build_pset(s).problem("q3b").answers["L"] for s in range(20)}
    assert len(losses) >= 15


@pytest.mark.parametrize("raw, want", [(0, 0), ("17", 17), (" 42 ", 42), (2**63 - 1, 2**63 - 1)])
def test_parse_seed_accepts(raw, want):
    assert parse_seed(raw) == want


@pytest.mark.parametrize("raw", [-1, "-1", 2**63, str(2**63), "1.5", "abc", "", "4e3", True, "٣", None])
def test_parse_seed_rejects_with_one_line(raw):
    with pytest.raises(PsetError) as e:
        parse_seed(raw)
    assert "\n" not in str(e.value) and "seed" in str(e.value)


def test_variant_codes_differ_and_hide_the_seed():
    codes = {variant_code(s) for s in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 9 and c[4] == "-" for c in codes)

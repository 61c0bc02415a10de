"""Draws must give the very integers numpy's Generator.integers(n) gives on the same
stream: every seed's Question 3 numbers depend on it."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from generator.draws import Draws
from generator.graphs import FAMILIES
from generator.graphs.common import sample
from generator.options import Options
from generator.seeds import question_draws, question_rng

# Small bounds (what the families use), and large ones where Lemire's method often
# rejects a draw and redraws (n just above 2**31 rejects about half of them).
BOUNDS = st.one_of(st.integers(1, 12), st.integers(2**31 + 1, 2**31 + 1000), st.integers(1, 2**32 - 1))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**64 - 1), st.lists(BOUNDS, min_size=1, max_size=400))
def test_draws_match_numpy_integers(seed, bounds):
    numpy_rng = np.random.Generator(np.random.PCG64(seed))
    draws = Draws(np.random.PCG64(seed))
    assert [draws.integers(n) for n in bounds] == [int(numpy_rng.integers(n)) for n in bounds]


@pytest.mark.parametrize("n", [0, -1, 2**32, 2**40])
def test_draws_refuse_bounds_numpy_would_draw_differently(n):
    with pytest.raises(ValueError, match="n must be"):
        Draws(np.random.PCG64(1)).integers(n)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_sampling_with_draws_gives_what_numpy_gives(family):
    o = Options()
    for s in range(100):
        v = sample(FAMILIES[family], question_draws(s, "q3"), o)
        w = sample(FAMILIES[family], question_rng(s, "q3"), o)
        assert v.attempts == w.attempts
        assert [(n, v.graph.nodes[n]) for n in v.graph.nodes] == [(n, w.graph.nodes[n]) for n in w.graph.nodes]

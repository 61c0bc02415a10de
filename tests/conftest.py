import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from generator.graphs import FAMILIES  # noqa: E402
from generator.graphs.common import sample  # noqa: E402
from generator.options import DEFAULT  # noqa: E402
from generator.seeds import question_rng  # noqa: E402

SEEDS_PER_FAMILY = 1000


@pytest.fixture(scope="session")
def variants():
    """1,000 variants per family, drawn once and shared by the oracle tests."""
    return {name: [sample(fam, question_rng(seed, f"test-{name}"), DEFAULT) for seed in range(SEEDS_PER_FAMILY)]
            for name, fam in FAMILIES.items()}

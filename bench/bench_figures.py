"""CPU time of one student's four graph figures (q3a mlp and q3b dag, each drawn for
the question PDF and for the key), per seed.

    python bench/bench_figures.py [N]        # seeds 0..N-1, default 100

Target (issue 3): under ~15 ms mean and ~60 ms worst per student. The layout cache is
cleared before each student (every student has their own graphs), so each figure pair
pays for its layout once, as in a roster batch."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.figures import graph_figure  # noqa: E402
from generator.pset import build_pset  # noqa: E402

try:  # the layout cache, if this version has one
    from generator.figures import clear_cache  # noqa: E402
except ImportError:  # pragma: no cover - the version before the cache
    def clear_cache() -> None:
        pass


def _stats(name: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    return (f"{name:<16} mean {statistics.mean(ms):6.1f} ms  median {statistics.median(ms):6.1f} ms  "
            f"p99 {p99:6.1f} ms  max {ms[-1]:6.1f} ms")


def main(n: int) -> None:
    problems = []
    for seed in range(n):
        ps = build_pset(seed)
        problems.append([ps.problem(q) for q in ("q3a", "q3b")])
    for p in problems[0]:  # warm up: imports, first-call costs
        graph_figure(p.graph, p.family)
    per_student, per_family = [], {"mlp": [], "dag": []}
    for pair in problems:
        clear_cache()
        total = 0.0
        for p in pair:
            t0 = time.process_time()
            graph_figure(p.graph, p.family)
            graph_figure(p.graph, p.family, name_intermediates=True)
            dt = time.process_time() - t0
            per_family[p.family].append(dt)
            total += dt
        per_student.append(total)
    print(f"seeds: {n} (0..{n - 1}); CPU time of the question and key figures of one student")
    print(_stats("per student", per_student))
    for family, times in per_family.items():
        print(_stats(f"  {family} (q+key)", times))
    worst = sorted(range(n), key=per_student.__getitem__, reverse=True)[:5]
    print("slowest seeds: " + ", ".join(f"{s} ({per_student[s] * 1000:.0f} ms)" for s in worst))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)

"""Time per student for both PDFs against the bare Typst compile of the same sources.

    python bench/bench_render.py [N [ROUNDS]]     # N students per process [30], ROUNDS [3]

Targets (issue 3): ratio <= 1.3; one student's two PDFs in under 0.15 s of one core.
Reports CPU time (one core). "Bare" is typst.compile of the very files make-pset hands
Typst (the document in parts, chunks.py), students in the same order; for reference it
also times the same documents as one standalone source each, which is what the part
files save. Each of the three is timed in a fresh process of its own, after the same
warm-up: a process slows down as it keeps typesetting (glibc's malloc, see docs/performance.md), so
timing one after another in one process would favour the first. The three alternate for
ROUNDS rounds and the medians count: this machine's speed drifts by 10% from one minute
to the next. (The batch typesets at most batch.WORKER_STUDENTS = 50 students per process
on Linux; the CLI one.)"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from allocator import allocator  # noqa: E402  (bench/, the script's folder)

from generator.pset import build_pset  # noqa: E402
from generator import chunks  # noqa: E402
from generator.render import FIXED_TIMESTAMP, _compiler, compile_pdf, document_source  # noqa: E402
from generator.export import answers_document, dumps  # noqa: E402


def measure(part: str, n: int) -> list[float]:
    """CPU seconds per student for one of: pipeline, bare, standalone."""
    seeds = range(1000, 1000 + n)
    compile_pdf(document_source(build_pset(1), key=False))  # warm up: fonts, template cache
    times = []
    if part == "pipeline":
        for seed in seeds:
            t0 = time.process_time()
            ps = build_pset(seed)
            q_src, k_src = document_source(ps, key=False), document_source(ps, key=True)
            compile_pdf(q_src), compile_pdf(k_src)
            dumps(answers_document(ps))
            times.append(time.process_time() - t0)
        return times
    sources = [(document_source(ps, key=False), document_source(ps, key=True)) for ps in map(build_pset, seeds)]
    if part == "bare":
        compiler = _compiler()
        for q_files, k_files in [(chunks.files(q), chunks.files(k)) for q, k in sources]:
            t0 = time.process_time()
            for f in (q_files, k_files):
                compiler.compile(input=f, format="pdf", timestamp=FIXED_TIMESTAMP, pdf_tags=False)
            times.append(time.process_time() - t0)
    else:
        for q_src, k_src in sources:
            t0 = time.process_time()
            compile_pdf(q_src, chunked=False), compile_pdf(k_src, chunked=False)
            times.append(time.process_time() - t0)
    return times


def main(n: int, rounds: int) -> None:
    runs = {part: [] for part in ("pipeline", "bare", "standalone")}
    for _ in range(rounds):  # alternated: this machine's speed drifts by 10% from one minute to the next
        for part in runs:
            proc = subprocess.run([sys.executable, __file__, "--part", part, str(n)], capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"{part} failed:\n{proc.stderr}")
            runs[part].append(statistics.mean(json.loads(proc.stdout.strip().splitlines()[-1])))
    full, bare, alone = (statistics.median(runs[p]) for p in ("pipeline", "bare", "standalone"))
    ratios = [f / b for f, b in zip(runs["pipeline"], runs["bare"])]
    ms = lambda xs: ", ".join(f"{x * 1000:.1f}" for x in xs)  # noqa: E731
    print(f"students: {n} per process; {rounds} rounds, each figure from a fresh process; medians over the rounds")
    print(f"make-pset per student (generate + render + both PDFs + JSON): {full * 1000:.1f} ms CPU ({ms(runs['pipeline'])})")
    print(f"bare typst.compile of the same two documents (part files):   {bare * 1000:.1f} ms CPU ({ms(runs['bare'])})")
    print(f"  (the same two documents as one source each, for reference: {alone * 1000:.1f} ms CPU)")
    print(f"  allocator: {allocator()}")
    print(f"ratio: {statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)}; target <= 1.3)")
    print(f"per-student target 150 ms: {'met' if full <= 0.15 else 'NOT met'} (median; worst round "
          f"{max(runs['pipeline']) * 1000:.1f} ms)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--part":
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]))))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 30, int(sys.argv[2]) if len(sys.argv) > 2 else 3)

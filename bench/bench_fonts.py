"""What the shipped fallback fonts cost: compiler start-up, compile time, PDF size.

    python bench/bench_fonts.py [N]

Compares a typst.Compiler with Typst's own fonts only against one that also has the
fallback fonts (generator/fonts.py), on the same N documents. Targets: the ASCII-name
PDF does not grow; per-document compile time within a few per cent."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import typst  # noqa: E402

from generator import fonts  # noqa: E402
from generator.pset import build_pset  # noqa: E402
from generator.render import FIXED_TIMESTAMP, document_source  # noqa: E402

NAMES = {"ASCII": "Jane Q. Doe", "CJK": "王小明", "Devanagari": "प्रिया शर्मा",
         "emoji": "Zoë 🚀", "all of them": "Jane Q. Doe 王小明 김민준 प्रिया शर्मा محمد Zoë 🚀"}


def compiler(with_fonts: bool) -> typst.Compiler:
    extra = {"font_paths": fonts.font_paths()} if with_fonts else {}
    return typst.Compiler(root=tempfile.mkdtemp(), ignore_system_fonts=True, **extra)


def compile_(c: typst.Compiler, source: str) -> bytes:
    return c.compile(input=source.encode("utf-8"), format="pdf", timestamp=FIXED_TIMESTAMP, pdf_tags=False)


def startup_ms(with_fonts: bool, runs: int = 30) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        compiler(with_fonts)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def compile_ms(configs: dict[str, tuple[bool, list[str]]], rounds: int = 6) -> dict[str, float]:
    """Mean CPU per document for each config, the best of interleaved rounds in rotating
    order: other load on the machine, and running first or last, hit every config alike."""
    compilers = {label: compiler(with_fonts) for label, (with_fonts, _) in configs.items()}
    for label, (_, sources) in configs.items():
        compile_(compilers[label], sources[0])  # warm up
    best = {label: float("inf") for label in configs}
    labels = list(configs)
    for r in range(rounds):
        for label in labels[r % len(labels):] + labels[:r % len(labels)]:  # rotate: position skews
            sources = configs[label][1]
            t0 = time.process_time()
            for source in sources:
                compile_(compilers[label], source)
            best[label] = min(best[label], (time.process_time() - t0) / len(sources) * 1000)
    return best


def main(n: int) -> None:
    plain_head = '"New Computer Modern"'
    stack = fonts.typst_font_list()

    def source(seed: int, name: str, head: str) -> str:
        text = document_source(build_pset(seed), key=False, student_name=name)
        return text.replace(stack, head)  # the template may or may not name the list yet

    print("Compiler() start-up, median of 30:")
    for with_fonts in (False, True):
        print(f"  {'with' if with_fonts else 'without'} fallback fonts: {startup_ms(with_fonts):.2f} ms")
    ascii_plain = [source(1000 + i, NAMES["ASCII"], plain_head) for i in range(n)]
    ascii_stack = [source(1000 + i, NAMES["ASCII"], stack) for i in range(n)]
    cjk_stack = [source(1000 + i, NAMES["all of them"], stack) for i in range(n)]
    print(f"compile, mean CPU per question PDF over {n}, best of 6 rotating rounds:")
    rows = {"Typst fonts only, ASCII name": (False, ascii_plain),
            "with fallbacks, ASCII name": (True, ascii_stack),
            "with fallbacks, name in 5 scripts": (True, cjk_stack)}
    for label, ms in compile_ms(rows).items():
        print(f"  {label:36} {ms:6.1f} ms")
    print("question-PDF size (seed 1000):")
    before = compile_(compiler(False), ascii_plain[0])
    print(f"  {'ASCII name, Typst fonts only:':36} {len(before):7d} bytes")
    for label, name in NAMES.items():
        pdf = compile_(compiler(True), source(1000, name, stack))
        same = " (byte-identical)" if pdf == before else ""
        print(f"  {label + ' name, with fallbacks:':36} {len(pdf):7d} bytes{same}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)

"""Grading speed: a 1,000-student key folder (cached under /tmp) and a submissions CSV
mixing exact, 3-decimal, chain-rounded, follow-through and garbage rows; times
grade_batch (reading, grading, writing grades.csv, 1,000 feedback files, the report).

    PYTHONPATH=. python bench/bench_grade.py [--students 1000]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

from generator.grading import GradingConfig, grade_batch
from generator.grading.synthetic import build_key_dir, key_cells, rounded_student, student_id, write_submissions

CACHE = Path(tempfile.gettempdir()) / "make-pset-bench-grade"


def key_dir(n: int) -> tuple[Path, list[dict]]:
    folder = CACHE / f"key-{n}"
    if not (folder / "manifest.csv").exists():
        t = time.perf_counter()
        build_key_dir(folder, range(n), canvas=True)
        print(f"built key folder for {n} students in {time.perf_counter() - t:.1f} s (cached: {folder})")
    docs = [json.loads(line) for line in (folder / "answers.jsonl").open()]
    return folder, docs


def submission(i: int, doc: dict) -> dict[str, str]:
    kind = i % 5
    if kind == 0:
        return {k: repr(v) for k, v in key_cells(doc).items()}
    if kind == 1:
        return {k: f"{v:.3f}" for k, v in key_cells(doc).items()}
    if kind == 2:
        return {k: repr(v) for k, v in rounded_student(doc, 3).items()}
    cells = {k: f"{v:.4f}" for k, v in key_cells(doc).items()}
    if kind == 3:  # a wrong Yhat carried into L and dL/dZ by the student's own chain rule
        cells["q3a.Yhat"] = f"{float(cells['q3a.Yhat']) * 0.9:.4f}"
        return cells
    for j, col in enumerate(sorted(cells)):  # garbage and affine-wrong cells
        h = hashlib.sha256(f"{i}{col}".encode()).digest()[0]
        cells[col] = ("0,5", "~1", "n/a", "\u22121/2")[h % 4] if j % 3 == 0 else cells[col]
    return cells


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=1000)
    n = ap.parse_args().students
    folder, docs = key_dir(n)
    work = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    subs = work / "submissions.csv"
    write_submissions(subs, [(student_id(i), submission(i, d)) for i, d in enumerate(docs)])
    t = time.perf_counter()
    summary = grade_batch(folder, subs, GradingConfig(), work / "grades.csv")
    dt = time.perf_counter() - t
    print(summary.line())
    print(f"grade_batch: {n} students in {dt:.2f} s ({n / dt:.0f} students/s; target: 1,000 in under 5 s)")
    print(f"outputs in {work}")


if __name__ == "__main__":
    main()

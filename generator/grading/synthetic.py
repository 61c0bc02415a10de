"""Synthetic key folders and submissions, for the tests and bench/ (and to try the
grader before a roster batch exists). A key folder is what the roster batch writes:
answers.jsonl, manifest.csv, optionally roster-columns.csv."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Callable, Iterable

from ..engine import LEAF_OPS, OPS
from ..export import answers_document, write_atomic
from ..pset import build_pset
from ..roster import CANVAS_COLUMNS
from .sheet import merged_columns, question_cells



def student_id(seed: int) -> str:
    return f"S{seed:05d}"


def build_key_dir(out: Path, seeds: Iterable[int], canvas: bool = False,
                  docs: list[dict] | None = None) -> list[dict]:
    """Write a key folder for one student per seed (ids S00000.., names "Student <seed>");
    returns the answers documents. ``docs`` reuses documents built earlier."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = list(seeds)
    if docs is None:
        docs = [answers_document(build_pset(s), student_id=student_id(s)) for s in seeds]
    else:
        docs = [{**d, "student_id": student_id(s)} for s, d in zip(seeds, docs)]
    write_atomic(out / "answers.jsonl", "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    manifest = [["student_id", "name", "seed", "file_stem"]]
    manifest += [[student_id(s), f"Student {s}", str(s), f"{student_id(s).lower()}"] for s in seeds]
    write_atomic(out / "manifest.csv", _csv(manifest))
    if canvas:
        rows = [["student_id", *CANVAS_COLUMNS]]
        rows += [[student_id(s), f"Student {s}", str(1000 + s), f"SIS{s}", f"login{s}", "Sec 1"] for s in seeds]
        write_atomic(out / "roster-columns.csv", _csv(rows))
    return docs


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def key_cells(doc: dict) -> dict[str, float]:
    return {c.column: c.expected for q in doc["questions"] for c in question_cells(q)}


def replay_rounded(q: dict, decimals: int, round_local: bool = False) -> dict[str, float]:
    """A student who rounds every forward value and every gradient to ``decimals`` as
    they go (and, with round_local, every local derivative and product): their cells."""
    nodes = q["graph"]["nodes"]
    val: dict[str, float] = {}
    for n in nodes:
        xs = [val[a] for a in n["args"]]
        val[n["name"]] = n["value"] if n["op"] in LEAF_OPS else round(OPS[n["op"]].forward(xs, n), decimals)
    grad = {n["name"]: 0.0 for n in nodes}
    grad[nodes[-1]["name"]] = 1.0
    for n in reversed(nodes):
        if n["op"] in LEAF_OPS:
            continue
        g = grad[n["name"]] = round(grad[n["name"]], decimals)
        locals_ = OPS[n["op"]].local([val[a] for a in n["args"]], val[n["name"]], n)
        for a, local in zip(n["args"], locals_):
            grad[a] += round(round(local, decimals) * g, decimals) if round_local else local * g
    return {c.column: (val[c.name] if c.is_value else round(grad[c.name], decimals)) for c in question_cells(q)}


def rounded_student(doc: dict, decimals: int, round_local: bool = False) -> dict[str, float]:
    cells: dict[str, float] = {}
    for q in doc["questions"]:
        if question_cells(q):
            cells.update(replay_rounded(q, decimals, round_local) if q.get("graph") else
                         {c.column: round(c.expected, decimals) for c in question_cells(q)})
    return cells


def write_submissions(path: Path, rows: list[tuple[str, dict[str, str]]], columns: list[str] | None = None) -> None:
    """A submissions CSV in the answer-sheet format: student_id, name, cell columns."""
    if columns is None:
        columns = []
        for _, cells in rows:
            columns += [c for c in cells if c not in columns]
    body = [["student_id", *columns]] + [[sid, *(str(cells.get(c, "")) for c in columns)] for sid, cells in rows]
    write_atomic(Path(path), _csv(body))


def mapped(doc: dict, f: Callable[[str, float], float]) -> dict[str, float]:
    return {col: f(col, v) for col, v in key_cells(doc).items()}


__all__ = ["build_key_dir", "key_cells", "replay_rounded", "rounded_student", "write_submissions",
           "mapped", "student_id", "merged_columns"]

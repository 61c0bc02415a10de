"""The answer sheet: one column per numeric answer cell, ``<question>.<cell>``.

A cell is one entry of a question's answer table: ``Yhat`` and ``L`` are forward
values, every other label is dL/d(label); a vector label (``W3``) gives one cell per
element (``W3[1]``, ``W3[2]``), named like its graph node.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..export import write_atomic

VALUE_CELLS = ("Yhat", "L")
SHEET_ID_COLUMNS = ("student_id", "name")


@dataclass(frozen=True)
class Cell:
    question: str
    name: str        # graph node name: "Yhat", "W3[1]", "H2"
    expected: float

    @property
    def column(self) -> str:
        return f"{self.question}.{self.name}"

    @property
    def is_value(self) -> bool:
        return self.name in VALUE_CELLS


def is_numeric_question(q: dict) -> bool:
    answers = q.get("answers")
    return isinstance(answers, dict) and bool(answers) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool)
        or isinstance(v, list) and v and all(isinstance(x, (int, float)) for x in v)
        for v in answers.values())


def question_cells(q: dict) -> list[Cell]:
    """The question's cells in table order (empty for a question without numeric cells)."""
    if not is_numeric_question(q):
        return []
    cells = []
    for label, v in q["answers"].items():
        if isinstance(v, list):
            cells += [Cell(q["id"], f"{label}[{i}]", float(x)) for i, x in enumerate(v, start=1)]
        else:
            cells.append(Cell(q["id"], label, float(v)))
    return cells


def answer_sheet_columns(doc: dict) -> list[str]:
    """One student's cell columns, in question order and then table order."""
    return [c.column for q in doc["questions"] for c in question_cells(q)]


def merged_columns(docs: Iterable[dict]) -> list[str]:
    """The union of several students' columns (their graphs differ), keeping each
    student's table order: a new column goes right after its predecessor in that
    student's list. Deterministic for a given student order."""
    merged: list[str] = []
    seen: set[str] = set()
    for doc in docs:
        prev = None
        for col in answer_sheet_columns(doc):
            if col not in seen:
                at = merged.index(prev) + 1 if prev is not None else _question_start(merged, col)
                merged.insert(at, col)
                seen.add(col)
            prev = col
    return merged


def _question_start(merged: list[str], col: str) -> int:
    question = col.split(".", 1)[0]
    for i, c in enumerate(merged):
        if c.split(".", 1)[0] == question:
            return i
    return len(merged)


def write_answer_sheet(path: Path, rows: Iterable[tuple[str, str, dict]]) -> list[str]:
    """answer-sheet.csv from (student_id, name, answers document) rows: ``student_id,
    name`` and one empty column per numeric cell (the union over the students; a student
    fills the cells of their own table). Written atomically; returns the cell columns."""
    rows = list(rows)
    columns = merged_columns(doc for _, _, doc in rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(SHEET_ID_COLUMNS) + columns)
    for student_id, name, _ in rows:
        w.writerow([student_id, name] + [""] * len(columns))
    write_atomic(Path(path), buf.getvalue())
    return columns

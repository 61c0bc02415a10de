"""grade_batch: a key folder + a submissions CSV -> grades.csv, feedback/, the report,
and (for a Canvas roster) canvas-import.csv, all next to grades.csv, written atomically.

Rows are matched on ``student_id`` (surrounding spaces and Unicode normalization ignored). A student in the
manifest without a row scores 0 and is listed as missing; a row whose id is not in the
manifest is listed as unknown and not graded; when an id has several rows the last one
(the latest form submission) is graded and the others are listed as duplicates. The
summary line and grading-report.txt list all of these.
"""
from __future__ import annotations

import csv
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..batch import OUTPUT_NAMES
from ..errors import PsetError
from ..export import write_atomic
from .config import GradingConfig
from .feedback import by_hand_note, feedback_markdown, pts
from .keydir import KeyStudent, load_key, read_submissions
from .score import StudentGrade, grade_submission
from .sheet import question_cells
from ..roster import CANVAS_COLUMNS, same_text

REPORT_NAME = "grading-report.txt"
CANVAS_NAME = "canvas-import.csv"
FEEDBACK_DIR = "feedback"


@dataclass
class Summary:
    graded: int = 0
    students: int = 0
    missing: list[str] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)          # (line, id)
    duplicates: dict[str, list[int]] = field(default_factory=dict)       # id -> lines not graded
    blank_id_lines: list[int] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    unreadable_cells: int = 0
    files: list[Path] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"graded {self.graded} of {self.students} students",
                 f"{len(self.missing)} missing", f"{len(self.unknown)} unknown ids",
                 f"{sum(len(v) for v in self.duplicates.values())} duplicate rows",
                 f"{self.unreadable_cells} unreadable cells"]
        if self.blank_id_lines:
            parts.append(f"{len(self.blank_id_lines)} rows without an id")
        if self.ignored_columns:
            parts.append(f"{len(self.ignored_columns)} unknown columns ignored")
        return "; ".join(parts)


class _KeyIds:
    """The key's students by id: the very id, else the one id that is the same text in
    another Unicode normalization (a form or a spreadsheet on macOS may write an accent
    as two code points; a roster cannot hold both forms, a key from before that check can)."""

    def __init__(self, students) -> None:
        self.exact = {s.student_id: s for s in students}
        self.by_text: dict[str, list] = {}
        for s in students:
            self.by_text.setdefault(same_text(s.student_id), []).append(s)

    def find(self, sid: str):
        if sid in self.exact:
            return self.exact[sid]
        candidates = self.by_text.get(same_text(sid), [])
        return candidates[0] if len(candidates) == 1 else None

    def why_unknown(self, sid: str) -> str:
        """An unknown id that is the same text as several: which ones, their code
        points shown, as they look alike."""
        same = [s.student_id for s in self.by_text.get(same_text(sid), [])]
        if len(same) < 2:
            return ""
        return (f" {ascii(sid)}, the same text as {len(same)} students' ids in other Unicode normalizations "
                f"({', '.join(ascii(k) for k in same)}): write it exactly as one of them")


def grade_batch(key_dir: Path, submissions_csv: Path, cfg: GradingConfig, out_path: Path) -> Summary:
    out_path = Path(out_path)
    check_output_place(out_path, Path(submissions_csv), Path(key_dir))
    key = load_key(key_dir)
    _check_cell_points(cfg, key.students, key_dir)
    subs = read_submissions(submissions_csv)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    summary = Summary(students=len(key.students), blank_id_lines=subs.blank_id_lines)

    ids = _KeyIds(key.students)
    chosen: dict[str, dict[str, str]] = {}
    lines: dict[str, list[int]] = {}
    for row in subs.rows:
        student = ids.find(row.student_id)
        if student is None:
            summary.unknown.append((row.line, row.student_id))
            continue
        lines.setdefault(student.student_id, []).append(row.line)
        chosen[student.student_id] = row.cells  # the last row wins
    summary.duplicates = {sid: ls[:-1] for sid, ls in lines.items() if len(ls) > 1}

    known_columns = set()
    grades: list[tuple[KeyStudent, StudentGrade, bool]] = []
    for s in key.students:
        missing = s.student_id not in chosen
        g = grade_submission(s.doc, chosen.get(s.student_id, {}), cfg)
        known_columns.update(c.cell.column for q in g.questions for c in q.cells)
        grades.append((s, g, missing))
        if missing:
            summary.missing.append(s.student_id)
        else:
            summary.graded += 1
            summary.unreadable_cells += sum(c.verdict == "unreadable" for q in g.questions for c in q.cells)
    summary.ignored_columns = [c for c in subs.columns if c not in known_columns]

    qids = _question_ids(grades)
    write_atomic(out_path, _grades_csv(grades, qids))
    summary.files.append(out_path)
    feedback_dir = out_path.parent / FEEDBACK_DIR
    feedback_dir.mkdir(exist_ok=True)
    for s, g, missing in grades:
        write_atomic(feedback_dir / f"{s.file_stem}.md", feedback_markdown(g, s.name, missing))
    summary.files.append(feedback_dir)
    if key.canvas is not None:
        path = out_path.parent / CANVAS_NAME
        write_atomic(path, _canvas_csv(grades, key.canvas, cfg.assignment))
        summary.files.append(path)
    report = out_path.parent / REPORT_NAME
    by_hand = next((g.by_hand for _, g, _ in grades), [])
    write_atomic(report, _report(summary, Path(submissions_csv), ids, by_hand))
    summary.files.append(report)
    return summary


def check_output_place(out_path: Path, submissions: Path, key_dir: Path) -> None:
    """Refuse, before reading or writing anything, an --out whose files would land on the
    submissions file or on the key folder's own files (grades.csv by default sits in the
    current folder, where a submissions export named grades.csv may well be)."""
    if out_path.is_dir():
        raise PsetError(f"--out {out_path} is a folder; give the grades file's path ({out_path / 'grades.csv'})")
    for folder in [out_path.parent, *out_path.parent.parents]:
        if folder.exists():
            if not folder.is_dir():
                raise PsetError(f"--out {out_path}: {folder} is a file, not a folder")
            break
    parent = out_path.parent
    fold = str.casefold if sys.platform in ("win32", "darwin") else str
    if fold(out_path.name) in {fold(n) for n in (FEEDBACK_DIR, REPORT_NAME, CANVAS_NAME)}:
        raise PsetError(f"--out {out_path}: grade-pset writes {out_path.name} itself beside the grades file; "
                        "give the grades file another name (grades.csv)")
    if (parent / FEEDBACK_DIR).exists() and not (parent / FEEDBACK_DIR).is_dir():
        raise PsetError(f"{parent / FEEDBACK_DIR} is a file, where grade-pset writes each student's feedback; "
                        "move it or choose another --out")
    for name in (REPORT_NAME, CANVAS_NAME):
        if (parent / name).is_dir():
            raise PsetError(f"{parent / name} is a folder, where grade-pset writes {name}; "
                            "move it or choose another --out")
    written = {"the grades": out_path, "feedback/": parent / FEEDBACK_DIR, REPORT_NAME: parent / REPORT_NAME,
               CANVAS_NAME: parent / CANVAS_NAME}

    def norm(p: Path) -> str:
        return fold(str(p.resolve()))

    def same_or_under(p: Path, q: Path) -> bool:   # p is q, or lies inside q
        return norm(p) == norm(q) or norm(p).startswith(norm(q).rstrip(os.sep) + os.sep)
    key_names = {fold(n) for n in OUTPUT_NAMES}
    for what, path in written.items():
        if same_or_under(submissions, path):
            raise PsetError(f"the submissions file {submissions} is where grade-pset writes {what}; "
                            "choose another --out")
        if (same_or_under(path, key_dir / "students")
                or norm(path.parent) == norm(key_dir) and fold(path.name) in key_names):
            raise PsetError(f"--out {out_path} would write {path}, one of the key folder's own files; "
                            "choose another --out")


def _check_cell_points(cfg: GradingConfig, students, key_dir: Path) -> None:
    """A cell_points name that is no cell would silently split the points evenly."""
    if not cfg.cell_points:
        return
    names: set[str] = set()
    for s in students:
        for q in s.doc["questions"]:
            for c in question_cells(q):
                names.update((c.column, c.name))
    for name in cfg.cell_points:
        if name not in names:
            raise PsetError(f"{cfg.source}: [grading].cell_points names {name!r}, which is no answer cell in "
                            f"{key_dir} (cells are named like q3a.Yhat or q3a.W3[1], or Yhat for every question's)")


def _question_ids(grades) -> list[str]:
    qids: list[str] = []
    for _, g, _ in grades:
        qids += [q.id for q in g.questions if q.id not in qids]
    return qids


def _csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _grades_csv(grades, qids: list[str]) -> str:
    rows = [["student_id", "name", *qids, "total", "possible"]]
    for s, g, _ in grades:
        points = {q.id: q.points for q in g.questions}
        rows.append([s.student_id, s.name, *(pts(points[q]) if q in points else "" for q in qids),
                     pts(g.total), pts(g.possible)])
    return _csv(rows)


def _canvas_csv(grades, canvas: dict[str, dict[str, str]], assignment: str) -> str:
    rows = [[*CANVAS_COLUMNS, assignment]]
    for s, g, _ in grades:
        ident = canvas.get(s.student_id)
        if ident is not None:
            rows.append([ident[c] for c in CANVAS_COLUMNS] + [pts(g.total)])
    return _csv(rows)


def _report(summary: Summary, submissions: Path, ids: _KeyIds, by_hand: list[tuple[str, float]]) -> str:
    out = [f"grade-pset report for {submissions.name}", summary.line(), ""]
    if by_hand:
        out += ["grades.csv: " + by_hand_note(by_hand), ""]

    def section(title: str, items: list[str]) -> None:
        out.extend([f"{title}: {len(items)}"] + [f"  {i}" for i in items] + [""])

    section("missing (no row; scored 0)", [f"{sid}  {ids.exact[sid].name}" for sid in summary.missing])
    section("unknown student ids (not graded)", [f"line {line}: {sid!r}{ids.why_unknown(sid)}"
                                                 for line, sid in summary.unknown])
    section("duplicate rows (the last row of each id was graded; these were not)",
            [f"{sid}: line {', '.join(map(str, ls))}" for sid, ls in summary.duplicates.items()])
    section("rows without a student_id (skipped)", [f"line {n}" for n in summary.blank_id_lines])
    section("columns that are no student's cell (ignored)", summary.ignored_columns)
    return "\n".join(out)

"""Reading a roster batch's output folder (the key) and a submissions CSV."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PsetError
from ..roster import CANVAS_COLUMNS

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class KeyStudent:
    student_id: str
    name: str
    file_stem: str
    doc: dict


@dataclass
class Key:
    students: list[KeyStudent]
    canvas: dict[str, dict[str, str]] | None   # student_id -> Canvas identifying columns


@dataclass
class SubmissionRow:
    line: int
    student_id: str
    cells: dict[str, str]


@dataclass
class Submissions:
    rows: list[SubmissionRow]
    columns: list[str]                              # every column but student_id / name
    blank_id_lines: list[int] = field(default_factory=list)


def safe_stem(student_id: str) -> str:
    """A file name stem from an id: safe characters kept, plus a short hash if any were not."""
    clean = _UNSAFE.sub("_", student_id).strip("._") or "student"
    if clean != student_id:
        clean += "-" + hashlib.sha256(student_id.encode()).hexdigest()[:8]
    return clean


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PsetError(f"{path}: no such file") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise PsetError(f"{path}:{line}: not UTF-8 text (save it as 'CSV UTF-8')") from None
    first = text.split("\n", 1)[0]
    delimiter = "," if "," in first or not any(d in first for d in ";\t") else (";" if ";" in first else "\t")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader, [])]
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as e:
        raise PsetError(f"{path}:{reader.line_num}: {e}") from None
    if not header:
        raise PsetError(f"{path}:1: empty file, expected a header row")
    for i, h in enumerate(header):
        if h and h in header[:i]:
            raise PsetError(f"{path}:1: column {h!r} appears twice")
    return header, rows


def _records(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    header, rows = _read_csv(path)
    for col in required:
        if col not in header:
            raise PsetError(f"{path}:1: no {col!r} column")
    return [(line, dict(zip(header, (v.strip() for v in row)))) for line, row in rows if any(v.strip() for v in row)]


def load_key(key_dir: Path) -> Key:
    key_dir = Path(key_dir)
    if not key_dir.is_dir():
        raise PsetError(f"{key_dir}: not a folder (give a roster batch's output folder)")
    docs: dict[str, dict] = {}
    answers = key_dir / "answers.jsonl"
    try:
        with answers.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError as e:
                    raise PsetError(f"{answers}:{lineno}:{e.colno}: {e.msg}") from None
                sid = doc.get("student_id") if isinstance(doc, dict) else None
                if not isinstance(sid, str) or not sid:
                    raise PsetError(f"{answers}:{lineno}: document without a student_id")
                docs[sid] = doc
    except FileNotFoundError:
        raise PsetError(f"{key_dir}: no answers.jsonl (is it a roster batch's output folder?)") from None
    students = []
    manifest = key_dir / "manifest.csv"
    for line, rec in _records(manifest, ("student_id", "name")):
        sid = rec["student_id"]
        if sid not in docs:
            raise PsetError(f"{manifest}:{line}: student {sid!r} has no document in answers.jsonl")
        students.append(KeyStudent(sid, rec.get("name", ""), rec.get("file_stem") or safe_stem(sid), docs[sid]))
    canvas = None
    roster = key_dir / "roster-columns.csv"
    if roster.exists():
        canvas = {rec["student_id"]: {c: rec.get(c, "") for c in CANVAS_COLUMNS}
                  for _, rec in _records(roster, ("student_id",) + CANVAS_COLUMNS)}
    return Key(students, canvas)


def read_submissions(path: Path) -> Submissions:
    path = Path(path)
    header, rows = _read_csv(path)
    if "student_id" not in header:
        raise PsetError(f"{path}:1: no 'student_id' column")
    id_at = header.index("student_id")
    columns = [h for h in header if h and h not in ("student_id", "name")]
    out = Submissions([], columns)
    for line, row in rows:
        if not any(v.strip() for v in row):
            continue
        if len(row) > len(header):
            # Every cell after the extra field would be graded as its neighbour's (even when
            # the field pushed off the end is blank, so a blank one is no excuse).
            raise PsetError(f"{path}:{line}: {len(row)} fields where the header has {len(header)} "
                            "(a comma in a name or a number, unquoted?); quote that field or remove the comma")
        sid = row[id_at].strip() if id_at < len(row) else ""
        if not sid:
            out.blank_id_lines.append(line)
            continue
        cells = {h: v for h, v in zip(header, row) if h in columns}
        out.rows.append(SubmissionRow(line, sid, cells))
    return out

"""Class rosters: a Canvas gradebook export, a Gradescope roster, or a plain CSV.

The kind is detected from the header (names compared without case or surrounding
spaces); ``--id-column`` / ``--name-column`` override the columns. The file must be
UTF-8, with or without a BOM, comma separated. Every problem is one RosterError, one
line: ``"<path> line N: <problem>"``, or ``"<path>: <problem>"`` for the whole file.

Which column is the student id:

- Canvas (Student or LastName/FirstName, ID, SIS User ID, SIS Login ID, Section): the
  SIS User ID when every student row has one, else Canvas's numeric ID. The rows
  Canvas puts above the students (the "Manual Posting" row and "Points Possible") and
  its Student View test student ("Student, Test", no SIS User ID) are skipped.
- Gradescope (SID, or Email with Name / Full Name / First Name + Last Name): the SID
  when every row has one, else the Email. Rows whose Role is not Student are skipped.
- Plain: the ``id`` column (or ``student_id``, ``student id``).

Ids have their surrounding whitespace stripped; inside, whitespace is kept (the file
name maps it to ``_``). Names are kept exactly as written: Canvas's "Last, First" as
is, Gradescope's First Name and Last Name joined by one space. An empty name (or none
at all: a plain roster may have only ``id``) falls back to the id.
"""
from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import PsetError

MAX_STEM = 60
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-@+")
_RESERVED = frozenset(["CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                       *(f"LPT{i}" for i in range(1, 10))])
_CANVAS_KEEP = ("student", "lastname", "firstname", "id", "sis user id", "sis login id",
                "integration id", "root account", "section")
# A plain roster's id column; student_id is the answer sheet's, which may be reused as a roster.
PLAIN_IDS = ["id", "student_id", "student id"]
_GRADESCOPE_KEEP = ("first name", "last name", "name", "full name", "email", "sid")


# The columns that identify a student in Canvas's gradebook (export and import).
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


class RosterError(PsetError):
    """A roster that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class Student:
    id: str                    # stripped of surrounding whitespace; the seed is made from it
    name: str                  # exactly as written (the id when the roster gives none)
    line: int                  # first line of the student's record in the file
    file_stem: str             # file_stem(id): safe for file names on every OS
    columns: dict[str, str]    # the row's identifying columns, header -> value, as written


@dataclass(frozen=True)
class Roster:
    kind: str                  # "canvas" | "gradescope" | "plain"
    students: tuple[Student, ...]
    id_column: str             # header of the id column, as written in the file
    name_column: str           # header(s) of the name, " + " between parts; "" if none
    skipped: tuple[tuple[int, str], ...] = ()   # (line, why) of rows that are not students
    # The kind's first choice of id column, passed over (None when it was not, or the
    # column was given): (its header, the lines where it is empty).
    empty_id: tuple[str, tuple[int, ...]] | None = None
    # Headers of the columns with a value on every student's row (any of them could give ids).
    full_columns: tuple[str, ...] = ()

    @property
    def id_fallback(self) -> str:
        """Why the id column is not the kind's first choice ("" when it is): the seeds
        come from it, so the instructor should know."""
        if self.empty_id is None:
            return ""
        column, lines = self.empty_id
        return (f"student ids come from {quoted(self.id_column)}, as {quoted(column)} is empty on "
                f"{line_list(lines)}; seeds come from the ids, so keep that column for this class "
                f"(--id-column {quoted(self.id_column)})")

    def has_full_column(self, header: str) -> bool:
        return any(same_header(c, header) for c in self.full_columns)


def same_header(a: str, b: str) -> bool:
    """Two headers naming one column: the same text whatever its case or Unicode form."""
    return same_text(a).casefold() == same_text(b).casefold()


def line_list(lines, shown: int = 5) -> str:
    """'line 4', 'lines 4 and 9', 'lines 4, 9, 12, 15, 20 and 3 more'."""
    lines = [str(n) for n in lines]
    if len(lines) == 1:
        return f"line {lines[0]}"
    head = lines[:shown] if len(lines) > shown else lines[:-1]
    tail = f"{len(lines) - shown} more" if len(lines) > shown else lines[-1]
    return f"lines {', '.join(head)} and {tail}"


def same_text(student_id: str) -> str:
    """The id as text, whatever its Unicode normalization: canonically equivalent ids (an
    accent as one code point or two, as macOS and Windows may write the same name) are
    one student's."""
    return unicodedata.normalize("NFC", student_id)


def quoted(text: str, limit: int = 60) -> str:
    """Quote file text for a one-line message: control characters escaped, long text cut."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def file_stem(student_id: str) -> str:
    """The id as a file name stem, safe on Linux, macOS and Windows.

    An id that is already safe (ASCII letters, digits, ``. _ - @ +``, no leading dot or
    dash, no trailing dot, not a Windows device name such as CON or com1.txt, at most
    MAX_STEM characters) is its own stem. Any other id is sanitized (other characters
    become ``_``, leading dots go, a device name gets a ``_`` prefix, long ids are cut)
    and gets ``-`` and 8 hex digits of the id's sha256, so ``a/b`` and ``a_b`` stay
    apart. An id of dots only cannot name a file and is a PsetError."""
    sid = student_id.strip()
    if not sid:
        raise PsetError("empty student id")
    safe = "".join(ch if ch in _SAFE else "_" for ch in sid).lstrip(".").rstrip(".")
    if not safe:
        raise PsetError(f"student id {quoted(sid)} cannot name a file (it is only dots)")
    if safe.startswith("-"):
        safe = "_" + safe[1:]
    if safe.split(".")[0].upper() in _RESERVED:
        safe = "_" + safe
    if safe == sid and len(safe) <= MAX_STEM:
        return safe
    digest = hashlib.sha256(sid.encode("utf-8")).hexdigest()[:8]
    return f"{safe[:MAX_STEM - 9]}-{digest}"


def _read_text(where: str, path) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise RosterError(f"{where}: cannot read the roster: {e.strerror or e}") from None
    if raw.startswith(b"PK\x03\x04"):
        raise RosterError(f"{where}: this is a spreadsheet workbook (.xlsx/.ods), not CSV; "
                          "save or export it as 'CSV UTF-8'")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise RosterError(f"{where}: this is an Excel 97-2003 workbook (.xls), not CSV; "
                          "save or export it as 'CSV UTF-8'")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RosterError(f"{where}: the file is UTF-16 text; save it as 'CSV UTF-8'")
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if b"\0" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\0")) + 1
        raise RosterError(f"{where} line {line}: NUL byte "
                          "(UTF-16 text?); save the roster as 'CSV UTF-8'")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise RosterError(f"{where} line {line}: not UTF-8 (byte 0x{raw[e.start]:02x} at byte "
                          f"{column} of the line); save the roster as 'CSV UTF-8'") from None


def _records(where: str, text: str) -> list[tuple[int, list[str]]]:
    """(first line, fields) per CSV record; a quoted field may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return out
        except csv.Error as e:
            if "end of data" in str(e):     # a quote opened in this record never closes
                raise RosterError(f"{where} line {start}: a quoted field starts here and never "
                                  "ends (a missing closing \")") from None
            raise RosterError(f"{where} line {reader.line_num or start}: bad CSV: {e}") from None
        out.append((start, row))


def _blank(row: list[str]) -> bool:
    return all(not f.strip() for f in row)


class _Header:
    def __init__(self, where: str, row: list[str]):
        self.where, self.names = where, [h.strip() for h in row]
        self.index: dict[str, list[int]] = {}
        for i, h in enumerate(self.names):
            self.index.setdefault(h.casefold(), []).append(i)

    def has(self, *names: str) -> bool:
        return all(n in self.index for n in names)

    def shown(self) -> str:
        cols = ", ".join(quoted(h, 30) for h in self.names[:12])
        return cols + (f", ... ({len(self.names)} columns)" if len(self.names) > 12 else "")

    def column(self, name: str, option: str | None = None) -> int:
        """Index of the column called ``name``, ignoring case; an option's name given
        exactly as in the header picks that column even when another differs by case."""
        exact = [i for i, h in enumerate(self.names) if h == name.strip()] if option else []
        hits = exact or self.index.get(name.strip().casefold(), [])
        if not hits:
            raise RosterError(f"{self.where} line 1: no column named {quoted(name)} ({option}); "
                              f"the header is {self.shown()}")
        if len(hits) > 1:
            raise RosterError(f"{self.where} line 1: {len(hits)} columns are named {quoted(name)} "
                              f"(columns {', '.join(str(i + 1) for i in hits)}); rename all but one")
        return hits[0]


def _detect(h: _Header, id_override: str | None) -> str:
    names = h.has("student") or h.has("lastname", "firstname")
    if h.has("id", "section") and names and (h.has("sis user id") or h.has("sis login id")):
        return "canvas"
    person = h.has("name") or h.has("full name") or h.has("first name", "last name")
    plain_id = any(h.has(n) for n in PLAIN_IDS)
    if h.has("sid") or (h.has("email") and person and not plain_id):
        return "gradescope"
    if plain_id or id_override:
        return "plain"
    raise RosterError(f"{h.where} line 1: no student id column (an 'id' or 'student_id' column, a Canvas export "
                      f"or a Gradescope roster); the header is {h.shown()}; "
                      "name the id column with --id-column")


def _name_columns(h: _Header, kind: str, override: str | None) -> list[int]:
    if override is not None:
        return [h.column(override, "--name-column")]
    choices = {"canvas": [["student"], ["lastname", "firstname"]],
               "gradescope": [["name"], ["full name"], ["first name", "last name"]],
               "plain": [["name"]]}[kind]
    for names in choices:
        if h.has(*names):
            return [h.column(n) for n in names]
    return []


def _skip_reason(kind: str, h: _Header, row: list[str], first_student_seen: bool) -> str | None:
    get = {n: row[ix[0]].strip() for n, ix in h.index.items()}.get
    if kind == "canvas":
        lead = get("student", get("lastname", ""))
        if not first_student_seen and not get("id") and lead in ("", "Points Possible"):
            return "Canvas " + ("Points Possible row" if lead else "Manual Posting row")
        test_name = lead == "Student, Test" or (get("lastname"), get("firstname")) == ("Student", "Test")
        if test_name and not get("sis user id") and not get("sis login id"):
            return "Canvas test student"
    role = get("role", "") if kind == "gradescope" else ""
    if role and role.casefold() != "student":
        return f"Gradescope role {quoted(role)}"
    return None


def read_roster(path, id_column: str | None = None, name_column: str | None = None) -> Roster:
    """Read a roster (see the module docstring); raise RosterError naming the line."""
    where = str(path) if str(path).isprintable() else repr(str(path))
    records = _records(where, _read_text(where, path))
    while records and _blank(records[-1][1]):
        records.pop()                      # blank lines at the end are harmless
    if not records:
        raise RosterError(f"{where}: the file is empty")
    if _blank(records[0][1]):
        raise RosterError(f"{where} line {records[0][0]}: blank line before the header")
    header_row = records[0][1]
    if len(header_row) == 1:
        for sep, label in ((";", "semicolons"), ("\t", "tabs")):
            if sep in header_row[0]:
                raise RosterError(f"{where} line 1: the columns are separated by {label}; "
                                  "export the roster with commas (CSV)")
    h = _Header(where, header_row)
    kind = _detect(h, id_column)
    name_ix = _name_columns(h, kind, name_column)

    body, skipped, seen_student = [], [], False
    for line, row in records[1:]:
        if _blank(row):
            raise RosterError(f"{where} line {line}: blank line inside the roster; delete it")
        if len(row) != len(h.names):
            hint = "; a value with a comma must be in double quotes" if len(row) > len(h.names) else ""
            raise RosterError(f"{where} line {line}: {len(row)} field{'s' * (len(row) != 1)}, but "
                              f"the header has {len(h.names)}{hint}")
        reason = _skip_reason(kind, h, row, seen_student)
        if reason:
            skipped.append((line, reason))
        else:
            seen_student = True
            body.append((line, row))
    if not body:
        raise RosterError(f"{where}: no students after the header")

    empty_id = None
    if id_column is not None:
        id_ix = h.column(id_column, "--id-column")
    else:
        prefs = {"canvas": ["sis user id", "id"], "gradescope": ["sid", "email"], "plain": PLAIN_IDS}
        present = [h.column(n) for n in prefs[kind] if h.has(n)]
        full = [i for i in present if all(row[i].strip() for _, row in body)]
        id_ix = (full or present)[0]
        if id_ix != present[0]:
            empty_id = (h.names[present[0]], tuple(line for line, row in body if not row[present[0]].strip()))
    keep_names = {"canvas": _CANVAS_KEEP, "gradescope": _GRADESCOPE_KEEP, "plain": ()}[kind]
    keep = [i for i, n in enumerate(h.names)
            if i == id_ix or i in name_ix or (n.casefold() in keep_names and h.index[n.casefold()][0] == i)]

    students, by_id, by_stem = [], {}, {}
    for line, row in body:
        sid = row[id_ix].strip()
        if not sid:
            raise RosterError(f"{where} line {line}: empty student id (column {quoted(h.names[id_ix])})")
        same = same_text(sid)  # two forms would be one student with two seeds
        if same in by_id:
            first, first_sid = by_id[same]
            how = ("" if first_sid == sid else
                   ", there with the same characters encoded differently (Unicode normalization)")
            raise RosterError(f"{where} line {line}: duplicate student id {quoted(sid)} (also on line {first}{how})")
        by_id[same] = (line, sid)
        try:
            stem = file_stem(sid)
        except PsetError as e:
            raise RosterError(f"{where} line {line}: {e}") from None
        other = by_stem.get(stem.casefold())
        if other:
            clash = (f"the same file name {stem!r}" if stem == other[2] else
                     f"file names that differ only in case ({stem!r}, {other[2]!r}), which clash on Windows and macOS")
            raise RosterError(f"{where} line {line}: ids {quoted(sid)} and {quoted(other[1])} (line "
                              f"{other[0]}) give {clash}")
        by_stem[stem.casefold()] = (line, sid, stem)
        parts = [row[i] for i in name_ix if row[i].strip()]
        name = (", " if kind == "canvas" else " ").join(parts) if parts else sid
        students.append(Student(id=sid, name=name, line=line, file_stem=stem,
                                columns={h.names[i]: row[i] for i in keep}))
    return Roster(kind=kind, students=tuple(students), id_column=h.names[id_ix],
                  name_column=" + ".join(h.names[i] for i in name_ix), skipped=tuple(skipped),
                  empty_id=empty_id,
                  full_columns=tuple(n for i, n in enumerate(h.names) if all(row[i].strip() for _, row in body)))

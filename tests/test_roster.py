import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from generator.errors import PsetError
from generator.roster import MAX_STEM, RosterError, file_stem, read_roster

DATA = Path(__file__).parent / "data" / "rosters"
STEM_RE = re.compile(r"[A-Za-z0-9_@+][A-Za-z0-9._@+-]*")
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def write(tmp_path, data, name="roster.csv"):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def csv_text(rows, lineterminator="\n"):
    buf = io.StringIO()
    csv.writer(buf, lineterminator=lineterminator).writerows(rows)
    return buf.getvalue()


# --- each roster kind -------------------------------------------------------------

def test_canvas_export_skips_its_header_rows_and_test_student():
    r = read_roster(DATA / "canvas.csv")
    assert r.kind == "canvas" and r.id_column == "SIS User ID" and r.name_column == "Student"
    assert [(s.line, s.id, s.name) for s in r.students] == [
        (4, "S0012345", "Doe, Jane"), (5, "S0012346", "Núñez, José Ángel"), (6, "S0012347", "O'Brien, Siobhán")]
    assert r.skipped == ((2, "Canvas Manual Posting row"), (3, "Canvas Points Possible row"), (7, "Canvas test student"))
    assert r.students[2].columns == {"Student": "O'Brien, Siobhán", "ID": "4213", "SIS User ID": "S0012347",
                                     "SIS Login ID": "sobrien",
                                     "Section": "DL 101 Section A and DL 101 Section B"}


def test_canvas_falls_back_to_canvas_id_when_a_sis_user_id_is_missing(tmp_path):
    path = write(tmp_path, "Student,ID,SIS User ID,SIS Login ID,Section,HW (1)\n"
                           "    Points Possible,,,,,10\n"
                           '"Doe, Jane",4211,S1,jdoe,A,9\n'
                           '"Roe, Rick",4212,,rroe,A,8\n')
    r = read_roster(path)
    assert r.id_column == "ID" and [s.id for s in r.students] == ["4211", "4212"]
    # Said, with the row to fix: next term's export with every SIS User ID would change the seeds.
    assert r.id_fallback == ("student ids come from 'ID', as 'SIS User ID' is empty on line 4; seeds come from "
                             "the ids, so keep that column for this class (--id-column 'ID')")
    assert read_roster(path, id_column="ID").id_fallback == ""
    assert r.full_columns == ("Student", "ID", "SIS Login ID", "Section", "HW (1)")


@pytest.mark.parametrize("empty,said", [(2, "lines 2 and 3"), (3, "lines 2, 3 and 4"),
                                        (8, "lines 2, 3, 4, 5, 6 and 3 more")])
def test_every_row_without_a_sis_user_id_is_named(tmp_path, empty, said):
    rows = "".join(f'"S, N{i}",{4200 + i},{"" if i < empty else f"S{i}"},n{i},A\n' for i in range(empty + 1))
    r = read_roster(write(tmp_path, "Student,ID,SIS User ID,SIS Login ID,Section\n" + rows))
    assert f"as 'SIS User ID' is empty on {said};" in r.id_fallback


def test_canvas_with_first_last_name_columns_and_no_sis_user_id(tmp_path):
    path = write(tmp_path, "LastName,FirstName,ID,SIS Login ID,Section,HW (1)\n"
                           "    Points Possible,,,,,10\n"
                           "Doe,Jane,4211,jdoe,A,9\n"
                           "Student,Test,4299,,A,\n")
    r = read_roster(path)
    assert r.kind == "canvas" and r.id_column == "ID" and r.name_column == "LastName + FirstName"
    assert r.id_fallback == ""   # no SIS User ID column at all: ID is the only choice
    assert [(s.id, s.name) for s in r.students] == [("4211", "Doe, Jane")]
    assert r.skipped == ((2, "Canvas Points Possible row"), (4, "Canvas test student"))


def test_gradescope_first_and_last_name_skips_staff():
    r = read_roster(DATA / "gradescope_first_last.csv")
    assert r.kind == "gradescope" and r.id_column == "SID" and r.name_column == "First Name + Last Name"
    assert [(s.id, s.name) for s in r.students] == [
        ("S0012345", "Jane Doe"), ("S0012346", "José Ángel Núñez"), ("S0012347", "Siobhán O'Brien")]
    assert r.skipped == ((4, "Gradescope role 'TA'"),)
    assert set(r.students[0].columns) == {"First Name", "Last Name", "SID", "Email"}


def test_gradescope_row_with_empty_role_is_a_student(tmp_path):
    r = read_roster(write(tmp_path, "Name,Email,SID,Role\nJane Doe,j@x.edu,1,\nTerry,t@x.edu,2,Instructor\n"))
    assert [s.id for s in r.students] == ["1"] and r.skipped == ((3, "Gradescope role 'Instructor'"),)


def test_gradescope_name_column_uses_email_when_a_sid_is_missing():
    r = read_roster(DATA / "gradescope_name.csv")
    assert r.kind == "gradescope" and r.id_column == "Email" and r.name_column == "Name"
    assert [s.id for s in r.students] == ["jdoe@example.edu", "jnunez@example.edu", "sobrien@example.edu"]
    assert r.students[2].name == "O'Brien, Siobhán"
    assert r.students[0].file_stem == "jdoe@example.edu"     # e-mail ids keep readable file names


def test_plain_roster_and_empty_name_falls_back_to_id():
    r = read_roster(DATA / "plain.csv")
    assert r.kind == "plain" and (r.id_column, r.name_column) == ("id", "name")
    assert [(s.id, s.name, s.line) for s in r.students] == [
        ("s1", "Ada Lovelace", 2), ("s2", "Hopper, Grace", 3), ("s3", "s3", 4)]


@pytest.mark.parametrize("header", ["student_id,name,email", "Student ID,Name,Email"])
def test_plain_roster_with_a_student_id_column(tmp_path, header):
    """The answer sheet's own header, reused as a roster: student_id, not the e-mail."""
    r = read_roster(write(tmp_path, f"{header}\ns1,Ada,ada@example.edu\ns2,Bob,bob@example.edu\n"))
    assert r.kind == "plain" and r.id_column == header.split(",")[0]
    assert [(s.id, s.name) for s in r.students] == [("s1", "Ada"), ("s2", "Bob")]

def test_plain_roster_with_ids_only(tmp_path):
    r = read_roster(write(tmp_path, "ID\nx1\nx2\n"))
    assert r.name_column == "" and [(s.id, s.name) for s in r.students] == [("x1", "x1"), ("x2", "x2")]


def test_bom_and_line_endings_do_not_change_the_roster(tmp_path):
    raw = (DATA / "canvas.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    variants = [raw, raw.removeprefix(b"\xef\xbb\xbf"), raw.replace(b"\r\n", b"\n"),
                raw.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")]
    rosters = [read_roster(write(tmp_path, v, f"v{i}.csv")) for i, v in enumerate(variants)]
    assert all(r.students == rosters[0].students and r.kind == "canvas" for r in rosters)


def test_quoted_fields_with_commas_quotes_and_newlines_keep_line_numbers(tmp_path):
    path = write(tmp_path, 'id,name\r\n'
                           'a1,"Smith, John ""Jack"""\r\n'
                           'a2,"two\r\nlines"\r\n'
                           'a3,Plain\r\n')
    r = read_roster(path)
    assert [(s.id, s.name, s.line) for s in r.students] == [
        ("a1", 'Smith, John "Jack"', 2), ("a2", "two\r\nlines", 3), ("a3", "Plain", 5)]


def test_column_overrides_match_exactly_then_ignoring_case(tmp_path):
    r = read_roster(DATA / "canvas.csv", id_column="sis login id", name_column="Section")
    assert r.id_column == "SIS Login ID" and [s.id for s in r.students] == ["jdoe", "jnunez", "sobrien"]
    assert r.students[0].name == "DL 101 Section A"
    r = read_roster(write(tmp_path, "Matrikel,Vollständiger Name\n123,Jürgen Groß\n"),
                    id_column="Matrikel", name_column="vollständiger name")
    assert r.kind == "plain" and [(s.id, s.name) for s in r.students] == [("123", "Jürgen Groß")]


def test_trailing_blank_lines_are_harmless(tmp_path):
    assert len(read_roster(write(tmp_path, "id,name\na,A\nb,B\n\n\r\n,\n")).students) == 2


# --- bad rosters: one line, naming the file and the line ---------------------------

def xlsx_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


BAD = [
    ("no id column", "student,email\nJane,j@x\n", r"line 1: no student id column.*'student', 'email'.*--id-column"),
    ("empty id", "id,name\na,A\n  ,B\n", r"line 3: empty student id \(column 'id'\)"),
    ("duplicate id", "id,name\na,A\nb,B\n a ,C\n", r"line 4: duplicate student id 'a' \(also on line 2\)"),
    ("duplicate id, other normalization", "id,name\nJos\u00e9,A\nb,B\nJose\u0301,C\n",
     r"line 4: duplicate student id 'Jose\u0301' \(also on line 2, there with the same characters encoded "
     r"differently \(Unicode normalization\)\)$"),
    ("blank line", "id,name\na,A\n\nb,B\n", r"line 3: blank line inside the roster"),
    ("whitespace line", "id,name\na,A\n   \nb,B\n", r"line 3: blank line inside the roster"),
    ("empty-fields line", "id,name\na,A\n,\nb,B\n", r"line 3: blank line inside the roster"),
    ("blank before header", "\nid,name\na,A\n", r"line 1: blank line before the header"),
    ("semicolons", "id;name\na;A\n", r"line 1: the columns are separated by semicolons"),
    ("tabs", "id\tname\na\tA\n", r"line 1: the columns are separated by tabs"),
    ("xlsx", xlsx_bytes(), r": this is a spreadsheet workbook \(\.xlsx/\.ods\), not CSV; save or export it as 'CSV UTF-8'"),
    ("xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), r": this is an Excel 97-2003 workbook \(\.xls\)"),
    ("utf-16 with bom", "id,name\na,A\n".encode("utf-16"), r": the file is UTF-16 text"),
    ("utf-16 without bom", "id,name\na,A\n".encode("utf-16-le"), r"line 1: NUL byte"),
    ("latin-1", "id,name\na,Ada\nb,Jos\u00e9\n".encode("latin-1"), r"line 3: not UTF-8 \(byte 0xe9 at byte 6 of the line\)"),
    ("wrong field count", "id,name\na,A\nb,Doe, Jane\n", r"line 3: 3 fields, but the header has 2; a value with a comma must be in double quotes"),
    ("too few fields", "id,name,section\na,A,1\nb,B\n", r"line 3: 2 fields, but the header has 3$"),
    ("one field", "id,name\na,A\nb\n", r"line 3: 1 field, but the header has 2$"),
    ("empty file", b"", r": the file is empty"),
    ("bom only", b"\xef\xbb\xbf", r": the file is empty"),
    ("only newlines", "\n\r\n\n", r": the file is empty"),
    ("header only", "id,name\n", r": no students after the header"),
    ("unclosed quote", 'id,name\na,"Doe, Jane\nb,B\n', r"line 2: a quoted field starts here and never ends"),
    ("dots-only id", "id,name\na,A\n..,B\n", r"line 3: student id '\.\.' cannot name a file"),
    ("ids differing in case", "id,name\nab1,A\nAB1,B\n",
     r"line 3: ids 'AB1' and 'ab1' \(line 2\) give file names that differ only in case \('AB1', 'ab1'\)"),
    ("duplicate id header", "id,ID,name\n1,2,A\n", r"line 1: 2 columns are named 'id' \(columns 1, 2\)"),
]


@pytest.mark.parametrize("data,pattern", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_roster_gives_one_line_naming_the_place(tmp_path, data, pattern):
    path = write(tmp_path, data)
    with pytest.raises(RosterError) as info:
        read_roster(path)
    message = str(info.value)
    assert isinstance(info.value, PsetError)
    assert "\n" not in message and "\r" not in message and message.isprintable()
    assert message.startswith(f"{path} line ") or message.startswith(f"{path}: ")
    assert re.search(pattern, message), message


def test_an_id_that_is_another_ids_file_name_is_refused(tmp_path):
    """An id written as the file name another id is sanitized to: the same name, not a
    clash of case."""
    taken = file_stem("a/b")
    with pytest.raises(RosterError, match=rf"line 3: ids '{taken}' and 'a/b' \(line 2\) give the same file name "
                                          rf"'{taken}'$"):
        read_roster(write(tmp_path, f"id,name\na/b,A\n{taken},B\n"))


@pytest.mark.parametrize("option", ["id_column", "name_column"])
def test_unknown_override_column_lists_the_header(tmp_path, option):
    with pytest.raises(RosterError, match=r"line 1: no column named 'Matrikel' \(--%s\); the header is 'id', 'name'"
                       % option.replace("_", "-")):
        read_roster(write(tmp_path, "id,name\na,A\n"), **{option: "Matrikel"})


def test_missing_roster_file_is_a_roster_error(tmp_path):
    with pytest.raises(RosterError, match=r"missing\.csv: cannot read the roster"):
        read_roster(tmp_path / "missing.csv")


# --- hostile names and ids --------------------------------------------------------

HOSTILE_NAMES = [
    '#set page(fill: red)', '#read("/etc/passwd")', '#import "evil.typ": *', "$x^2 + #sys.inputs$",
    "*bold* _emph_ `raw`", "@label <tag> </closed>", "back\\slash \\\\ \\n", "\u05e9\u05dc\u05d5\u05dd \u202eevil\u202c",
    "\u0645\u0631\u062d\u0628\u0627 (right-to-left)", "\U0001f469\U0001f3fd\u200d\U0001f52c \u2728",
    "Ž" * 300, '"quoted", with, commas', "  leading and trailing  ", "=cmd|' /C calc'!A0",
    "line\nbreak", "}]);#panic()", "Ω≈ç√∫ 漢字 かな ㅎㅎ", "tab\there",
]


@pytest.mark.parametrize("kind", ["plain", "canvas"])
def test_hostile_names_come_back_exactly_as_written(tmp_path, kind):
    if kind == "plain":
        rows = [["id", "name"]] + [[f"s{i}", n] for i, n in enumerate(HOSTILE_NAMES)]
    else:
        rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section"], ["    Points Possible", "", "", "", ""]]
        rows += [[n, str(100 + i), f"S{i}", f"l{i}", "A"] for i, n in enumerate(HOSTILE_NAMES)]
    path = write(tmp_path, b"\xef\xbb\xbf" + csv_text(rows, "\r\n").encode("utf-8"))
    names = [s.name for s in read_roster(path).students]
    assert [n.encode("utf-8") for n in names] == [n.encode("utf-8") for n in HOSTILE_NAMES]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40)
                .filter(lambda n: n.strip()), min_size=1, max_size=8))
def test_any_unicode_name_round_trips(tmp_path_factory, names):
    rows = [["id", "name"]] + [[f"s{i}", n] for i, n in enumerate(names)]
    path = tmp_path_factory.mktemp("r") / "r.csv"
    path.write_bytes(csv_text(rows, "\r\n").encode("utf-8"))   # "\r\n": the writer then quotes a lone CR
    assert [s.name for s in read_roster(path).students] == names


def test_hostile_ids_get_safe_distinct_file_names(tmp_path):
    ids = ["../x", "a/b", "a_b", "CON", "con.txt", "LPT1", "  padded  ", "in side", "..\\..\\win", "-rf",
           ".hidden", "x" * 300, "学生", "a\u202eb", "nul"]
    r = read_roster(write(tmp_path, csv_text([["id"]] + [[i] for i in ids])))
    assert [s.id for s in r.students] == [i.strip() for i in ids]       # only surrounding whitespace goes
    stems = [s.file_stem for s in r.students]
    assert len({s.casefold() for s in stems}) == len(stems)
    assert stems[2] == "a_b" and stems[1] != "a_b"
    out = tmp_path / "out"
    out.mkdir()
    for stem in stems:
        assert STEM_RE.fullmatch(stem) and len(stem) <= MAX_STEM and stem.split(".")[0].upper() not in RESERVED
        target = out / f"{stem}.pdf"
        target.write_bytes(b"x")
        assert target.resolve().parent == out.resolve()
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s}.pdf" for s in stems)


def test_file_stem_keeps_safe_ids_and_rejects_dots():
    for sid in ["S0012345", "jdoe@example.edu", "a.b_c-d+e", "x" * MAX_STEM, "CONSOLE", "COM10"]:
        assert file_stem(sid) == sid
    assert file_stem("  s1 ") == "s1"
    for bad in ["", "   ", ".", "..", "...."]:
        with pytest.raises(PsetError):
            file_stem(bad)


@settings(max_examples=500, deadline=None)
@given(st.text(min_size=1, max_size=120), st.text(min_size=1, max_size=120))
def test_file_stem_is_safe_and_tells_ids_apart(a, b):
    stems = {}
    for sid in (a, b):
        try:
            stem = file_stem(sid)
        except PsetError:
            assert set(sid.strip()) <= {"."}
            continue
        assert STEM_RE.fullmatch(stem) and len(stem) <= MAX_STEM and not stem.endswith(".")
        assert stem.split(".")[0].upper() not in RESERVED
        assert file_stem(sid) == stem
        stems[sid.strip()] = stem
    if len(stems) == 2 and a.strip() != b.strip():
        assert stems[a.strip()] != stems[b.strip()]

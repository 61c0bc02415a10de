"""The roster batch end to end: the CLI in fresh processes (the pool forks, and a process
that has already run Typst must not fork, see test_two_batches_in_one_process), checked
through the files it writes. Roster parsing and seed derivation have their own unit tests
(test_roster.py, test_secret.py); here they are seen only through the outputs."""
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

import generator
import generator.config
from generator import batch
from generator.cli import main
from generator.errors import PsetError
from generator.roster import file_stem
from generator.secret import read_secret, student_seed
from pdftext import pdf_text, squashed

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "rosters"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
SUMMARY = re.compile(r"^(?P<out>.+): (?P<n>\d+) students? \((?P<made>\d+) made, (?P<reused>\d+) already up to "
                     r"date, (?P<collisions>\d+) seeds re-derived\)$")
MANIFEST_HEADER = ["student_id", "name", "file_stem", "variant", "seed_attempt", "question_pdf", "key_pdf",
                   "answers_json", "question_sha256", "key_sha256", "answers_sha256", "key_pages",
                   "generator_version", "q3_fingerprint"]
STEM = re.compile(r"[A-Za-z0-9_@+][A-Za-z0-9._@+-]*")
RLO, PDF_CHAR = "\u202e", "\u202c"

# (id as written in the CSV, name): hostile ids and hostile names, one roster.
HOSTILE = [
    ("../x", "*bold* _it_ = Heading #strong[x] [link] ~ // comment"),
    ("a/b", '#read("/etc/passwd") #import "x.typ": * #eval("1+1")'),
    ("CON", '$x^2$ @ref <label> \\ back\\slash \\u{41} "quoted" #'),
    ("  s 4\t", "שלום עולם مرحبا Zoë"),
    ("h5", f"Mallory {RLO}evil"),             # an override that is never closed
    ("h6", "Emoji 😀🎉 Ana 👩‍💻 end"),
    ("h7", ("Very Long Name " + "Xyzzy-" * 60)[:300]),
    ("com1.txt", "O'Brien, Siobhán"),
]

KINDS = {
    "canvas.csv": [("S0012345", "Doe, Jane"), ("S0012346", "Núñez, José Ángel"), ("S0012347", "O'Brien, Siobhán")],
    "gradescope_first_last.csv": [("S0012345", "Jane Doe"), ("S0012346", "José Ángel Núñez"),
                                  ("S0012347", "Siobhán O'Brien")],
    "gradescope_name.csv": [("jdoe@example.edu", "Jane Doe"), ("jnunez@example.edu", "José Ángel Núñez"),
                            ("sobrien@example.edu", "O'Brien, Siobhán")],
    "plain.csv": [("s1", "Ada Lovelace"), ("s2", "Hopper, Grace"), ("s3", "s3")],
}


# --- helpers ----------------------------------------------------------------------

def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], capture_output=True,
                          text=True, env=ENV, cwd=cwd)


def summary(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    m = SUMMARY.match(proc.stdout.strip().splitlines()[-1])
    assert m, proc.stdout
    return {k: (v if k == "out" else int(v)) for k, v in m.groupdict().items()}


def one_line_error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("make-pset: error: "), err
    return err


def write_roster(path: Path, rows) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([("id", "name"), *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def manifest(out: Path) -> list[dict]:
    with open(out / "manifest.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def answers(out: Path, row: dict) -> dict:
    return json.loads((out / row["answers_json"]).read_text(encoding="utf-8"))


def snapshot(folder: Path) -> dict:
    """Every file under folder: (mtime_ns, sha256)."""
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def outputs(folder: Path) -> dict:
    """File contents under folder, temporary files (.*.tmp) left out."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not (p.name.startswith(".") and p.name.endswith(".tmp"))}


def _hidden(ch: str) -> bool:
    cp = ord(ch)
    return unicodedata.category(ch) in ("Cf", "So") or 0xFE00 <= cp <= 0xFE0F or cp >= 0x1F000


def visible(name: str) -> list[str]:
    """The parts of a name a PDF shows as text: NFKC, without format characters (bidi
    controls, ZWJ) and emoji (they may come out as missing glyphs); a right-to-left
    override shows its run reversed, as Unicode says it must."""
    name = re.sub(f"{RLO}([^{PDF_CHAR}]*)", lambda m: m.group(1)[::-1], name)
    return unicodedata.normalize("NFKC", "".join(" " if _hidden(ch) else ch for ch in name)).split()


def plain(name: str) -> bool:
    """Shown as is, in reading order: no emoji, no controls, no right-to-left letters."""
    return "".join(visible(name)) == squashed(name) and not any(
        unicodedata.bidirectional(ch) in ("R", "AL") for ch in name)


def shown_text(pdf: bytes) -> str:
    """PDF text without whitespace, format and control characters (missing glyphs)."""
    return "".join(ch for ch in squashed(pdf_text(pdf)) if unicodedata.category(ch) not in ("Cf", "Cc"))


def numeric_cells(doc: dict):
    """(question, label, index, value) of every numeric answer cell, straight from answers.json."""
    def number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool)
    for q in doc["questions"]:
        for label, v in q["answers"].items():
            if number(v):
                yield q["id"], label, "", v
            elif isinstance(v, list) and v and all(number(x) for x in v):
                for i, x in enumerate(v, start=1):
                    yield q["id"], label, str(i), x


def run_killable(args, timeout: float):
    """Run the CLI in its own process group; kill the group (pool workers too) on timeout."""
    proc = subprocess.Popen([sys.executable, *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, "", ""


# --- fixtures ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("secrets")
    for name in ("a.key", "b.key"):
        main(["--new-secret", str(d / name)])
    return d


@pytest.fixture(scope="module")
def kind_runs(tmp_path_factory, secrets_dir):
    """One batch per roster kind, run side by side (their serial phases overlap)."""
    procs = {}
    for name in KINDS:
        out = tmp_path_factory.mktemp(name.replace(".", "_")) / "out"
        procs[name] = out, subprocess.Popen(
            [sys.executable, "-m", "generator", "--roster", str(DATA / name), "--secret-file",
             str(secrets_dir / "a.key"), "--out", str(out), "--jobs", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    done = {}
    for name, (out, proc) in procs.items():
        stdout, stderr = proc.communicate()
        done[name] = out, subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return done.__getitem__


# Installed in every Python process of the run (the CLI, the forkserver and its pool
# workers) through sitecustomize, so every write and rename is logged.
AUDIT_SITE = r"""
import os, sys
_path = os.environ.get("MAKE_PSET_AUDIT_LOG")
if _path:
    _log = os.open(_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    _WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    def _hook(event, args):
        if event == "open" and isinstance(args[0], str) and args[2] & _WRITE:
            os.write(_log, ("open\t" + os.path.abspath(args[0]) + "\n").encode("utf-8", "surrogateescape"))
        elif event in ("os.rename", "os.replace"):
            os.write(_log, ("rename\t" + os.path.abspath(os.fspath(args[0])) + "\t"
                            + os.path.abspath(os.fspath(args[1])) + "\n").encode("utf-8", "surrogateescape"))
    sys.addaudithook(_hook)
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, secrets_dir):
    """The hostile roster, run once under an audit hook that logs every file opened for
    writing and every rename (in the pool workers too)."""
    d = tmp_path_factory.mktemp("hostile")
    site = tmp_path_factory.mktemp("audit-site")
    (site / "sitecustomize.py").write_text(AUDIT_SITE, encoding="utf-8")
    roster = write_roster(d / "hostile.csv", HOSTILE)
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(site), ENV["PYTHONPATH"]]),
           "MAKE_PSET_AUDIT_LOG": str(d / "audit.log")}
    proc = subprocess.run([sys.executable, "-m", "generator", "--roster", str(roster),
                           "--secret-file", str(secrets_dir / "a.key"), "--out", str(d / "out"), "--jobs", "2"],
                          capture_output=True, text=True, env=env, cwd=d)
    assert summary(proc)["made"] == len(HOSTILE)
    return d, roster, d / "out"


# --- roster kinds -----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_roster_kind_makes_every_students_files(kind_runs, name):
    out, proc = kind_runs(name)
    s = summary(proc)
    assert (s["n"], s["made"], s["reused"]) == (3, 3, 0) and Path(s["out"]) == out
    rows = manifest(out)
    assert [(r["student_id"], r["name"]) for r in rows] == KINDS[name]
    for r in rows:
        cover = shown_text((out / r["question_pdf"]).read_bytes())
        assert squashed(f"Name: {r['name']}") in cover and r["variant"] in cover
    assert (out / "roster-columns.csv").exists() == (name == "canvas.csv")
    if name == "canvas.csv":
        assert proc.stderr.splitlines() == [f"make-pset: skipped {DATA / name} line {n}: {why}" for n, why in
                                            ((2, "Canvas Manual Posting row"), (3, "Canvas Points Possible row"),
                                             (7, "Canvas test student"))]
        assert read_csv(out / "roster-columns.csv") == [
            ["student_id", "Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
            ["S0012345", "Doe, Jane", "4211", "S0012345", "jdoe", "DL 101 Section A"],
            ["S0012346", "Núñez, José Ángel", "4212", "S0012346", "jnunez", "DL 101 Section A"],
            ["S0012347", "O'Brien, Siobhán", "4213", "S0012347", "sobrien", "DL 101 Section A and DL 101 Section B"]]


# --- bad rosters and refusals: one line, exit 2, nothing written -------------------

def _xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


BAD_ROSTERS = {
    "no-id-column": ("student,score\nAda,9\n", "line 1", "no student id column"),
    "empty-id": ("id,name\ns1,Ada\n ,Grace\n", "line 3", "empty student id"),
    "duplicate-id": ("id,name\ns1,Ada\ns2,Grace\ns1,Alan\n", "line 4", "duplicate student id 's1' (also on line 2)"),
    "blank-line": ("id,name\ns1,Ada\n\ns2,Grace\n", "line 3", "blank line"),
    "semicolons": ("id;name\ns1;Ada\n", "line 1", "semicolons"),
    "xlsx-renamed": (_xlsx(), "", "spreadsheet workbook"),
    "xls-renamed": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "", "Excel 97-2003"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROSTERS))
def test_bad_roster_is_one_line_naming_the_line_and_writes_nothing(tmp_path, capsys, secrets_dir, case):
    data, where, problem = BAD_ROSTERS[case]
    roster = tmp_path / "class.csv"
    roster.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    err = one_line_error(capsys, ["--roster", roster, "--secret-file", secrets_dir / "a.key",
                                  "--out", tmp_path / "out" / "deep", "--jobs", 2])
    assert f"{roster} {where}".strip() + ":" in err and problem in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class.csv"]


def test_no_secret_is_refused_and_writes_nothing(tmp_path, capsys):
    err = one_line_error(capsys, ["--roster", DATA / "plain.csv", "--out", tmp_path / "out"])
    assert "--secret-file" in err and "--new-secret" in err
    err = one_line_error(capsys, ["--roster", DATA / "plain.csv", "--secret-file", tmp_path / "none.key",
                                  "--out", tmp_path / "out"])
    assert "no secret file" in err and "--new-secret" in err
    assert list(tmp_path.iterdir()) == []


def test_only_an_unknown_id_is_refused(tmp_path, capsys, secrets_dir):
    err = one_line_error(capsys, ["--roster", DATA / "plain.csv", "--secret-file", secrets_dir / "a.key",
                                  "--out", tmp_path / "out", "--only", "s9"])
    assert "'s9' is not a student id" in err and not (tmp_path / "out").exists()


# --- hostile names and ids --------------------------------------------------------

def test_files_are_named_from_sanitized_ids_never_names(hostile):
    d, _, out = hostile
    rows = manifest(out)
    ids = [sid.strip() for sid, _ in HOSTILE]
    assert [r["student_id"] for r in rows] == ids
    stems = [r["file_stem"] for r in rows]
    assert stems == [file_stem(i) for i in ids] and len(set(s.casefold() for s in stems)) == len(stems)
    for stem in stems:
        assert STEM.fullmatch(stem) and stem.split(".")[0].upper() not in ("CON", "COM1")
    expected = {f"{s}{suffix}" for s in stems for suffix in (".pdf", "-key.pdf", "-answers.json")}
    assert {p.name for p in (out / "students").iterdir()} == expected
    assert {p.name for p in out.iterdir()} == {"students", "batch.json", "manifest.csv", "answers.csv",
                                               "answers.jsonl", "answer-sheet.csv", "keys.pdf"}
    assert sorted(p.name for p in d.iterdir()) == ["audit.log", "hostile.csv", "out"]   # nothing escaped


def test_names_are_on_the_cover_exactly_as_written(hostile):
    _, _, out = hostile
    assert sum(plain(name) for _, name in HOSTILE) >= 4
    for (_, name), row in zip(HOSTILE, manifest(out)):
        assert row["name"] == name
        pdf = (out / row["question_pdf"]).read_bytes()
        text = shown_text(pdf)
        if plain(name):
            assert squashed(f"Name: {name}") in text, (name, pdf_text(pdf)[:400])
        else:
            parts = visible(name)
            assert parts and all(p in text for p in parts), (name, pdf_text(pdf)[:400])
        first = visible(name)[0]
        if unicodedata.bidirectional(first[0]) not in ("R", "AL"):   # a right-to-left name may lead the line
            assert "Name:" + first in text
        assert "Pleasesubmitatyped" in text          # an override in the name stops at the name


def test_every_file_is_written_under_a_temporary_name_and_renamed(hostile):
    d, _, out = hostile
    opened, renamed = [], {}
    for line in (d / "audit.log").read_text(encoding="utf-8").splitlines():
        kind, *paths = line.split("\t")
        paths = [Path(os.path.normpath(d / p)) for p in paths]
        if kind == "open":
            opened.append(paths[0])
        else:
            renamed[paths[1]] = paths[0]
    ours = [p for p in opened if out in p.parents]
    assert ours
    for p in ours:
        assert p.name == ".progress.jsonl" or (p.name.startswith(".") and p.name.endswith(".tmp")), p
    for f in [p for p in out.rglob("*") if p.is_file()]:
        src = renamed.get(f)
        assert src is not None and src.parent == f.parent and src in opened, f
        assert src.name.startswith(f".{f.name}.") and src.name.endswith(".tmp")


# --- aggregates -------------------------------------------------------------------

def test_manifest_records_every_students_files(hostile):
    _, _, out = hostile
    assert read_csv(out / "manifest.csv")[0] == MANIFEST_HEADER
    variants = set()
    for row in manifest(out):
        stem = row["file_stem"]
        assert (row["question_pdf"], row["key_pdf"], row["answers_json"]) == (
            f"students/{stem}.pdf", f"students/{stem}-key.pdf", f"students/{stem}-answers.json")
        for column, digest in (("question_pdf", "question_sha256"), ("key_pdf", "key_sha256"),
                               ("answers_json", "answers_sha256")):
            assert hashlib.sha256((out / row[column]).read_bytes()).hexdigest() == row[digest]
        assert int(row["key_pages"]) == len(PdfReader(out / row["key_pdf"]).pages)
        doc = answers(out, row)
        assert doc["variant"] == row["variant"] and doc["student_id"] == row["student_id"]
        assert row["seed_attempt"] == "0" and row["generator_version"] == generator.__version__
        variants.add(row["variant"])
    assert len(variants) == len(HOSTILE)


def test_no_two_students_share_question_3(hostile):
    _, _, out = hostile
    seen = set()
    for row in manifest(out):
        doc = answers(out, row)
        q3 = json.dumps([q["graph"] for q in doc["questions"] if q["id"] in ("q3a", "q3b")], sort_keys=True)
        assert q3 not in seen
        seen.add(q3)


def test_answers_csv_agrees_with_each_answers_json(hostile):
    _, _, out = hostile
    table = read_csv(out / "answers.csv")
    assert table[0] == ["student_id", "question", "label", "index", "value"]
    expected = [(row["student_id"], *cell) for row in manifest(out) for cell in numeric_cells(answers(out, row))]
    assert len(expected) > 30 * len(HOSTILE)
    assert [tuple(r[:4]) for r in table[1:]] == [e[:4] for e in expected]
    assert all(float(r[4]) == e[4] for r, e in zip(table[1:], expected))
    assert any(e[3] == "1" for e in expected) and any(e[3] == "" for e in expected)


def test_answers_jsonl_holds_one_document_per_student(hostile):
    _, _, out = hostile
    lines = (out / "answers.jsonl").read_text(encoding="utf-8").splitlines()
    rows = manifest(out)
    assert len(lines) == len(rows)
    assert [json.loads(line) for line in lines] == [answers(out, r) for r in rows]
    # each line exactly as json.dumps writes the student's document (hostile ids included)
    assert lines == [json.dumps(answers(out, r), ensure_ascii=False) for r in rows]


def test_answer_sheet_has_a_column_per_cell_and_a_row_per_student(hostile):
    _, _, out = hostile
    sheet = read_csv(out / "answer-sheet.csv")
    header, body = sheet[0], sheet[1:]
    assert header[:2] == ["student_id", "name"] and len(set(header)) == len(header)
    rows = manifest(out)
    union = set()
    for row in rows:
        own = [f"{q}.{label}" + (f"[{i}]" if i else "") for q, label, i, _ in numeric_cells(answers(out, row))]
        union.update(own)
        positions = [header.index(c) for c in own]
        assert positions == sorted(positions)           # each student's table order is kept
    assert set(header[2:]) == union
    assert [r[:2] for r in body] == [[r["student_id"], r["name"]] for r in rows]
    assert all(cell == "" for r in body for cell in r[2:])


def test_keys_pdf_is_contents_then_every_key(hostile):
    _, _, out = hostile
    rows = manifest(out)
    keys = PdfReader(out / "keys.pdf")
    contents_pages = len(keys.pages) - sum(int(r["key_pages"]) for r in rows)
    assert contents_pages >= 1
    contents = "".join(ch for ch in squashed(
        unicodedata.normalize("NFKC", "".join(keys.pages[i].extract_text() for i in range(contents_pages))))
        if unicodedata.category(ch) != "Cf")
    page = contents_pages
    for row in rows:
        assert all(p in contents for p in visible(row["name"])), row["name"]
        assert squashed(row["student_id"]) + f"{row['variant']}{page + 1}" in contents
        key = PdfReader(out / row["key_pdf"])     # its first page starts here (text is slow: one page)
        assert keys.pages[page].extract_text() == key.pages[0].extract_text()
        page += len(key.pages)
    assert page == len(keys.pages)


# --- seeds and the secret ---------------------------------------------------------

def test_seeds_come_from_the_secret_same_secret_same_seeds(tmp_path, kind_runs, secrets_dir):
    first, _ = kind_runs("plain.csv")
    again = tmp_path / "again"
    assert summary(cli("--roster", DATA / "plain.csv", "--secret-file", secrets_dir / "a.key",
                       "--out", again, "--jobs", 2))["made"] == 3
    for name in ("manifest.csv", "answers.jsonl", "answers.csv", "keys.pdf"):
        assert (again / name).read_bytes() == (first / name).read_bytes(), name
    secret = read_secret(secrets_dir / "a.key")
    assert [answers(first, r)["seed"] for r in manifest(first)] == [student_seed(secret, i) for i in ("s1", "s2", "s3")]


def test_a_changed_roster_is_refused_with_who_changed(tmp_path, capsys, secrets_dir):
    """The refusal says who was added or removed, and promises that --force keeps
    everyone's numbers only when it does: not with another configuration too, nor for a
    student whose seed a collision had moved on, nor for an id re-saved in another
    Unicode normalization (the seed comes from its exact characters)."""
    out = tmp_path / "out"
    batch.run_batch(batch.BatchRequest(write_roster(tmp_path / "a.csv", [("a1", "A"), ("Jos\u00e9", "J")]),
                                       secrets_dir / "a.key", out, generator.config.DEFAULT_CONFIG, jobs=1))
    key = ["--secret-file", secrets_dir / "a.key", "--out", out]
    fewer = write_roster(tmp_path / "b.csv", [("a1", "A")])
    promise = ("secret, configuration and version are the same, so --force keeps every student still on the "
               "roster as they are (numbers and files) and makes only those it lacks")
    assert f"another roster (1 student removed ('Jos\u00e9'); {promise}); use --force" \
           in one_line_error(capsys, ["--roster", fewer, *key])
    config = tmp_path / "course.toml"
    config.write_text('[course]\nname = "Another course"\n', encoding="utf-8")
    assert "made with another roster and another configuration (1 student removed ('Jos\u00e9')); use --force" \
           in one_line_error(capsys, ["--roster", fewer, "--config", config, *key])
    recoded = write_roster(tmp_path / "c.csv", [("a1", "A"), ("Jose\u0301", "J"), ("c3", "C")])
    assert "another roster (1 student added ('c3'); 1 student with the id now in another Unicode normalization, " \
           "which changes the seed ('Jose\\u0301')); use --force" in one_line_error(capsys, ["--roster", recoded, *key])

    rows = list(csv.DictReader(io.StringIO((out / "manifest.csv").read_text(encoding="utf-8"))))
    rows[0]["seed_attempt"] = "1"          # a1's seed was moved on by a collision: kept all the same
    buf = io.StringIO()
    w = csv.DictWriter(buf, list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (out / "manifest.csv").write_text(buf.getvalue(), encoding="utf-8")
    assert f"another roster (1 student removed ('Jos\u00e9'); {promise}); use --force" \
           in one_line_error(capsys, ["--roster", fewer, *key])
    # An interrupted batch (one student of two in the journal): not "1 added" for the rest.
    (out / "manifest.csv").unlink()
    (out / batch.PROGRESS).write_text(json.dumps(rows[0]) + "\n", encoding="utf-8")
    more = write_roster(tmp_path / "d.csv", [("a1", "A"), ("Jos\u00e9", "J"), ("c3", "C")])
    assert f"another roster (the earlier batch had made 1 of its 2 students; {promise} unless a student made " \
           "now drew the very same Question 3 numbers); use --force" in one_line_error(capsys, ["--roster", more, *key])
    identity = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    for damaged in (10 ** 4000, "2", True, -1):        # batch.json edited by hand: no traceback, no huge number
        (out / "batch.json").write_text(json.dumps({**identity, "students": damaged}), encoding="utf-8")
        assert "another roster (2 students added ('Jos\u00e9', 'c3'); secret, " \
               in one_line_error(capsys, ["--roster", more, *key])


def test_another_secret_or_roster_is_refused_without_force(tmp_path, capsys, kind_runs, secrets_dir):
    made, _ = kind_runs("gradescope_first_last.csv")
    out = tmp_path / "out"
    shutil.copytree(made, out)
    before = snapshot(out)
    roster = DATA / "gradescope_first_last.csv"
    err = one_line_error(capsys, ["--roster", roster, "--secret-file", secrets_dir / "b.key", "--out", out])
    assert "another secret" in err and "--force" in err
    longer = tmp_path / "longer.csv"
    longer.write_text(roster.read_text(encoding="utf-8") + "Alan,Turing,S0012348,at@example.edu,Student,B\n",
                      encoding="utf-8")
    err = one_line_error(capsys, ["--roster", longer, "--secret-file", secrets_dir / "a.key", "--out", out])
    assert "another roster (1 student added ('S0012348'); secret, configuration and version are the same, so " \
           "--force keeps every student still on the roster as they are (numbers and files) and makes only " \
           "those it lacks unless a student made now drew the very same Question 3 numbers)" in err
    assert snapshot(out) == before
    old_seeds = {r["student_id"]: answers(out, r)["seed"] for r in manifest(out)}

    s = summary(cli("--roster", roster, "--secret-file", secrets_dir / "b.key", "--out", out, "--force",
                    "--jobs", 2))
    assert (s["made"], s["reused"]) == (3, 0)
    new_seeds = {r["student_id"]: answers(out, r)["seed"] for r in manifest(out)}
    assert new_seeds.keys() == old_seeds.keys()
    assert all(new_seeds[i] != old_seeds[i] for i in old_seeds)
    secret_b = read_secret(secrets_dir / "b.key")
    assert all(new_seeds[i] == student_seed(secret_b, i) for i in new_seeds)


def test_force_on_a_roster_that_gained_and_lost_students_makes_only_the_new(tmp_path, capsys, kind_runs,
                                                                           secrets_dir):
    """A late enrolment and a drop: --force keeps the staying students' files untouched,
    makes the one added, and removes the files of the one who left; --only cannot do it."""
    made, _ = kind_runs("plain.csv")
    out = tmp_path / "out"
    shutil.copytree(made, out)
    before = snapshot(out)
    rows = {r["student_id"]: r for r in manifest(out)}
    roster = write_roster(tmp_path / "later.csv", [("s1", "Ada Lovelace"), ("s3", "s3"), ("s4", "Late Comer")])
    key = ["--roster", roster, "--secret-file", secrets_dir / "a.key", "--out", out]
    assert "--only with a changed roster: run with --force alone" in \
        one_line_error(capsys, [*key, "--only", "s4", "--force"])
    assert snapshot(out) == before
    s = summary(cli(*key, "--force", "--jobs", 1))
    assert (s["n"], s["made"], s["reused"]) == (3, 1, 2)
    after = snapshot(out)
    for sid in ("s1", "s3"):
        for column in ("question_pdf", "key_pdf", "answers_json"):
            assert after[rows[sid][column]] == before[rows[sid][column]]     # same mtime, same bytes
    assert not any(p.startswith(f"students/{rows['s2']['file_stem']}") for p in after)
    now = {r["student_id"]: r for r in manifest(out)}
    assert list(now) == ["s1", "s3", "s4"]
    secret = read_secret(secrets_dir / "a.key")
    assert answers(out, now["s4"])["seed"] == student_seed(secret, "s4", int(now["s4"]["seed_attempt"]))
    assert [r["student_id"] for r in map(json.loads, (out / "answers.jsonl").read_text().splitlines())] \
        == ["s1", "s3", "s4"]
    assert summary(cli(*key))["reused"] == 3                          # and the folder is this batch's now

def test_options_that_cannot_apply_are_refused_in_one_line(tmp_path, capsys, secrets_dir):
    """Each is one line and exit 2, with nothing written: --emit with a roster (it used to
    be ignored), --new-secret beside another option (--out was ignored), an empty
    --new-secret, a students/ that is a file, an --out under a file, an --only id that
    differs from a roster id only in case (named as the likely one)."""
    roster = write_roster(tmp_path / "r.csv", [("s1", "Ada"), ("s2", "Bob")])
    key = ["--roster", roster, "--secret-file", secrets_dir / "a.key"]
    (tmp_path / "afile").write_text("x")
    (tmp_path / "bf").mkdir()
    (tmp_path / "bf" / "students").write_text("x")
    cases = [([*key, "--emit", "typ", "--out", tmp_path / "o"], "--emit typ writes one set's Typst sources"),
             (["--new-secret", tmp_path / "n.key", "--out", tmp_path / "o"], "drop --out"),
             (["--new-secret", tmp_path / "n.key", "--seed", "1"], "drop --seed"),
             (["--new-secret", " "], "--new-secret is empty"),
             ([*key, "--out", tmp_path / "bf", "--force"], "students is a file, where the batch keeps"),
             ([*key, "--out", tmp_path / "afile" / "o"], "afile is a file, not a folder"),
             (["--seed", "1", "--out", tmp_path / "afile" / "o"], "afile is a file, not a folder"),
             ([*key, "--out", tmp_path / "o", "--only", "S2"], "(did you mean 's2'?)")]
    before = snapshot(tmp_path)
    for argv, message in cases:
        assert message in one_line_error(capsys, argv), argv
        assert snapshot(tmp_path) == before, argv


def test_a_readable_secret_is_warned_after_the_batch_not_beside_an_error(tmp_path, capsys, secrets_dir):
    secret = tmp_path / "open.key"
    secret.write_bytes((secrets_dir / "a.key").read_bytes())
    secret.chmod(0o644)
    roster = write_roster(tmp_path / "r.csv", [("s1", "Ada")])
    assert "--only: 'nope'" in one_line_error(capsys, ["--roster", roster, "--secret-file", secret,
                                                         "--out", tmp_path / "o", "--only", "nope"])
    proc = cli("--roster", roster, "--secret-file", secret, "--out", tmp_path / "o", "--only", " s1 ")
    assert proc.returncode == 2 and "--only remakes students" in proc.stderr   # stripped, as roster ids are
    s = summary(proc := cli("--roster", roster, "--secret-file", secret, "--out", tmp_path / "o", "--jobs", 1))
    assert s["n"] == 1 and proc.stdout.strip().endswith("1 student (1 made, 0 already up to date, 0 seeds re-derived)")
    assert proc.stderr.strip().splitlines() == [f"make-pset: warning: secret file {secret} can be read by others "
                                                "(mode 644); chmod 600 it"]

def test_outputs_of_unknown_origin_are_refused(tmp_path, capsys, secrets_dir):
    (tmp_path / "out" / "students").mkdir(parents=True)
    (tmp_path / "out" / "students" / "s1.pdf").write_bytes(b"someone else's")
    err = one_line_error(capsys, ["--roster", DATA / "plain.csv", "--secret-file", secrets_dir / "a.key",
                                  "--out", tmp_path / "out"])
    assert "unknown origin" in err
    assert (tmp_path / "out" / "students" / "s1.pdf").read_bytes() == b"someone else's"


def test_a_question_3_collision_is_rederived_and_recorded(tmp_path, monkeypatch, secrets_dir):
    secret = read_secret(secrets_dir / "a.key")
    clash = {student_seed(secret, "s1", 0), student_seed(secret, "s2", 0)}
    real, real_of = batch.q3_fingerprint, batch.pset_fingerprint
    monkeypatch.setattr(batch, "pset_fingerprint", lambda ps: "same" if ps.seed in clash else real_of(ps))
    # In process: the monkeypatched fingerprint must be the one used, and this test
    # process may already have run Typst, so it must not fork.
    monkeypatch.setattr(batch, "_pool", lambda jobs, tasks: batch.InProcessPool())
    result = batch.run_batch(batch.BatchRequest(DATA / "plain.csv", secrets_dir / "a.key", tmp_path / "out",
                                                generator.config.DEFAULT_CONFIG, jobs=2))
    assert (result.made, result.collisions) == (3, 1)
    rows = {r["student_id"]: r for r in manifest(tmp_path / "out")}
    assert {i: r["seed_attempt"] for i, r in rows.items()} == {"s1": "0", "s2": "1", "s3": "0"}
    seeds = {i: answers(tmp_path / "out", r)["seed"] for i, r in rows.items()}
    assert seeds == {"s1": student_seed(secret, "s1", 0), "s2": student_seed(secret, "s2", 1),
                     "s3": student_seed(secret, "s3", 0)}
    assert real(seeds["s1"], generator.config.DEFAULT_CONFIG) != real(seeds["s2"], generator.config.DEFAULT_CONFIG)



def test_without_question_3_there_is_nothing_to_keep_apart(tmp_path, secrets_dir):
    """Question 3's numbers are what must differ; a problem set without it makes every
    fingerprint alike, and the batch must not redraw seeds in search of a difference."""
    config = tmp_path / "course.toml"
    config.write_text('[questions]\ninclude = ["q1", "q2"]\n', encoding="utf-8")
    s = summary(cli("--roster", DATA / "plain.csv", "--secret-file", secrets_dir / "a.key",
                    "--out", tmp_path / "out", "--config", config, "--jobs", 1))
    assert (s["n"], s["made"], s["collisions"]) == (3, 3, 0)
    assert [r["seed_attempt"] for r in manifest(tmp_path / "out")] == ["0", "0", "0"]
    assert not (tmp_path / "out" / batch.PROGRESS).exists()

# --- --only, a killed batch, a resumed batch --------------------------------------

def test_only_regenerates_just_that_student(tmp_path, kind_runs, secrets_dir):
    made, _ = kind_runs("canvas.csv")
    out = tmp_path / "out"
    shutil.copytree(made, out)
    before = snapshot(out)
    s = summary(cli("--roster", DATA / "canvas.csv", "--secret-file", secrets_dir / "a.key", "--out", out,
                    "--only", "S0012346", "--jobs", 2))
    assert (s["made"], s["reused"]) == (1, 2)
    after = snapshot(out)
    assert after.keys() == before.keys()
    for path, (mtime, digest) in after.items():
        assert digest == before[path][1], path                        # same secret: same bytes
        if path.startswith("students/"):
            assert (mtime != before[path][0]) == path.startswith("students/S0012346"), path


@pytest.mark.parametrize("jobs", ["1", "2"])   # made in process; by a pool
def test_a_killed_batch_resumes_with_only_what_is_missing(tmp_path, hostile, secrets_dir, jobs):
    _, roster, clean = hostile
    out = tmp_path / "out"
    args = ["-m", "generator", "--roster", str(roster), "--secret-file", str(secrets_dir / "a.key"),
            "--out", str(out), "--jobs", jobs]
    proc = subprocess.Popen([sys.executable, *args], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    journal, deadline = out / batch.PROGRESS, time.monotonic() + 60
    try:
        while not (journal.exists() and journal.read_text(encoding="utf-8").count("\n") >= 2):
            assert proc.poll() is None, "the batch finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)     # the batch and any pool workers, at once
        proc.wait()
        time.sleep(0.2)
    assert not (out / "manifest.csv").exists()
    done = []
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            done.append(json.loads(line))
        except ValueError:
            pass                                  # a torn last line
    reference = outputs(clean)
    partial = outputs(out)
    assert [p for p in partial if p != batch.PROGRESS and partial[p] != reference.get(p)] == []   # complete files only
    kept = {f: (out / f).stat().st_mtime_ns for r in done for f in (r["question_pdf"], r["key_pdf"], r["answers_json"])}

    s = summary(cli(*args[2:-1], "2"))
    assert (s["n"], s["made"], s["reused"]) == (len(HOSTILE), len(HOSTILE) - len(done), len(done))
    assert len(done) >= 2 and s["made"] >= 1
    assert outputs(out) == reference
    assert all((out / f).stat().st_mtime_ns == t for f, t in kept.items())


def test_a_rerun_removes_temporary_files_a_killed_run_left(tmp_path, hostile, secrets_dir):
    """SIGKILL between mkstemp and os.replace leaves .<name>.<random>.tmp; a rerun must not keep it."""
    _, roster, clean = hostile
    out = tmp_path / "out"
    shutil.copytree(clean, out)
    stem = manifest(out)[0]["file_stem"]
    (out / "manifest.csv").unlink()
    stale = out / "students" / f".{stem}.pdf.k1l2ed.tmp"
    stale.write_bytes(b"%PDF-1.7 half")
    summary(cli("--roster", roster, "--secret-file", secrets_dir / "a.key", "--out", out, "--jobs", 2))
    assert not stale.exists()


# Script prelude: every process the script starts is counted in `started`.
COUNT_STARTS = ("import multiprocessing.process as mp\n"
                "started, start = [], mp.BaseProcess.start\n"
                "mp.BaseProcess.start = lambda self: (started.append(self), start(self))[1]\n")
DIGESTS = ("question_sha256", "key_sha256", "answers_sha256")  # a student's files, in manifest.csv


def test_two_batches_in_one_process(tmp_path, secrets_dir):
    """A library caller (or a test) runs run_batch twice: the first, one student, is made
    in this process, whose Typst compiler has started threads; the second, two students
    on two jobs, starts a pool after that. It must still finish."""
    one = write_roster(tmp_path / "one.csv", [("s1", "Ada")])
    two = write_roster(tmp_path / "two.csv", [("s1", "Ada"), ("s2", "Bob")])
    script = (COUNT_STARTS + "from pathlib import Path\n"
              "from generator.batch import BatchRequest, run_batch\n"
              "from generator.config import DEFAULT_CONFIG\n"
              f"for roster, out in (({str(one)!r}, 'one'), ({str(two)!r}, 'two')):\n"
              f"    run_batch(BatchRequest(Path(roster), Path({str(secrets_dir / 'a.key')!r}),\n"
              f"              Path({str(tmp_path)!r}) / out, DEFAULT_CONFIG, jobs=2))\n"
              "    print(len(started))\n")
    code, out, err = run_killable(["-c", script], timeout=15)
    assert code == 0, f"the second batch did not finish in 15 s (a deadlock after fork?) {err}"
    first, second = map(int, out.split()[-2:])     # processes started so far, after each batch
    assert first == 0 < second                     # in process, then a pool


def _batch_counting_processes(roster: Path, secret: Path, out: Path, jobs: int, worker_students: int) -> int:
    """Run a batch in a fresh interpreter; return how many processes it started."""
    script = (COUNT_STARTS + "from pathlib import Path\n"
              "import generator.batch as batch\n"
              "from generator.config import DEFAULT_CONFIG\n"
              f"batch.WORKER_STUDENTS = {worker_students}\n"
              f"batch.run_batch(batch.BatchRequest(Path({str(roster)!r}), Path({str(secret)!r}), Path({str(out)!r}), "
              f"DEFAULT_CONFIG, jobs={jobs}))\n"
              "print(len(started))\n")
    code, stdout, err = run_killable(["-c", script], timeout=60)
    assert code == 0, err
    return int(stdout.split()[-1])


def _same_outputs(a: Path, b: Path) -> None:
    assert [[r[d] for d in DIGESTS] for r in manifest(a)] == [[r[d] for d in DIGESTS] for r in manifest(b)]
    assert (a / "keys.pdf").read_bytes() == (b / "keys.pdf").read_bytes()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are replaced on Linux only")
def test_workers_replaced_after_every_student_make_the_same_files(tmp_path, kind_runs, secrets_dir):
    """Workers are replaced every WORKER_STUDENTS students (a long-running one slows
    down). Replaced after each task, every task gets a worker of its own, and the batch
    still finishes with the same bytes."""
    made, _ = kind_runs("plain.csv")
    started = _batch_counting_processes(DATA / "plain.csv", secrets_dir / "a.key", tmp_path / "out", 2, 1)
    assert started >= 4         # 3 students and keys.pdf, a worker each
    _same_outputs(tmp_path / "out", made)


@pytest.mark.parametrize("jobs, worker_students, pooled", [(1, 50, False), (1, 2, True), (2, 50, True)])
def test_the_pool_is_used_only_where_it_helps(tmp_path, kind_runs, secrets_dir, jobs, worker_students, pooled):
    """3 students: with one job and at most WORKER_STUDENTS students, no worker process
    (its start-up would be all it adds); with more, the pool, so workers are still
    replaced; with two jobs, the pool. The bytes are the same every way."""
    made, _ = kind_runs("plain.csv")   # 3 students
    started = _batch_counting_processes(DATA / "plain.csv", secrets_dir / "a.key", tmp_path / "out", jobs,
                                        worker_students)
    assert (started > 0) == pooled
    _same_outputs(tmp_path / "out", made)


def test_one_student_is_made_in_process_even_with_two_jobs(tmp_path, secrets_dir):
    one = write_roster(tmp_path / "one.csv", [("s1", "Ada")])
    two = write_roster(tmp_path / "two.csv", [("s1", "Ada"), ("s2", "Bob")])
    assert _batch_counting_processes(one, secrets_dir / "a.key", tmp_path / "here", 2, 50) == 0
    assert _batch_counting_processes(two, secrets_dir / "a.key", tmp_path / "pooled", 2, 50) > 0
    assert [r[d] for r in manifest(tmp_path / "here") for d in DIGESTS] == \
        [r[d] for r in manifest(tmp_path / "pooled") if r["student_id"] == "s1" for d in DIGESTS]


def test_in_process_apply_async_hands_back_the_result_or_the_error():
    """As a pool's AsyncResult: the work runs beside the caller, get() returns or raises."""
    pool = batch.InProcessPool()
    assert pool.apply_async(lambda a, b: a + b, (2, 3)).get() == 5

    def broken():
        raise PsetError("keys.pdf: broken")
    pending = pool.apply_async(broken, ())
    with pytest.raises(PsetError, match="broken"):
        pending.get()


# --- a damaged or shared output folder --------------------------------------------

def run_here(monkeypatch, roster: Path, secret: Path, out: Path, **options) -> batch.BatchResult:
    """run_batch in this process, its students made here (this process may have run
    Typst, so it must not fork)."""
    monkeypatch.setattr(batch, "_pool", lambda jobs, tasks: batch.InProcessPool())
    return batch.run_batch(batch.BatchRequest(roster, secret, out, generator.config.DEFAULT_CONFIG, **options))


@pytest.mark.parametrize("inside", ["answers.csv", "answer-sheet.csv", "answers.jsonl", "manifest.csv",
                                    "keys.pdf", "students/class.csv", ".class.csv.x1.tmp"])
@pytest.mark.parametrize("which", ["roster", "secret"])
def test_a_roster_or_secret_where_the_batch_writes_is_refused(tmp_path, capsys, secrets_dir, inside, which):
    """They would be overwritten (answers.csv is a natural name for a roster)."""
    out = tmp_path / "out"
    roster, secret = DATA / "plain.csv", secrets_dir / "a.key"
    moved = out / inside
    moved.parent.mkdir(parents=True)
    shutil.copy(roster if which == "roster" else secret, moved)
    before = snapshot(tmp_path)
    roster, secret = (moved, secret) if which == "roster" else (roster, moved)
    err = one_line_error(capsys, ["--roster", roster, "--secret-file", secret, "--out", out, "--force"])
    assert f"{moved} is where the batch writes its outputs" in err
    assert snapshot(tmp_path) == before


def test_a_roster_beside_the_outputs_under_its_own_name_is_fine(tmp_path, monkeypatch, secrets_dir, kind_runs):
    made, _ = kind_runs("plain.csv")
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(DATA / "plain.csv", out / "roster.csv")
    run_here(monkeypatch, out / "roster.csv", secrets_dir / "a.key", out)
    assert (out / "roster.csv").read_bytes() == (DATA / "plain.csv").read_bytes()
    _same_outputs(out, made)


def _bom(out: Path) -> None:
    (out / "manifest.csv").write_bytes(b"\xef\xbb\xbf" + (out / "manifest.csv").read_bytes())


def _semicolons(out: Path) -> None:
    rows = read_csv(out / "manifest.csv")
    (out / "manifest.csv").write_text("\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")


def _latin1(out: Path) -> None:
    (out / "manifest.csv").write_bytes((out / "manifest.csv").read_bytes() + b"s9,Zo\xeb\n")


def _no_id_column(out: Path) -> None:
    text = (out / "manifest.csv").read_text(encoding="utf-8")
    (out / "manifest.csv").write_text(text.replace("student_id", "sid", 1), encoding="utf-8")


def _short_rows(out: Path) -> None:
    header, *rows = read_csv(out / "manifest.csv")
    (out / "manifest.csv").write_text("\n".join(",".join(r) for r in [header, *(r[:3] for r in rows)]) + "\n",
                                      encoding="utf-8")


def _outside_path(out: Path) -> None:
    """A row pointing at a file outside the folder, its digest made to match."""
    rows = manifest(out)
    outside = out.parent / "elsewhere.pdf"
    outside.write_bytes(b"not a key")
    rows[0]["key_pdf"] = "../elsewhere.pdf"
    rows[0]["key_sha256"] = hashlib.sha256(b"not a key").hexdigest()
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, MANIFEST_HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _no_fingerprint(out: Path) -> None:
    rows = manifest(out)
    rows[1]["q3_fingerprint"] = ""
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, MANIFEST_HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _journal(lines):
    def damage(out: Path) -> None:
        (out / "manifest.csv").unlink()
        (out / batch.PROGRESS).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return damage


DAMAGE = {"manifest with a BOM": _bom, "manifest with semicolons": _semicolons, "manifest not UTF-8": _latin1,
          "manifest without student_id": _no_id_column, "manifest rows cut short": _short_rows,
          "manifest pointing outside": _outside_path, "manifest row without a fingerprint": _no_fingerprint,
          "journal of nested brackets": _journal(["[" * 100_000]),
          "journal of non-objects": _journal(["[1]", '"x"', "3", "null"]),
          "journal of foreign objects": _journal(['{"a": 1}', '{"student_id": 5}',
                                                  '{"student_id": "s1", "question_pdf": 7}']),
          "journal with an odd attempt": _journal(['{"student_id": "s1", "seed_attempt": "\u00b2"}']),
          "journal not UTF-8": lambda out: (out / "manifest.csv").replace(out / batch.PROGRESS)}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_manifest_or_journal_is_remade_not_a_traceback(tmp_path, monkeypatch, secrets_dir, kind_runs,
                                                                 damage):
    """Rows that are not the batch's own are left out; their students are made again,
    with the same bytes, and nothing outside the folder is read as theirs."""
    made, _ = kind_runs("plain.csv")
    out = tmp_path / "out"
    shutil.copytree(made, out)
    if damage == "journal not UTF-8":
        (out / "manifest.csv").write_bytes(b"\xff\xfe" + (out / "manifest.csv").read_bytes())
    DAMAGE[damage](out)
    result = run_here(monkeypatch, DATA / "plain.csv", secrets_dir / "a.key", out)
    assert result.made >= 1 and result.made + result.reused == 3
    assert outputs(out) == outputs(made)


@pytest.mark.parametrize("text", ["[1, 2]", '"batch"', "{", "null"])
def test_an_unreadable_batch_json_needs_force(tmp_path, capsys, monkeypatch, secrets_dir, kind_runs, text):
    made, _ = kind_runs("plain.csv")
    out = tmp_path / "out"
    shutil.copytree(made, out)
    (out / "batch.json").write_text(text, encoding="utf-8")
    before = snapshot(out)
    err = one_line_error(capsys, ["--roster", DATA / "plain.csv", "--secret-file", secrets_dir / "a.key",
                                  "--out", out])
    assert "batch.json is unreadable" in err and "--force" in err
    assert snapshot(out) == before
    run_here(monkeypatch, DATA / "plain.csv", secrets_dir / "a.key", out, force=True)
    assert outputs(out) == outputs(made)


def test_an_interrupted_force_is_not_resumed_as_the_new_batch(tmp_path, capsys, monkeypatch, secrets_dir):
    """--force over another secret stopped while it clears the earlier batch (a Ctrl-C, a
    PDF open in a viewer on Windows): batch.json still names the earlier batch, so a rerun
    without --force refuses instead of taking the earlier students' files as the new ones."""
    out = tmp_path / "out"
    run_here(monkeypatch, DATA / "plain.csv", secrets_dir / "a.key", out)
    identity = (out / "batch.json").read_bytes()

    def stuck(folder):
        raise PermissionError(13, "Permission denied", str(folder / "students" / "s2.pdf"))
    monkeypatch.setattr(batch, "_remove_old_students", stuck)
    with pytest.raises(PermissionError):
        run_here(monkeypatch, DATA / "plain.csv", secrets_dir / "b.key", out, force=True)
    assert (out / "batch.json").read_bytes() == identity
    err = one_line_error(capsys, ["--roster", DATA / "plain.csv", "--secret-file", secrets_dir / "b.key",
                                  "--out", out])
    assert "another secret" in err


def test_another_id_column_is_refused_without_force(tmp_path, capsys, monkeypatch, secrets_dir):
    roster = tmp_path / "class.csv"
    roster.write_text("id,email,name\ns1,ada@x.edu,Ada\ns2,bob@x.edu,Bob\n", encoding="utf-8")
    out = tmp_path / "out"
    run_here(monkeypatch, roster, secrets_dir / "a.key", out)
    before = snapshot(out)
    err = one_line_error(capsys, ["--roster", roster, "--secret-file", secrets_dir / "a.key", "--out", out,
                                  "--id-column", "email"])
    assert ("another id column (ids from 'id' then, from 'email' now: to keep every student's seed, which comes "
            "from the id, use --id-column 'id')") in err
    assert snapshot(out) == before


CANVAS_HEAD = "Student,ID,SIS User ID,SIS Login ID,Section\n    Points Possible,,,,\n"


def test_a_batch_made_from_the_fallback_column_says_how_to_keep_it(tmp_path, capsys, monkeypatch, secrets_dir):
    """The earlier batch took Canvas's ID, a SIS User ID being empty then; filled in since,
    the roster would now give ids from SIS User ID, and every student another seed."""
    roster = tmp_path / "class.csv"
    roster.write_text(CANVAS_HEAD + '"Doe, Jane",4211,S1,jdoe,A\n"Roe, Rick",4212,,rroe,A\n', encoding="utf-8")
    out = tmp_path / "out"
    run_here(monkeypatch, roster, secrets_dir / "a.key", out)
    before = snapshot(out)
    roster.write_text(CANVAS_HEAD + '"Doe, Jane",4211,S1,jdoe,A\n"Roe, Rick",4212,S2,rroe,A\n', encoding="utf-8")
    err = one_line_error(capsys, ["--roster", roster, "--secret-file", secrets_dir / "a.key", "--out", out])
    assert ("(ids from 'ID' then, from 'SIS User ID' now: to keep every student's seed, which comes from the id, "
            "use --id-column 'ID')") in err, err
    assert snapshot(out) == before
    # As it says: with that column only the roster differs, and --force keeps everyone.
    err = one_line_error(capsys, ["--roster", roster, "--secret-file", secrets_dir / "a.key", "--out", out,
                                  "--id-column", "ID"])
    assert "made with another roster (the same student ids;" in err, err
    result = run_here(monkeypatch, roster, secrets_dir / "a.key", out, id_column="ID", force=True)
    assert (result.made, result.reused) == (0, 2)
    students = {k: v for k, v in before.items() if k.startswith("students")}
    assert {k: v for k, v in snapshot(out).items() if k.startswith("students")} == students


def test_an_id_column_header_in_another_case_is_the_same_column(tmp_path, capsys, monkeypatch, secrets_dir):
    """Headers are found whatever their case: refusing 'ID' then and 'id' now as another id
    column sent the instructor round in circles (--id-column 'ID' finds 'id' again)."""
    roster = tmp_path / "class.csv"
    roster.write_text("ID,name\ns1,Ada\ns2,Bob\n", encoding="utf-8")
    out = tmp_path / "out"
    run_here(monkeypatch, roster, secrets_dir / "a.key", out)
    roster.write_text("id,name\ns1,Ada\ns2,Bob\n", encoding="utf-8")
    err = one_line_error(capsys, ["--roster", roster, "--secret-file", secrets_dir / "a.key", "--out", out])
    assert "made with another roster (the same student ids;" in err and "id column" not in err, err


def test_an_id_column_the_batch_did_not_record_is_another_column(tmp_path, capsys, monkeypatch, secrets_dir):
    roster = tmp_path / "class.csv"
    roster.write_text("id,email,name\ns1,ada@x.edu,Ada\n", encoding="utf-8")
    out = tmp_path / "out"
    run_here(monkeypatch, roster, secrets_dir / "a.key", out)
    identity = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    del identity["id_column"]
    (out / "batch.json").write_text(json.dumps(identity), encoding="utf-8")
    err = one_line_error(capsys, ["--roster", roster, "--secret-file", secrets_dir / "a.key", "--out", out])
    assert "another id column (ids from another column then, from 'id' now)" in err, err


def test_a_late_enrolment_without_a_sis_id_says_which_row_to_fill_in(tmp_path, capsys, monkeypatch, secrets_dir):
    """A student added without a SIS User ID makes the whole export fall back to Canvas's
    own ID column, and every seed with it: the refusal names both columns and the row."""
    head = CANVAS_HEAD
    roster = tmp_path / "class.csv"
    roster.write_text(head + '"Doe, Jane",4211,S1,jdoe,A\n"Roe, Rick",4212,S2,rroe,A\n', encoding="utf-8")
    out = tmp_path / "out"
    run_here(monkeypatch, roster, secrets_dir / "a.key", out)
    before = snapshot(out)
    roster.write_text(head + '"Doe, Jane",4211,S1,jdoe,A\n"Roe, Rick",4212,S2,rroe,A\n"Li, Mei",4213,,mli,A\n'
                      '"Ng, Al",4214,,ang,A\n', encoding="utf-8")
    err = one_line_error(capsys, ["--roster", roster, "--secret-file", secrets_dir / "a.key", "--out", out])
    assert ("(ids from 'SIS User ID' then, from 'ID' now, as 'SIS User ID' is empty on lines 5 and 6: fill it in "
            "there to keep every student's seed, which comes from the id)") in err, err
    assert snapshot(out) == before


def test_force_over_another_roster_leaves_only_the_new_students_files(tmp_path, monkeypatch, secrets_dir):
    old = write_roster(tmp_path / "old.csv", [("s1", "Ada"), ("s2", "Bob")])
    new = write_roster(tmp_path / "new.csv", [("s2", "Bob"), ("s3", "Cy")])
    out = tmp_path / "out"
    run_here(monkeypatch, old, secrets_dir / "a.key", out)
    (out / "students" / "notes.txt").write_text("mine", encoding="utf-8")   # not the batch's: kept
    run_here(monkeypatch, new, secrets_dir / "a.key", out, force=True)
    listed = {Path(r[c]).name for r in manifest(out) for c in ("question_pdf", "key_pdf", "answers_json")}
    assert sorted(p.name for p in (out / "students").iterdir()) == sorted(listed | {"notes.txt"})
    assert not any(name.startswith("s1") for name in listed)


def test_only_needs_a_batch_to_update(tmp_path, capsys, secrets_dir, kind_runs):
    """--only on an empty folder (or one of another secret, with --force) would make the
    whole class: refused, nothing written."""
    err = one_line_error(capsys, ["--roster", DATA / "plain.csv", "--secret-file", secrets_dir / "a.key",
                                  "--out", tmp_path / "fresh", "--only", "s1"])
    assert "--only remakes students of a batch" in err and not (tmp_path / "fresh").exists()
    made, _ = kind_runs("plain.csv")
    shutil.copytree(made, tmp_path / "other")
    before = snapshot(tmp_path / "other")
    one_line_error(capsys, ["--roster", DATA / "plain.csv", "--secret-file", secrets_dir / "b.key",
                            "--out", tmp_path / "other", "--only", "s1", "--force"])
    assert snapshot(tmp_path / "other") == before


def test_an_empty_out_is_refused(tmp_path, capsys, secrets_dir):
    for argv in (["--seed", "1"], ["--roster", DATA / "plain.csv", "--secret-file", secrets_dir / "a.key"]):
        err = one_line_error(capsys, [*argv, "--out", ""])
        assert "--out is empty" in err


def in_group(pgid: int) -> dict[int, str]:
    """pid -> command line of the processes of a group that still run (a zombie waits
    only to be reaped)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue                                   # ended meanwhile
    return found


def _pooled_batch_under_way(tmp_path, secrets_dir):
    """A 40-student batch on 2 workers, once its first student is made: (out, args, the
    process, a deadline 60 s on)."""
    roster = write_roster(tmp_path / "class.csv", [(f"s{i}", f"N{i}") for i in range(40)])
    out = tmp_path / "out"
    args = ["--roster", str(roster), "--secret-file", str(secrets_dir / "a.key"), "--out", str(out), "--jobs", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "generator", *args], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not ((out / batch.PROGRESS).exists() and (out / batch.PROGRESS).read_bytes().count(b"\n")):
        assert proc.poll() is None and time.monotonic() < deadline, "the batch ended before its first student"
        time.sleep(0.005)
    return out, args, proc, deadline


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; a forkserver on Linux only")
@pytest.mark.parametrize("sig,how", [(signal.SIGKILL, "killed by SIGKILL; out of memory?"),
                                     (signal.SIGTERM, "ended by SIGTERM")])
def test_a_worker_killed_midway_is_one_line_and_the_rerun_finishes(tmp_path, secrets_dir, sig, how):
    """The kernel's out-of-memory killer picks one worker: the pool replaced it, but that
    worker's student never came, and the batch waited for ever."""
    out, args, proc, deadline = _pooled_batch_under_way(tmp_path, secrets_dir)
    forkserver = [pid for pid, command in in_group(proc.pid).items()
                  if "forkserver" in command and parent(pid) == proc.pid]
    worker = next(pid for pid in in_group(proc.pid) if parent(pid) in forkserver)
    os.kill(worker, sig)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("the batch waited for ever on the killed worker's student")
    assert (proc.returncode, err.strip()) == (2, f"make-pset: error: a worker process ended while making a student "
                                                 f"({how}); the students made so far are kept: run the same "
                                                 "command again to finish")
    while in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_group(proc.pid) == {}
    s = summary(cli(*args))
    assert s["made"] + s["reused"] == 40 and s["reused"] >= 1
    assert not list(out.rglob(".*.tmp"))


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _mask(status: Path, field: str) -> set[int]:
    mask = next(int(line.split()[1], 16) for line in status.read_text().splitlines() if line.startswith(field))
    return {n for n in range(1, 64) if mask >> (n - 1) & 1}


def caught(pid: int) -> set[int]:
    """The signals a process answers with a handler (/proc's SigCgt mask)."""
    return _mask(Path(f"/proc/{pid}/status"), "SigCgt:")


def blocked(task: Path) -> set[int]:
    """The signals a thread (/proc/PID/task/TID) blocks."""
    return _mask(task / "status", "SigBlk:")


def _ctrl_c_answered() -> None:
    """The batch's Ctrl-C as at a terminal: a test run in the background of a shell
    without job control (`pytest &`) passes on SIGINT ignored, and Python keeps it so."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; a forkserver on Linux only")
@pytest.mark.parametrize("when", ["the forkserver starts", "a student is made", "a student is made, spawned"])
def test_ctrl_c_during_a_pooled_batch_is_one_line(tmp_path, secrets_dir, when):
    """SIGINT to the whole process group, as a terminal sends it: 'aborted' and exit
    code 1, no traceback from the forkserver (interrupted in its imports, it printed
    one) or a worker, and no process left behind. "spawned": the pool macOS and Windows
    get (here by making the batch believe it runs on macOS)."""
    roster = write_roster(tmp_path / "class.csv", [(f"s{i}", f"N{i}") for i in range(40)])  # interrupted long before the end
    out = tmp_path / "out"
    command = ["-m", "generator"]
    if when.endswith("spawned"):
        command = ["-c", "import sys, generator.batch as b; b.sys.platform = 'darwin'; "
                         "from generator.cli import main; main(sys.argv[1:])"]
    proc = subprocess.Popen([sys.executable, *command, "--roster", str(roster), "--secret-file",
                             str(secrets_dir / "a.key"), "--out", str(out), "--jobs", "2"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_ctrl_c_answered)
    deadline = time.monotonic() + 60
    try:
        while not (any("forkserver" in c for c in in_group(proc.pid).values()) if when == "the forkserver starts"
                   else (out / batch.PROGRESS).exists() and (out / batch.PROGRESS).read_bytes().count(b"\n")):
            assert proc.poll() is None and time.monotonic() < deadline, "the batch ended before it was interrupted"
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=1)
    except subprocess.TimeoutExpired:   # the first fell in the moment the forkserver is started, ignoring it
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert (proc.returncode, err.strip()) == (1, "make-pset: aborted")   # click starts a new line first
    while in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_group(proc.pid) == {}                    # the forkserver and workers are gone too


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; a forkserver on Linux only")
@pytest.mark.parametrize("sig,group,times", [(signal.SIGTERM, False, 1), (signal.SIGTERM, True, 1),
                                             (signal.SIGHUP, True, 1), (signal.SIGTERM, True, 3)])
def test_a_terminated_batch_is_one_line_and_resumes(tmp_path, secrets_dir, sig, group, times):
    """`kill PID` (SIGTERM to the batch's process only: it used to die at once, and each
    worker printed a broken-pipe traceback), `kill -- -PGID`, a closed terminal (SIGHUP):
    one line, exit 128 + the signal, no process left behind, and the rerun finishes. A
    signal again while it cleans up (an impatient `kill`) changes none of that."""
    out, args, proc, deadline = _pooled_batch_under_way(tmp_path, secrets_dir)
    # The forkserver and its workers catch the signal (a quiet SystemExit) rather than die
    # of it at once: one that died holding the pool's queue lock hung the batch's process
    # as it ended the pool (a run in four, under load, when the whole group was signalled).
    workers = [pid for pid, command in in_group(proc.pid).items() if "forkserver" in command]
    assert workers and all(caught(pid) >= {signal.SIGTERM, signal.SIGHUP} for pid in workers)
    # ... and only their main thread takes it: a signal the kernel handed to one of Typst's
    # threads left the main thread asleep on the pool's queue, and the batch waiting on it.
    typst_threads = [t for pid in workers for t in Path(f"/proc/{pid}/task").iterdir() if t.name != str(pid)]
    assert typst_threads and all(blocked(t) >= {signal.SIGTERM, signal.SIGHUP, signal.SIGINT} for t in typst_threads)
    for i in range(times):
        with contextlib.suppress(ProcessLookupError):
            (os.killpg if group else os.kill)(proc.pid, sig)
        time.sleep(0.02 * i)
    _, err = proc.communicate(timeout=30)
    assert (proc.returncode, err.strip()) == (128 + sig, f"make-pset: terminated ({signal.Signals(sig).name})")
    while in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_group(proc.pid) == {}
    assert not list(out.rglob(".*.tmp"))
    s = summary(cli(*args))
    assert s["made"] + s["reused"] == 40 and s["reused"] >= 1



@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signals")
def test_a_kill_as_a_temporary_file_is_made_leaves_none(tmp_path, monkeypatch):
    """A batch worker's SIGTERM is a SystemExit raised where its handler runs: just after
    mkstemp made the file, it left that file behind (once in 40 runs under load)."""
    from generator import export
    made = export.tempfile.mkstemp

    def mkstemp_then_signalled(*args, **kwargs):
        made_file = made(*args, **kwargs)
        signal.raise_signal(signal.SIGTERM)     # its handler runs at once unless the signal is held
        return made_file

    def exit_quietly(signum, frame):
        raise SystemExit(128 + signum)
    monkeypatch.setattr(export.tempfile, "mkstemp", mkstemp_then_signalled)
    before = signal.signal(signal.SIGTERM, exit_quietly)
    try:
        with pytest.raises(SystemExit):
            export.write_atomic(tmp_path / "s0.pdf", b"%PDF")
    finally:
        signal.signal(signal.SIGTERM, before)
    assert list(tmp_path.iterdir()) == []

"""The whole class at once: per-student files from a roster and a course secret,
in parallel, resumable, never half-written.

    DIR/batch.json            which secret (fingerprint), roster (sha256) and config made DIR
    DIR/students/<stem>.pdf, <stem>-key.pdf, <stem>-answers.json
    DIR/manifest.csv, answers.csv, answers.jsonl, answer-sheet.csv, keys.pdf
    DIR/roster-columns.csv    Canvas rosters only: the columns a gradebook import needs

A killed batch leaves complete files only (each is written under a temporary name and
renamed) plus DIR/.progress.jsonl; a rerun checks every finished student's files
against their recorded sha256 and makes only what is missing."""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import itertools
import json
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.pool
import os
import re
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from . import __version__
from .config import Config
from .errors import PsetError
from .export import answers_document, atomic_writer, dumps, one_line, write_atomic
from .keys_pdf import write_keys_pdf
from .pdfmerge import count_pages
from .pset import build_pset
from .reaping import ReapingPool
from .render import render_pset
from .roster import CANVAS_COLUMNS, Roster, Student, line_list, quoted, read_roster, same_header, same_text
from .secret import MAX_ATTEMPTS, read_secret, secret_fingerprint, student_seed
from .worker_signals import ANSWERED, start_serving, start_spawned

BATCH_FORMAT = "make-pset-batch/1"
PROGRESS = ".progress.jsonl"
MANIFEST_COLUMNS = ("student_id", "name", "file_stem", "variant", "seed_attempt", "question_pdf",
                    "key_pdf", "answers_json", "question_sha256", "key_sha256", "answers_sha256",
                    "key_pages", "generator_version", "q3_fingerprint")
ANSWERS_CSV_COLUMNS = ("student_id", "question", "label", "index", "value")


@dataclass(frozen=True)
class BatchRequest:
    roster: Path
    secret_file: Path
    out: Path
    config: Config
    jobs: int | None = None           # None: every core
    only: tuple[str, ...] = ()        # regenerate just these student ids
    force: bool = False               # overwrite outputs made with another secret/roster/config
    id_column: str | None = None
    name_column: str | None = None


@dataclass
class BatchResult:
    made: int
    reused: int
    collisions: int
    roster: Roster
    out: Path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def q3_fingerprint(seed: int, config: Config) -> str:
    """What two students must not share: Question 3's graphs, numbers and labels."""
    return pset_fingerprint(build_pset(seed, dataclasses.replace(config, questions=("q3",))))


def pset_fingerprint(ps) -> str:
    """q3_fingerprint of a problem set already built (the batch workers have one)."""
    parts = []
    for p in ps.problems:
        if p.id not in ("q3a", "q3b"):
            continue
        g = p.graph
        parts.append([(n, g.nodes[n]["op"], g.nodes[n]["args"], g.nodes[n].get("value"))
                      for n in g.nodes if g.nodes[n]["op"] in ("input", "param")] + [g.nodes["L"]["target"]])
        parts.append(sorted((n, g.nodes[n]["op"], tuple(g.nodes[n]["args"])) for n in g.nodes))
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=list).encode()).hexdigest()


@dataclass(frozen=True)
class _Task:
    student_id: str
    name: str
    stem: str
    seed: int
    attempt: int
    out: str
    config: Config


def _make_student(task: _Task) -> dict:
    """Worker: build, render and write one student's three files; return their manifest row."""
    ps = build_pset(task.seed, task.config)
    rendered = render_pset(ps, student_name=task.name)
    doc = answers_document(ps, student_id=task.student_id)
    folder = Path(task.out) / "students"
    data = {"question_pdf": rendered.question_pdf, "key_pdf": rendered.key_pdf,
            "answers_json": dumps(doc).encode("utf-8")}
    files = {column: (name, data[column]) for column, name in _student_files(task.stem).items()}
    row = {"student_id": task.student_id, "name": task.name, "file_stem": task.stem,
           "variant": ps.variant, "seed_attempt": str(task.attempt),
           "key_pages": str(count_pages(rendered.key_pdf, f"{task.stem}-key.pdf")), "generator_version": __version__,
           "q3_fingerprint": pset_fingerprint(ps)}
    for column, (file_name, data) in files.items():
        write_atomic(folder / file_name, data)
        row[column] = f"students/{file_name}"
        row[column.replace("_pdf", "").replace("_json", "") + "_sha256"] = hashlib.sha256(data).hexdigest()
    return row


def batch_identity(secret: bytes, roster_path: Path, roster: Roster, config: Config) -> dict:
    return {"format": BATCH_FORMAT, "generator_version": __version__,
            "secret_fingerprint": secret_fingerprint(secret),
            "roster_sha256": sha256_file(roster_path), "roster_kind": roster.kind,
            "id_column": roster.id_column,
            "config_sha256": hashlib.sha256(repr(config).encode()).hexdigest(),
            "students": len(roster.students)}


IDENTITY_FIELDS = (("secret_fingerprint", "another secret"), ("roster_sha256", "another roster"),
                   ("id_column", "another id column"), ("config_sha256", "another configuration"),
                   ("generator_version", "another make-pset version"))


# What a batch does with DIR: finish what it holds; start afresh; or (--force on a roster
# that only gained or lost students) keep the students still on it and make the rest.
RESUME, FRESH, KEEP_STAYING = "resume", "fresh", "keep staying students"


def _check_identity(out: Path, identity: dict, force: bool, roster: Roster) -> str:
    """RESUME when DIR already holds this batch's outputs; refuse another batch's without
    --force. The roster's ids say what changed when the roster did."""
    ids = [s.id for s in roster.students]
    path = out / "batch.json"
    if not path.exists():
        if (out / "manifest.csv").exists() or (out / "students").exists():
            if not force:
                raise PsetError(f"{out} holds outputs of unknown origin (no batch.json); "
                                "use --force to overwrite them or choose another --out")
        return FRESH
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    if not isinstance(old, dict):
        if force:
            return FRESH
        raise PsetError(f"{path} is unreadable; use --force to start this folder afresh")
    differ = [(key, what) for key, what in IDENTITY_FIELDS if not _same_identity(key, old.get(key), identity[key])]
    if not differ:
        return RESUME
    if force:
        # Same secret, configuration and version: a staying student's files are still theirs.
        return KEEP_STAYING if [k for k, _ in differ] == ["roster_sha256"] else FRESH
    whats = [what for _, what in differ]
    made_with = ", ".join(whats[:-1]) + " and " + whats[-1] if len(whats) > 1 else whats[0]
    if "id_column" in dict(differ):  # the ids themselves changed: who was added or removed means nothing
        change = _id_column_change(old.get("id_column"), roster)
    elif "roster_sha256" in dict(differ):
        change = _roster_change(out, ids, old, only_roster=len(differ) == 1)
    else:
        change = ""
    raise PsetError(f"{out} holds outputs made with {made_with}{change}; use --force to overwrite them "
                    "or choose another --out")


def _same_identity(key: str, before, now) -> bool:
    # A header is found whatever its case (--id-column too): 'ID' then and 'id' now is
    # the same column, and the same seeds.
    if key == "id_column" and isinstance(before, str) and isinstance(now, str):
        return same_header(before, now)
    return before == now


def _id_column_change(before, roster: Roster) -> str:
    """Which columns, and how to keep every student's seed: when this roster's usual id
    column is empty on some rows (students added without a SIS id) and so was passed over,
    fill those in; else, when the earlier column is still there and full, name it."""
    was = quoted(before) if isinstance(before, str) else "another column"
    said = f" (ids from {was} then, from {quoted(roster.id_column)} now"
    if roster.empty_id and roster.empty_id[0] == before:
        column, lines = roster.empty_id
        return (f"{said}, as {quoted(column)} is empty on {line_list(lines)}: fill it in there to keep every "
                f"student's seed, which comes from the id)")
    if isinstance(before, str) and roster.has_full_column(before):
        return f"{said}: to keep every student's seed, which comes from the id, use --id-column {quoted(before)})"
    return said + ")"


def _roster_change(out: Path, ids: list[str], old: dict, only_roster: bool) -> str:
    """What an instructor wants to know before --force on a roster that gained or lost
    students (a late enrolment, a drop): who, and whether everyone else keeps their
    numbers. A seed comes from the secret and the id's exact characters (so an id
    re-saved in another Unicode normalization gets another), or moves on after a
    collision."""
    rows = _known_rows(out)
    if not rows:
        return ""
    now = {same_text(i): i for i in ids}
    before = {same_text(i): i for i in rows}
    recoded = [i for k, i in now.items() if k in before and before[k] != i]
    kept = [i for k, i in now.items() if before.get(k) == i]
    added = [i for k, i in now.items() if k not in before]
    removed = [i for k, i in before.items() if k not in now]

    def few(which: list[str], show=lambda i: quoted(i, 30)) -> str:
        return ", ".join(show(i) for i in which[:3]) + (", ..." if len(which) > 3 else "")

    def count(n: int) -> str:
        return f"{n} student{'s' * (n != 1)}"
    parts = []
    total = old.get("students")
    complete = not (type(total) is int and len(rows) < total <= 10 ** 7)
    if not complete:  # an interrupted batch: "added" would be most of the class
        parts.append(f"the earlier batch had made {len(rows)} of its {total} students")
    elif added:
        parts.append(f"{count(len(added))} added ({few(added)})")
    if removed:
        parts.append(f"{count(len(removed))} removed ({few(removed)})")
    if recoded:
        parts.append(f"{count(len(recoded))} with the id now in another Unicode normalization, which changes "
                     f"the seed ({few(recoded, lambda i: ascii(i)[:40])})")
    keep = only_roster and kept and not recoded
    # Collisions are settled in id order: a student made now could take a kept one's numbers first.
    unless = " unless a student made now drew the very same Question 3 numbers" if added or not complete else ""
    return (f" ({'; '.join(parts) or 'the same student ids'}"
            + ("; secret, configuration and version are the same, so --force keeps every student still on the "
               f"roster as they are (numbers and files) and makes only those it lacks{unless})" if keep else ")"))


# What a batch writes in DIR besides students/ (and .<name>.<random>.tmp while writing).
OUTPUT_NAMES = ("batch.json", "manifest.csv", "answers.csv", "answers.jsonl", "answer-sheet.csv", "keys.pdf",
                "roster-columns.csv", PROGRESS)


def check_inputs_outside_outputs(out: Path, inputs: dict[str, Path]) -> None:
    """A roster or secret kept under a name the batch writes would be overwritten (or,
    for a secret, lost): refuse before anything is written."""
    folder = out.resolve()
    # Where file names ignore case (Windows, macOS), Manifest.csv is manifest.csv.
    fold = str.casefold if sys.platform in ("win32", "darwin") else str
    names = {fold(n) for n in OUTPUT_NAMES}
    for what, path in inputs.items():
        p = path.resolve()
        name = fold(p.name)
        if (fold(str(p.parent)) == fold(str(folder)) and (name in names or (name.startswith(".") and name.endswith(".tmp")))
                or fold(str(folder / "students")) in map(fold, map(str, p.parents))):
            raise PsetError(f"the {what} {path} is where the batch writes its outputs; "
                            f"move it out of {out} or choose another --out")


def _manifest_rows(out: Path) -> list[dict]:
    """manifest.csv's rows; none when it is missing or damaged (its students are remade)."""
    try:
        with open(out / "manifest.csv", newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except (FileNotFoundError, UnicodeDecodeError, csv.Error):
        return []


def _journal_rows(out: Path) -> list:
    try:
        text = (out / PROGRESS).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    rows = []
    for line in text.splitlines():
        try:
            rows.append(json.loads(line))
        except (ValueError, RecursionError):  # RecursionError: a line of nested brackets
            continue  # the torn last line of a killed run
    return rows


def _usable(row) -> bool:
    """A row as this module writes it: every manifest column, each a string."""
    return (isinstance(row, dict) and all(isinstance(row.get(c), str) for c in MANIFEST_COLUMNS)
            and re.fullmatch(r"[0-9]{1,6}", row["seed_attempt"]) is not None
            and re.fullmatch(r"[0-9a-f]{64}", row["q3_fingerprint"]) is not None)


def _known_rows(out: Path) -> dict[str, dict]:
    """Rows of students finished earlier: the manifest, then the progress journal. A row
    damaged by hand or by a crash is left out, and its student remade."""
    return {row["student_id"]: row for row in _manifest_rows(out) + _journal_rows(out) if _usable(row)}


def _still_valid(out: Path, row: dict, expected: dict) -> bool:
    """expected names the student's own files, so a row cannot point outside students/."""
    if any(row.get(k) != v for k, v in expected.items()):
        return False
    for column, digest in (("question_pdf", "question_sha256"), ("key_pdf", "key_sha256"),
                           ("answers_json", "answers_sha256")):
        path = out / row[column]
        if not path.is_file() or sha256_file(path) != row[digest]:
            return False
    return True


def _student_files(stem: str) -> dict[str, str]:
    """manifest column -> file name in students/."""
    return {"question_pdf": f"{stem}.pdf", "key_pdf": f"{stem}-key.pdf", "answers_json": f"{stem}-answers.json"}


def _remove_old_students(out: Path, staying: set[str] = frozenset()) -> None:
    """Starting a folder afresh (--force): the earlier batch's student files go, but those
    of students staying, so that students/ holds only what the new manifest lists. Only
    files that batch recorded."""
    for row in _manifest_rows(out) + _journal_rows(out):
        if not _usable(row) or row["student_id"] in staying:
            continue
        for column, name in _student_files(row["file_stem"]).items():
            if row[column] == f"students/{name}" and Path(name).name == name and not name.startswith("."):
                (out / "students" / name).unlink(missing_ok=True)


# On Linux each worker is replaced by a fresh one after this many students: a process
# that keeps typesetting slows down (glibc's malloc under Typst's allocations: 114 ->
# 140 ms per student over 150 students in one process, see docs/performance.md), and a new worker
# from the forkserver costs a few hundred ms. 1,000 students on 2 cores: 91 s never
# replaced, 87 s every 25, 84 s every 50, 83 s every 100.
WORKER_STUDENTS = 50


class InProcessPool:
    """The pool's interface, with the students made here, in order. Used when worker
    processes would buy nothing: one job with a lone worker that would serve every
    student (at most WORKER_STUDENTS of them; on Linux only, where workers are replaced),
    or a single student to make (`--only` one, or a resumed batch). What is saved is the
    pool's start-up: a fresh interpreter that imports the package and warms up (about
    0.5 s, as much as 3 students cost). keys.pdf still runs beside the CSVs: in a thread
    (Typst lets go of the GIL while it compiles)."""

    def __enter__(self) -> "InProcessPool":
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def imap_unordered(self, fn, items, chunksize: int = 1):
        return map(fn, items)

    def apply_async(self, fn, args) -> "_InThread":
        return _InThread(fn, args)


class _InThread:
    """fn(*args) in a thread; get() waits and returns its result or raises its error."""

    def __init__(self, fn, args) -> None:
        self.result, self.error = None, None
        # a daemon: an interrupted batch exits at once (keys.pdf is written atomically)
        self.thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self.thread.start()

    def _run(self, fn, args) -> None:
        try:
            self.result = fn(*args)
        except BaseException as e:  # noqa: BLE001 (handed to get(), like a pool's AsyncResult)
            self.error = e

    def get(self):
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.result


# How often a batch waiting on its workers checks that none was killed.
LOST_WORKER_POLL = 0.2


def _watched(pool, pending) -> Iterator:
    """The results of imap_unordered (or the one of apply_async), failing in one line when
    a worker dies instead of waiting for ever: multiprocessing's pool replaces a killed
    worker (the kernel's out-of-memory killer, a `kill -9`) but its student's result never
    comes. A worker ends on its own only when it has served WORKER_STUDENTS, exit code 0."""
    if isinstance(pool, InProcessPool):
        yield from ([pending.get()] if isinstance(pending, _InThread) else pending)
        return
    seen: dict[int, multiprocessing.Process] = {}
    while True:
        # Noted before each wait: a worker killed and replaced between two of them would
        # otherwise never be seen.
        for p in list(getattr(pool, "_pool", ())):  # the pool's current workers (it keeps no others)
            seen.setdefault(p.pid, p)
        try:
            if isinstance(pending, multiprocessing.pool.AsyncResult):
                yield pending.get(timeout=LOST_WORKER_POLL)
                return
            yield pending.next(timeout=LOST_WORKER_POLL)
        except StopIteration:
            return
        except multiprocessing.TimeoutError:
            for p in seen.values():
                if p.exitcode not in (None, 0):
                    raise PsetError(f"a worker process ended while making a student ({_ending(p.exitcode)}); "
                                    "the students made so far are kept: run the same command again to finish")
            failure = pool.handler_failure() if isinstance(pool, ReapingPool) else None
            if failure is not None:
                raise PsetError(f"the pool can no longer start worker processes ({type(failure).__name__}: "
                                f"{failure}; was its forkserver killed?); the students made so far are kept: run "
                                "the same command again to finish")


def _ending(code: int) -> str:
    """A worker's exit code in words: a signal's (negative), or ours, 128 + a signal
    answered (worker_signals), or a plain exit code."""
    for number, how in ((-code, "killed by"), (code - 128, "ended by")):
        try:
            name = signal.Signals(number).name
        except ValueError:
            continue
        return f"{how} {name}" + ("; out of memory?" if name == "SIGKILL" else "")
    return f"exit code {code}"


def _pool(jobs: int, tasks: int):
    linux = sys.platform.startswith("linux")
    if tasks <= 1 or (jobs == 1 and (tasks <= WORKER_STUDENTS or not linux)):
        return InProcessPool()
    # Not fork: once this process has run Typst (keys.pdf of an earlier batch, or the
    # students served in process), Typst's threads make a forked child hang. A
    # forkserver starts clean and stays cheap.
    if linux:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["generator.worker_preload", "generator.batch"])
        return _started(lambda: _forkserver_pool(ctx, jobs))
    # Elsewhere a new worker is a whole new interpreter (spawn), and the slowdown was
    # only measured with glibc: workers are kept.
    # Its start answers signals as the forkserver's workers do (worker_preload).
    return _started(lambda: ReapingPool(jobs, initializer=start_spawned, context=multiprocessing.get_context("spawn")))


def _forkserver_pool(ctx, jobs: int):
    """The forkserver is started with Ctrl-C ignored, a disposition a new program keeps
    (a signal mask it does not): a Ctrl-C cannot break its imports with a traceback, and
    it ignores it from then on, as its workers do (worker_preload). A Ctrl-C to this
    process in the few milliseconds that takes is lost."""
    if threading.current_thread() is threading.main_thread():
        before = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            signal.signal(signal.SIGINT, before)
    return ReapingPool(jobs, initializer=start_serving, maxtasksperchild=WORKER_STUDENTS, context=ctx)


def _start_resource_tracker() -> None:
    """multiprocessing's resource tracker (started with the first pool) ignores SIGINT and
    SIGTERM but not SIGHUP: a closed terminal would kill it, and a warning and a traceback
    follow the batch's one line. Started with SIGHUP blocked, it keeps it blocked (it
    unblocks only the other two); here a SIGHUP meanwhile waits, it is not lost."""
    if not hasattr(signal, "pthread_sigmask") or not hasattr(signal, "SIGHUP"):
        return
    from multiprocessing import resource_tracker
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@contextlib.contextmanager
def _started(make_pool):
    """The pool, with Ctrl-C held back while it starts its workers. Interrupted then, the
    pool would be lost half-made, with nothing to end the workers, and each would print a
    traceback as it failed to start; held back, it arrives once the pool's exit is there
    to end them. (A handler, not a signal mask: the kernel hands SIGINT to any thread
    that does not block it, numpy's among them.)"""
    held: list[int] = []
    here = threading.current_thread() is threading.main_thread()  # signal.signal's rule
    # SIGINT, and SIGTERM / SIGHUP where the CLI answers them like it (cli.Terminated).
    signals = [sig for sig in ANSWERED if sig == signal.SIGINT or callable(signal.getsignal(sig))] if here else []
    before = {sig: signal.signal(sig, lambda signum, frame: held.append(signum)) for sig in signals}

    def restore() -> None:
        for sig, handler in before.items():  # None: set outside Python (an embedder); default then
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
    try:
        _start_resource_tracker()
        pool = make_pool()
    except BaseException:
        restore()
        if held:  # the pool failed because of it (a group SIGTERM ends the forkserver): say so
            signal.raise_signal(held[0])
        raise
    with pool:
        restore()  # inside: a Ctrl-C from here on finds the pool's exit to end the workers
        if held:
            signal.raise_signal(held[0])  # to the handler it was meant for
        yield pool
        # A batch that ended well lets its workers leave on their own (each reads the end
        # of the queue), rather than the pool's exit signalling them: a worker that never
        # woke to that SIGTERM left the batch joining it for ever (twice in CI runs).
        pool.close()
        pool.join()


def run_batch(req: BatchRequest, progress: Callable[[int, int], None] | None = None) -> BatchResult:
    """Everything is read and checked before the first file is written."""
    secret = read_secret(req.secret_file)
    roster = read_roster(req.roster, req.id_column, req.name_column)
    by_id = {s.id: s for s in roster.students}
    unknown = [i for i in req.only if i not in by_id]
    if unknown:
        like = [s.id for s in roster.students if same_text(s.id).casefold() == same_text(unknown[0]).casefold()]
        hint = f" (did you mean {like[0]!r}?)" if like else ""
        raise PsetError(f"--only: {unknown[0]!r} is not a student id in {req.roster}{hint}")
    out = req.out
    check_inputs_outside_outputs(out, {"roster": req.roster, "secret file": req.secret_file})
    identity = batch_identity(secret, req.roster, roster, req.config)
    state = _check_identity(out, identity, req.force, roster) if out.exists() else FRESH
    if req.only and state == KEEP_STAYING:  # the new students would be left out
        raise PsetError(f"--only with a changed roster: run with --force alone, which keeps the students "
                        "still on the roster as they are and makes only those it lacks")
    if req.only and state == FRESH:  # else it would quietly make the whole class
        raise PsetError(f"--only remakes students of a batch in {out}, and it holds none made with this roster, "
                        "secret and configuration; run without --only")
    resuming = state != FRESH
    jobs = max(1, req.jobs or os.cpu_count() or 1)
    if (out / "students").exists() and not (out / "students").is_dir():
        raise PsetError(f"{out / 'students'} is a file, where the batch keeps its students' files; "
                        "move it or choose another --out")

    out.mkdir(parents=True, exist_ok=True)
    (out / "students").mkdir(exist_ok=True)
    for folder in (out, out / "students"):
        for stale in folder.glob(".*.tmp"):  # a killed run's half-written temporary files
            stale.unlink(missing_ok=True)
    if state == KEEP_STAYING:  # the files of students who left go; the rest are resumed
        _remove_old_students(out, staying=set(by_id))
    elif not resuming:
        _remove_old_students(out)
        (out / PROGRESS).unlink(missing_ok=True)
        (out / "manifest.csv").unlink(missing_ok=True)
    # Only now: while the folder still holds the earlier batch's rows or files, batch.json
    # must not claim them for this one (an interrupted --force would be resumed from them).
    write_atomic(out / "batch.json", json.dumps(identity, indent=1) + "\n")

    known = _known_rows(out) if resuming else {}
    rows: dict[str, dict] = {}
    tasks = []
    for s in roster.students:
        row = known.get(s.id)
        expected = {"name": s.name, "file_stem": s.file_stem, "generator_version": __version__,
                    **{c: f"students/{n}" for c, n in _student_files(s.file_stem).items()}}
        if row is not None and s.id not in req.only and _still_valid(out, row, expected):
            rows[s.id] = row
        else:  # a student remade keeps the attempt an earlier run settled on
            attempt = int(row["seed_attempt"]) if row else 0
            tasks.append(_task(secret, s, attempt, out, req.config))
    reused = len(rows)
    made = 0
    with _pool(jobs, len(tasks)) as pool, open(out / PROGRESS, "a", encoding="utf-8") as journal:
        def run(batch_tasks):
            nonlocal made
            for row in _watched(pool, pool.imap_unordered(_make_student, batch_tasks, chunksize=1)):
                journal.write(json.dumps(row, ensure_ascii=False) + "\n")
                journal.flush()
                rows[row["student_id"]] = row
                made += 1
                if progress:
                    progress(made, len(tasks))
        run(tasks)
        # No two students may share Question 3's numbers. Students are served in sorted id
        # order (as secret.assign_seeds does): a later one whose numbers are taken moves on
        # to its next attempt, deterministically, until they are free. Without Question 3
        # there are no numbers to keep apart (every fingerprint is that of no graphs).
        while req.config.includes("q3") and (redo := _collisions(rows)):
            extra = [_task(secret, by_id[sid], int(rows[sid]["seed_attempt"]) + 1, out, req.config) for sid in redo]
            tasks += extra
            run(extra)
        ordered = [rows[s.id] for s in roster.students]
        # keys.pdf in a worker (Typst's memory stays there; in process, in a thread), the
        # CSVs here meanwhile.
        keys = pool.apply_async(write_keys_pdf, (out, ordered))
        write_aggregates(out, roster, ordered)
        next(_watched(pool, keys))
    (out / PROGRESS).unlink(missing_ok=True)
    collisions = sum(1 for r in ordered if r["seed_attempt"] != "0")
    return BatchResult(len({t.student_id for t in tasks}), reused, collisions, roster, out)


def _task(secret: bytes, s: Student, attempt: int, out: Path, config: Config) -> _Task:
    if attempt >= MAX_ATTEMPTS:
        raise PsetError(f"student {s.id!r}: no seed with Question 3 numbers unlike every other "
                        f"student's in {MAX_ATTEMPTS} attempts")
    return _Task(s.id, s.name, s.file_stem, student_seed(secret, s.id, attempt), attempt, str(out), config)


def _collisions(rows: dict[str, dict]) -> list[str]:
    taken: set[str] = set()
    redo = []
    for sid in sorted(rows):
        fp = rows[sid]["q3_fingerprint"]
        if fp in taken:
            redo.append(sid)
        taken.add(fp)
    return redo


def _csv_rows(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _csv_text(header, rows) -> str:
    return _csv_rows(itertools.chain([header], rows))


def _docs(out: Path, rows: list[dict]) -> Iterator[tuple[str, dict]]:
    """Each student's answers.json, its text and its document, read one at a time (memory
    stays flat)."""
    for row in rows:
        text = (out / row["answers_json"]).read_text(encoding="utf-8")
        yield text, json.loads(text)


def write_aggregates(out: Path, roster: Roster, rows: list[dict]) -> None:
    from .grading.sheet import merged_columns
    write_atomic(out / "manifest.csv", _csv_text(MANIFEST_COLUMNS, ([r[c] for c in MANIFEST_COLUMNS] for r in rows)))
    # One pass over the students' answers.json files feeds all three (each file is read
    # and parsed once, one at a time): answers.jsonl, answers.csv, the sheet's columns.
    with atomic_writer(out / "answers.jsonl") as jsonl, atomic_writer(out / "answers.csv") as long_csv:
        long_csv.write(_csv_rows([ANSWERS_CSV_COLUMNS]).encode("utf-8"))

        def docs() -> Iterator[dict]:
            for text, doc in _docs(out, rows):
                jsonl.write((one_line(text) + "\n").encode("utf-8"))
                long_csv.write(_csv_rows(_answer_rows(doc)).encode("utf-8"))
                yield doc
        columns = merged_columns(docs())
    write_atomic(out / "answer-sheet.csv", _csv_text(["student_id", "name"] + columns,
                                                      ([r["student_id"], r["name"]] + [""] * len(columns) for r in rows)))
    if roster.kind == "canvas":
        by_id = {s.id: s for s in roster.students}
        write_atomic(out / "roster-columns.csv", _csv_text(
            ("student_id",) + CANVAS_COLUMNS,
            ([r["student_id"]] + [_column(by_id[r["student_id"]], c) for c in CANVAS_COLUMNS] for r in rows)))


def _column(student: Student, name: str) -> str:
    for k, v in student.columns.items():
        if k.strip().lower() == name.lower():
            return v
    return ""


def _answer_rows(doc: dict) -> Iterator[list]:
    """answers.csv's long format: one row per answer cell (index 1-based for vectors,
    empty for scalars)."""
    for q in doc["questions"]:
        for label, v in q["answers"].items():
            if isinstance(v, list) and all(isinstance(x, float) for x in v):
                for i, x in enumerate(v, start=1):
                    yield [doc["student_id"], q["id"], label, i, repr(x)]
            elif isinstance(v, float):
                yield [doc["student_id"], q["id"], label, "", repr(v)]

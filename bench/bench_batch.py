"""Roster batch speed and memory: a plain roster of N students with hostile-ish names.

    PYTHONPATH=. python bench/bench_batch.py                      # N = 100 and 1000, both cores; --jobs 1 on 50
    PYTHONPATH=. python bench/bench_batch.py --sizes 20 100 --serial 10   # a quick run
    PYTHONPATH=. python bench/bench_batch.py --sizes --serial 300 --rounds 3   # --jobs 1 on a class of 300
    PYTHONPATH=. python bench/bench_batch.py --profile 5          # cProfile of one worker's students

Targets (the roster issue): 1,000 students in under 90 s with both cores; with --jobs 1,
at most 1.3x the bare Typst compile time of the same documents; peak memory for 1,000
students within 20% of that for 100.

Every batch runs `run_batch` in a fresh child process (this one runs Typst itself, and a
process that has run Typst must not fork a pool). Memory is each process's peak
resident set (VmHWM in /proc): the main process, and the largest of the pool workers and
the forkserver, found by polling /proc every 0.2 s for processes in the child's session.
Phases come from the progress callback: "setup" is reading and checking, starting the
pool, and the first student; "students" the rest of the students; "aggregates" the
manifest, CSVs, answers.jsonl and keys.pdf.

The --jobs 1 ratio is the batch's wall time (imports excluded) over Typst's own time for
the documents it made, compiled in another fresh process: every student's two (the same
part files) and keys.pdf's contents, the first compile included, as the batch pays it
too. This machine's speed drifts by 10% from one minute to the next, so each bare compile
is set between two batches (batch, bare, batch, bare, ..., batch) and compared with their
mean: a drift that is steady over the minute cancels out. The median of --rounds such
ratios counts. The same ratio of CPU time (every thread of the process) is printed
beside it when the students are made in the batch's own process (up to 50 students):
it shows whether a round's swing was the machine's or ours. (Past 50 the pool's workers,
children of the forkserver, do the work, and their CPU time is not the batch's to read.)

The machine's speed also swings by 10-30% within a minute, which no alternation cancels,
so each --jobs 1 batch also gives a paired ratio: its wall time over the time of its own
Typst calls (each compile call timed where the batch makes it, in this process or, past
50 students, in the pool's workers: the same documents, compiled in the same seconds). Both ratios are printed, with Typst's time inside the
batches over the bare compile's: near 1.0, the two ratios measure the same thing, and
the paired one without the noise between runs."""
from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from allocator import allocator  # noqa: E402  (bench/, the script's folder)

NAMES = ["Ada Lovelace", "Hopper, Grace", "José Ángel Núñez", "O'Brien, Siobhán", "*bold* #strong[x]",
         '#read("/etc/passwd")', "$x^2$ @ref <lbl>", "back\\slash \\u{41}", "שלום עולם", "مرحبا بالعالم",
         "Zoë 😀🎉", "李小龙", "Mallory \u202eevil", ("Very Long Name " + "Xyzzy-" * 50)[:300]]


def write_roster(path: Path, n: int) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "name"])
    for i in range(n):
        w.writerow([f"s{i:05d}" if i % 7 else f"user {i}/{i}", f"{NAMES[i % len(NAMES)]} {i}"])
    path.write_text(buf.getvalue(), encoding="utf-8")


def _peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class PeakSampler(threading.Thread):
    """Peak resident memory of every process in this session (this one, the forkserver
    and the pool workers), polled from /proc."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        sid = os.getsid(0)
        while not self.stop.wait(0.2):
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    pid = int(entry)
                    try:
                        if os.getsid(pid) != sid:
                            continue
                    except OSError:
                        continue
                    self.peaks[pid] = max(self.peaks.get(pid, 0), _peak_kib(pid))


# A file every process of the batch appends its Typst calls' seconds to, one line each:
# the main process's (students made in process, keys.pdf's contents) and, when the
# students are made in pool workers, theirs (this module is then preloaded in the
# forkserver, see child()).
TYPST_LOG = "MAKE_PSET_BENCH_TYPST_LOG"


class TimedCompiler:
    """A typst.Compiler whose compile calls log their wall time (TYPST_LOG)."""

    def __init__(self, compiler) -> None:
        self.compiler = compiler

    def compile(self, *args, **kwargs):
        t = time.perf_counter()
        try:
            return self.compiler.compile(*args, **kwargs)
        finally:
            seconds = time.perf_counter() - t
            with open(os.environ[TYPST_LOG], "a", encoding="utf-8") as log:
                log.write(f"{seconds}\n")


def time_typst_calls() -> None:
    """Every compiler the batch makes in this process becomes a TimedCompiler."""
    from generator import keys_pdf, render
    make = render.new_compiler
    render.new_compiler = keys_pdf.new_compiler = lambda *a, **k: TimedCompiler(make(*a, **k))


def typst_seconds(students: int) -> float:
    log = Path(os.environ[TYPST_LOG])
    calls = [float(line) for line in log.read_text(encoding="utf-8").split()] if log.exists() else []
    if len(calls) < 2 * students:
        if not sys.platform.startswith("linux"):
            return 0.0  # a spawned pool's workers (no forkserver to preload this in): not known
        sys.exit(f"only {len(calls)} Typst calls timed for {students} students: a process did not log its own")
    return sum(calls)


if __name__ != "__main__" and os.environ.get(TYPST_LOG):  # preloaded in the batch's forkserver
    time_typst_calls()


def child(roster: str, secret: str, out: str, jobs: int) -> None:
    """Run one batch here and print its figures as JSON (the parent reads the last line)."""
    import multiprocessing.context

    from generator.batch import BatchRequest, run_batch
    from generator.config import DEFAULT_CONFIG
    os.environ[TYPST_LOG] = f"{out}.typst-seconds"
    time_typst_calls()
    if hasattr(multiprocessing.context, "ForkServerContext"):  # the pool's workers log theirs too
        preload = multiprocessing.context.ForkServerContext.set_forkserver_preload
        multiprocessing.context.ForkServerContext.set_forkserver_preload = \
            lambda self, names: preload(self, [*names, Path(__file__).stem])
    os.setsid()  # a session of our own, so the sampler sees exactly this batch's processes
    sampler = PeakSampler()
    sampler.start()
    marks: list[float] = []
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = run_batch(BatchRequest(Path(roster), Path(secret), Path(out), DEFAULT_CONFIG, jobs=jobs),
                       lambda done, total: marks.append(time.perf_counter()))
    end, cpu = time.perf_counter(), time.process_time() - cpu0
    sampler.stop.set()
    sampler.join()
    main_kib = _peak_kib(os.getpid())
    others = [v for pid, v in sampler.peaks.items() if pid != os.getpid()]
    print(json.dumps({"made": result.made, "wall": end - t0, "cpu": cpu, "setup": marks[0] - t0,
                      "students": marks[-1] - marks[0], "aggregates": end - marks[-1],
                      "typst": typst_seconds(result.made), "main_rss_mib": main_kib / 1024, "worker_rss_mib": max(others, default=0) / 1024}))


def run_child(tmp: Path, n: int, jobs: int, tag: str = "") -> dict:
    roster, out = tmp / f"roster-{n}.csv", tmp / f"out-{n}-j{jobs}{tag}"
    write_roster(roster, n)
    proc = subprocess.run([sys.executable, __file__, "--child", str(roster), str(tmp / "course.key"), str(out),
                           str(jobs)], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"batch of {n} failed:\n{proc.stderr}")
    fig = json.loads(proc.stdout.strip().splitlines()[-1])
    fig.update(n=n, jobs=jobs, out=out, roster=roster)
    return fig


def show(fig: dict) -> None:
    n = fig["n"]
    print(f"N={n:5d} jobs={fig['jobs']}: {fig['wall']:7.1f} s wall, {n / fig['wall']:6.2f} students/s "
          f"(setup {fig['setup']:.1f} s, students {fig['students']:.1f} s, aggregates {fig['aggregates']:.1f} s); "
          f"peak RSS main {fig['main_rss_mib']:.0f} MiB, "
          + (f"largest worker {fig['worker_rss_mib']:.0f} MiB" if fig["worker_rss_mib"] else "no worker (made in process)"))


def run_bare(fig: dict) -> tuple[float, float, float]:
    """bare_compile in a fresh process (one that has not run Typst, like the batch's)."""
    proc = subprocess.run([sys.executable, __file__, "--bare", str(fig["out"])], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"bare compile failed:\n{proc.stderr}")
    return tuple(json.loads(proc.stdout.strip().splitlines()[-1]))


def bare_compile(out: Path) -> tuple[float, float, float]:
    """Typst's own time for the documents the batch made, in this process (which has not
    run Typst before): every student's two sources, the very part files the batch hands
    Typst (chunks.py), then keys.pdf's contents, as keys_pdf sets them. Returns (seconds
    for all of it, the first compile included; seconds per student once warm, the
    students' documents alone, as this bench reported before; CPU seconds for all of it)."""
    import typst
    from generator import chunks, fonts
    from generator.keys_pdf import Contents, key_page_counts
    from generator.pset import build_pset
    from generator.render import FIXED_TIMESTAMP, _compiler, document_source
    rows = list(csv.DictReader(open(out / "manifest.csv", encoding="utf-8", newline="")))
    files = []
    for row in rows:
        seed = json.loads((out / row["answers_json"]).read_text(encoding="utf-8"))["seed"]
        ps = build_pset(seed)
        files += [chunks.files(document_source(ps, key=k, student_name=row["name"])) for k in (False, True)]
    cpu0 = time.process_time()
    compiler = _compiler()
    times = []
    for f in files:
        t = time.perf_counter()
        compiler.compile(input=f, format="pdf", timestamp=FIXED_TIMESTAMP, pdf_tags=False)
        times.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as root:
        t = time.perf_counter()
        Contents(typst.Compiler(root=root, ignore_system_fonts=True, font_paths=fonts.font_paths()), rows,
                 key_page_counts(rows))
        keys = time.perf_counter() - t
    warm = sum(times[2:]) / max(len(rows) - 1, 1)
    return sum(times) + keys, warm, time.process_time() - cpu0


def profile(tmp: Path, n: int) -> None:
    """cProfile of _make_student (what a worker does per student), run in this process."""
    from generator.batch import _Task, _make_student
    from generator.config import DEFAULT_CONFIG
    from generator.secret import read_secret, student_seed
    secret = read_secret(tmp / "course.key")
    (tmp / "prof" / "students").mkdir(parents=True)
    tasks = [_Task(f"s{i}", NAMES[i % len(NAMES)], f"s{i}", student_seed(secret, f"s{i}"), 0, str(tmp / "prof"),
                   DEFAULT_CONFIG) for i in range(n)]
    _make_student(tasks[0])                             # warm up: imports, fonts, template cache
    prof = cProfile.Profile()
    prof.enable()
    for task in tasks[1:]:
        _make_student(task)
    prof.disable()
    print(f"\ncProfile of _make_student over {n - 1} students (cumulative):")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(18)


def serial_rounds(tmp: Path, n: int, rounds: int) -> None:
    """--jobs 1 batches with a bare compile between each two; each bare compile is
    compared with the mean of the batches on either side of it. Each batch also gives a
    paired ratio: its wall time over its own Typst calls' (TimedCompiler), the same
    documents compiled in the same minute."""
    batches = [run_child(tmp, n, 1, "-r0")]
    show(batches[-1])
    ratios, cpu_ratios, typst_vs_bare = [], [], []
    for r in range(rounds):
        bare, warm, bare_cpu = run_bare(batches[-1])
        batches.append(run_child(tmp, n, 1, f"-r{r + 1}"))
        show(batches[-1])
        before, after = batches[-2:]
        wall = (before["wall"] + after["wall"]) / 2
        students = (before["students"] + after["students"]) / 2 / max(n - 1, 1)
        ratios.append(wall / bare)
        if not (before["worker_rss_mib"] or after["worker_rss_mib"]):  # made in process: its CPU is all there
            cpu_ratios.append((before["cpu"] + after["cpu"]) / 2 / bare_cpu)
        inside = (before["typst"] + after["typst"]) / 2
        if inside:
            typst_vs_bare.append(inside / bare)
        print(f"  round {r + 1}: the whole batch {before['wall']:.2f} and {after['wall']:.2f} s (mean {wall:.2f}) "
              f"around {bare:.2f} s bare typst.compile of the same documents (every student's two, then "
              f"keys.pdf's contents; first compile included): ratio {ratios[-1]:.2f}"
              + (f" (CPU time {cpu_ratios[-1]:.2f})" if len(cpu_ratios) == len(ratios) else ""))
        print(f"  per student: {wall / n * 1000:.0f} ms for the whole batch, {students * 1000:.0f} ms in the "
              f"students phase, {warm * 1000:.0f} ms bare once warm (students phase alone {students / warm:.2f})"
              + (f"; Typst's calls inside the batches {inside / n * 1000:.0f} ms ({inside / bare:.2f} of bare)"
                 if inside else ""))
    print(f"--jobs 1 ratio over {len(ratios)} rounds: median {statistics.median(ratios):.2f} "
          f"({', '.join(f'{x:.2f}' for x in ratios)}; target <= 1.3)"
          + (f"; CPU time: median {statistics.median(cpu_ratios):.2f} ({', '.join(f'{x:.2f}' for x in cpu_ratios)})"
             if cpu_ratios and len(cpu_ratios) == len(ratios) else ""))
    paired = [f["wall"] / f["typst"] for f in batches if f["typst"]]
    if paired:
        print(f"--jobs 1 paired ratio (each batch's wall time over its own Typst calls) over {len(paired)} batches: "
              f"median {statistics.median(paired):.2f}, highest {max(paired):.2f} "
              f"({', '.join(f'{x:.2f}' for x in paired)}; target <= 1.3); Typst inside the batches / bare: "
              f"median {statistics.median(typst_vs_bare):.2f} ({', '.join(f'{x:.2f}' for x in typst_vs_bare)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100, 1000], help="roster sizes for the both-cores runs")
    ap.add_argument("--jobs", type=int, default=2, help="workers for the --sizes runs [2]")
    ap.add_argument("--serial", type=int, default=50, help="roster size for the --jobs 1 ratio (0: skip)")
    ap.add_argument("--rounds", type=lambda v: max(int(v), 1), default=5,
                    help="bare compiles, each between two --jobs 1 batches (the machine's speed drifts) [5]")
    ap.add_argument("--profile", type=int, default=0, help="also profile this many students in one process")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--bare", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare:
        return print(json.dumps(bare_compile(Path(args.bare))))
    if args.child:
        roster, secret, out, jobs = args.child
        return child(roster, secret, out, int(jobs))

    from generator.secret import new_secret
    print(f"allocator: {allocator()}")
    with tempfile.TemporaryDirectory(prefix="make-pset-bench-batch-") as d:
        tmp = Path(d)
        new_secret(tmp / "course.key")
        figs = []
        for n in args.sizes:
            figs.append(run_child(tmp, n, args.jobs))
            show(figs[-1])
        if len(figs) >= 2:
            small, big = figs[0], figs[-1]
            print(f"memory ratio N={big['n']} / N={small['n']}: main {big['main_rss_mib'] / small['main_rss_mib']:.2f}, "
                  f"worker {big['worker_rss_mib'] / max(small['worker_rss_mib'], 1e-9):.2f}  (target <= 1.20)")
        for f in figs:
            if f["n"] == 1000:
                print(f"1,000 students in {f['wall']:.1f} s with {f['jobs']} workers: "
                      f"{'met' if f['wall'] < 90 else 'NOT met'} (target < 90 s)")
        if args.serial:
            serial_rounds(tmp, args.serial, args.rounds)
        if args.profile:
            profile(tmp, args.profile)


if __name__ == "__main__":
    main()

"""keys.pdf speed and memory: N students' keys (copies of real key PDFs) into keys.pdf.

    PYTHONPATH=. python bench/bench_keys_pdf.py                 # N = 100 and 1000
    PYTHONPATH=. python bench/bench_keys_pdf.py --old           # also the previous Typst-embedding version

Target (the roster issue): peak memory for 1,000 students within 20% of that for 100.
Each run is a fresh child process; memory is its peak RSS (VmHWM), and RSS before the
run (imports done) shows what the run itself adds."""
from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if not (ROOT / "generator").is_dir():   # run from a copy outside the checkout
    ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))
SEEDS = (42, 7, 11, 12)


def status_mib(field: str) -> float | None:
    """VmRSS / VmHWM of this process (Linux). VmHWM starts afresh at exec, unlike
    ru_maxrss, which a child inherits from the parent that forked it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mib() -> float:
    hwm = status_mib("VmHWM")
    kib = 1 if sys.platform.startswith("linux") else 1 / 1024   # ru_maxrss: KiB on Linux, bytes on macOS
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kib / 1024


def child(folder: str, n: int, mode: str) -> None:
    from pypdf import PdfReader  # noqa: F401  (imported before the baseline, like the real CLI's modules)
    import generator.batch  # noqa: F401
    if mode == "old":   # HEAD's keys_pdf.py, loaded from a file outside the package
        spec = importlib.util.spec_from_file_location("generator._old_keys_pdf", Path(folder) / "old_keys_pdf.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        write = module.write_keys_pdf
    else:
        from generator.keys_pdf import write_keys_pdf as write
    rows = json.loads((Path(folder) / "rows.json").read_text())[:n]
    out = Path(folder)
    before = status_mib("VmRSS") or float("nan")
    t = time.perf_counter()
    write(out, rows)
    wall = time.perf_counter() - t
    print(json.dumps({"n": n, "mode": mode, "wall": wall, "rss_before_mib": before,
                      "peak_mib": peak_mib(),
                      "size_mib": (out / "keys.pdf").stat().st_size / 2**20}))


def prepare(folder: Path, n: int) -> None:
    from generator.pset import build_pset
    from generator.render import render_pset
    (folder / "students").mkdir(parents=True, exist_ok=True)
    keys = []
    for seed in SEEDS:
        ps = build_pset(seed)
        keys.append((ps.variant, render_pset(ps, student_name=f"Student {seed}").key_pdf))
    rows = []
    for i in range(n):
        variant, pdf = keys[i % len(keys)]
        path = folder / "students" / f"s{i:05d}-key.pdf"
        path.write_bytes(pdf)
        rows.append({"student_id": f"s{i:05d}", "name": f"Student Number {i} Ünïcødé שלום", "variant": variant,
                     "key_pdf": f"students/{path.name}", "key_pages": str(pdf.count(b"/Type/Page/"))})
    (folder / "rows.json").write_text(json.dumps(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100, 1000])
    ap.add_argument("--old", action="store_true", help="also run the previous version (git HEAD)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]), args.child[2])
    with tempfile.TemporaryDirectory(prefix="make-pset-bench-keys-") as d:
        folder = Path(d)
        prepare(folder, max(args.sizes))
        modes = ["new"]
        if args.old:
            old = subprocess.run(["git", "show", "HEAD:generator/keys_pdf.py"], cwd=ROOT, capture_output=True,
                                 text=True, check=True).stdout
            (folder / "old_keys_pdf.py").write_text(old)
            modes.append("old")
        figs = {}
        for mode in modes:
            for n in args.sizes:
                proc = subprocess.run([sys.executable, __file__, "--child", d, str(n), mode], capture_output=True,
                                      text=True)
                if proc.returncode:
                    sys.exit(f"{mode} N={n} failed:\n{proc.stderr}")
                f = figs[mode, n] = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"{mode:3s} N={n:5d}: {f['wall']:6.2f} s ({f['wall'] / n * 100:.2f} s per 100 keys), "
                      f"peak RSS {f['peak_mib']:6.0f} MiB ({f['rss_before_mib']:.0f} MiB before), "
                      f"keys.pdf {f['size_mib']:.0f} MiB")
            small, big = figs[mode, min(args.sizes)], figs[mode, max(args.sizes)]
            print(f"{mode}: peak memory N={big['n']} / N={small['n']}: {big['peak_mib'] / small['peak_mib']:.2f} "
                  "(target <= 1.20)")


if __name__ == "__main__":
    main()

"""make-pset: a thin click layer over the library. Errors become one line, exit 2."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import click

from . import __version__
from .batch import BatchRequest, run_batch
from .config import DEFAULT_CONFIG, load_config
from .errors import PsetError
from .outputs import check_folder, pset_files, write_files
from .pset import build_original, build_pset
from .secret import new_secret, permission_warning
from .worker_signals import TERMINATING


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--seed", "seed", metavar="N", help="Seed in [0, 2^63): fixes every number of the set.")
@click.option("--original", is_flag=True, help="The original problem set's own numbers.")
@click.option("--out", "out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the output files (created if missing).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Course configuration (TOML): course name, points, questions, options.")
@click.option("--emit", "emit", type=click.Choice(["typ"]), multiple=True,
              help="Also write the Typst source of both documents (self-contained).")
@click.option("--roster", "roster", type=click.Path(dir_okay=False),
              help="Class roster CSV (Canvas, Gradescope, or id,name): one set per student.")
@click.option("--secret-file", "secret_file", type=click.Path(dir_okay=False),
              help="Course secret that derives each student's seed (see --new-secret).")
@click.option("--new-secret", "new_secret_file", type=click.Path(dir_okay=False),
              help="Write a fresh random course secret to this file (mode 600) and stop.")
@click.option("--jobs", type=click.IntRange(1, 512),
              help="Worker processes for --roster [default: all cores]. None where they cannot help (1 job "
                   "and at most 50 students, or one student to make): then this process makes them.")
@click.option("--only", multiple=True, metavar="ID", help="With --roster: regenerate just this student (repeatable).")
@click.option("--force", is_flag=True, help="With --roster: overwrite outputs made with another secret or roster.")
@click.option("--id-column", help="With --roster: the column that holds student ids.")
@click.option("--name-column", help="With --roster: the column that holds names.")
@click.version_option(__version__, prog_name="make-pset")
def main_command(seed, original, out, config_path, emit, roster, secret_file, new_secret_file, jobs, only,
                 force, id_column, name_column):
    """Generate a randomized problem set, its answer key and answers.json.

    \b
    make-pset --seed 42 --out out      out/pset-42.pdf, pset-42-key.pdf, pset-42-answers.json
    make-pset --original --out out     the original's own numbers (pset-original*)
    make-pset --new-secret course.secret
    make-pset --roster class.csv --secret-file course.secret --out batch
    """
    if new_secret_file is not None:
        if not new_secret_file.strip():
            raise PsetError("--new-secret is empty; give the file to write the secret to")
        others = {"--seed": seed is not None, "--original": original, "--roster": roster, "--out": out != ".",
                  "--config": config_path, "--emit": emit, "--secret-file": secret_file, "--jobs": jobs,
                  "--only": only, "--force": force, "--id-column": id_column, "--name-column": name_column}
        if any(others.values()):
            raise PsetError(f"--new-secret writes a secret and does nothing else; drop "
                            f"{next(k for k, v in others.items() if v)} (or run it as a second command)")
        new_secret(new_secret_file)
        click.echo(f"wrote a new course secret to {new_secret_file}; keep it private and back it up")
        return
    if not out.strip():
        raise PsetError("--out is empty; give a folder (--out . for this one)")
    if sum(x for x in (seed is not None, original, roster is not None)) != 1:
        raise PsetError("give exactly one of --seed N, --original or --roster FILE")
    batch_only = {"--secret-file": secret_file, "--jobs": jobs, "--only": only, "--force": force,
                  "--id-column": id_column, "--name-column": name_column}
    if roster is None and any(batch_only.values()):
        raise PsetError(f"{next(k for k, v in batch_only.items() if v)} needs --roster")
    if roster is not None and emit:
        raise PsetError("--emit typ writes one set's Typst sources, with --seed N or --original; "
                        "a roster batch writes PDFs and answers only")
    config = load_config(config_path) if config_path else DEFAULT_CONFIG
    check_folder(Path(out))
    if roster is not None:
        _run_roster(roster, secret_file, out, config, jobs, only, force, id_column, name_column)
        return
    ps = build_original(config) if original else build_pset(seed, config)
    bundle = pset_files(ps, emit_typ="typ" in emit)
    for path in write_files(Path(out), bundle):
        click.echo(str(path))


def _run_roster(roster, secret_file, out, config, jobs, only, force, id_column, name_column) -> None:
    if not secret_file:
        raise PsetError("--roster needs --secret-file FILE; make one with `make-pset --new-secret FILE` "
                        "and keep it private")
    req = BatchRequest(Path(roster), Path(secret_file), Path(out), config, jobs, tuple(i.strip() for i in only), force,
                       id_column, name_column)
    # Said after the batch, so that a refused batch stays one line on stderr.
    warning = permission_warning(secret_file) if Path(secret_file).exists() else None
    bar = None
    if sys.stderr.isatty():
        def progress(done, total):
            nonlocal bar
            if bar is None:
                bar = click.progressbar(length=total, label="students", file=sys.stderr)
                bar.__enter__()
            bar.update(1)
    else:
        progress = None
    try:
        result = run_batch(req, progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for line, why in result.roster.skipped:
        click.echo(f"make-pset: skipped {roster} line {line}: {why}", err=True)
    if result.roster.id_fallback:
        click.echo(f"make-pset: note: {roster}: {result.roster.id_fallback}", err=True)
    n = len(result.roster.students)
    click.echo(f"{result.out}: {n} student{'s' * (n != 1)} ({result.made} made, "
               f"{result.reused} already up to date, {result.collisions} seeds re-derived)")
    if warning:
        click.echo(f"make-pset: warning: {warning}", err=True)


class Terminated(BaseException):
    """SIGTERM or SIGHUP (a `kill`, a closed terminal, a job scheduler's time limit),
    raised like Ctrl-C's KeyboardInterrupt so that a batch's pool ends its workers; by
    default this process would die at once and each worker print a broken-pipe traceback."""


# How long after a SIGTERM or SIGHUP another is ignored: the clean-up the first starts
# (workers reaped, temporary files removed) takes well under it (each of its waits gives
# up after reaping.WORKER_GRACE); past it, another ends the process at once.
PATIENCE_SECONDS = 10.0


def _raise_terminated(signum, frame) -> None:
    started = time.monotonic()

    def again(signum, frame) -> None:
        # A Python handler, not SIG_IGN, even while ignoring it: set from a handler,
        # SIG_IGN turns a signal already on its way into a "race condition" traceback.
        if time.monotonic() - started > PATIENCE_SECONDS:
            os._exit(128 + signum)
    for sig in TERMINATING:
        signal.signal(sig, again)
    raise Terminated(signum)


def run(command, argv, prog: str) -> None:
    """Run a click command with our error contract: one line on stderr, exit code 2."""
    installed = []
    if threading.current_thread() is threading.main_thread():
        for sig in TERMINATING:
            if signal.getsignal(sig) == signal.SIG_DFL:   # not one ignored (nohup) or set by an embedder
                signal.signal(sig, _raise_terminated)
                installed.append(sig)
    try:
        _run(command, argv, prog)
    finally:
        # A caller that goes on (a test, a notebook) gets its default back. The command
        # line's own run is about to exit, every file written or removed: one now would
        # only turn its exit code into a death by the signal. Ignored by the kernel, not
        # by a Python handler, which Python's own exit resets to the default.
        for sig in installed:
            signal.signal(sig, signal.SIG_DFL if argv is not None else signal.SIG_IGN)


def _run(command, argv, prog: str) -> None:
    try:
        command.main(args=argv, prog_name=prog, standalone_mode=False)
    except Terminated as e:
        click.echo(f"{prog}: terminated ({signal.Signals(e.args[0]).name})", err=True)
        sys.exit(128 + e.args[0])
    except PsetError as e:
        click.echo(f"{prog}: error: {e}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo(f"{prog}: aborted", err=True)
        if argv is None and threading.current_thread() is threading.main_thread():
            # The command line's own run, about to exit: a second Ctrl-C while the pool's
            # processes are reaped would only add a KeyboardInterrupt traceback.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.exit(1)
    except click.ClickException as e:
        click.echo(f"{prog}: error: {e.format_message()}", err=True)
        sys.exit(2)
    except OSError as e:
        click.echo(f"{prog}: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), err=True)
        sys.exit(1)


def main(argv=None) -> None:
    run(main_command, argv, "make-pset")

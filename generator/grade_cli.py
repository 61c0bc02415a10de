"""grade-pset: a thin click layer over generator.grading. Errors become one line, exit 2."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import PsetError
from .grading import GradingConfig, grade_batch


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--key", "key", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="A roster batch's output folder (answers.jsonl, manifest.csv).")
@click.option("--submissions", "submissions", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="CSV in the answer-sheet format: student_id and cell columns.")
@click.option("--out", "out", default="grades.csv", show_default=True, type=click.Path(dir_okay=False),
              help="grades.csv path; feedback/, grading-report.txt and canvas-import.csv go next to it.")
@click.version_option(__version__, prog_name="grade-pset")
def main_command(key, submissions, out):
    """Grade answer sheets against a roster batch's keys."""
    summary = grade_batch(Path(key), Path(submissions), GradingConfig(), Path(out))
    click.echo(summary.line())
    for path in summary.files:
        click.echo(str(path))


def main(argv=None) -> None:
    try:
        main_command.main(args=argv, prog_name="grade-pset", standalone_mode=False)
    except PsetError as e:
        click.echo(f"grade-pset: error: {e}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("grade-pset: aborted", err=True)
        sys.exit(1)
    except click.ClickException as e:
        click.echo(f"grade-pset: error: {e.format_message()}", err=True)
        sys.exit(2)
    except OSError as e:
        click.echo(f"grade-pset: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), err=True)
        sys.exit(1)

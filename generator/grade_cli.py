"""grade-pset: a thin click layer over generator.grading. Errors become one line, exit 2."""
from __future__ import annotations

from pathlib import Path

import click

from . import __version__
from .cli import run
from .config import load_config
from .errors import PsetError
from .grading import GradingConfig, grade_batch


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--key", "key", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="A roster batch's output folder (answers.jsonl, manifest.csv).")
@click.option("--submissions", "submissions", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="CSV in the answer-sheet format: student_id and cell columns.")
@click.option("--out", "out", default="grades.csv", show_default=True, type=click.Path(dir_okay=False),
              help="grades.csv path; feedback/, grading-report.txt and canvas-import.csv go next to it.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Course configuration (TOML); its [grading] table sets tolerance, follow-through, points.")
@click.version_option(__version__, prog_name="grade-pset")
def main_command(key, submissions, out, config_path):
    """Grade answer sheets against a roster batch's keys."""
    if not out.strip():   # Path("") would be the current folder
        raise PsetError("--out is empty; give the grades file's path (--out grades.csv)")
    cfg = load_config(config_path).grading_config() if config_path else GradingConfig()
    summary = grade_batch(Path(key), Path(submissions), cfg, Path(out))
    click.echo(summary.line())
    for path in summary.files:
        click.echo(str(path))


def main(argv=None) -> None:
    run(main_command, argv, "grade-pset")

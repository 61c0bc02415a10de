"""make-pset: a thin click layer over the library. Errors become one line, exit 2."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import PsetError
from .export import answers_document, dumps, write_atomic
from .pset import build_original, build_pset


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--seed", "seed", metavar="N", help="Seed in [0, 2^63): fixes every number of the set.")
@click.option("--original", is_flag=True, help="The original problem set's own numbers.")
@click.option("--out", "out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the output files (created if missing).")
@click.version_option(__version__, prog_name="make-pset")
def main_command(seed, original, out):
    """Generate a randomized problem set with its answer key."""
    if (seed is None) == (not original):
        raise PsetError("give exactly one of --seed N or --original")
    ps = build_original() if original else build_pset(seed)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{ps.stem}-answers.json"
    write_atomic(path, dumps(answers_document(ps)))
    click.echo(str(path))


def main(argv=None) -> None:
    try:
        main_command.main(args=argv, prog_name="make-pset", standalone_mode=False)
    except PsetError as e:
        click.echo(f"make-pset: error: {e}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("make-pset: aborted", err=True)
        sys.exit(1)
    except click.ClickException as e:
        click.echo(f"make-pset: error: {e.format_message()}", err=True)
        sys.exit(2)
    except OSError as e:
        click.echo(f"make-pset: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), err=True)
        sys.exit(1)

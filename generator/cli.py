"""make-pset: a thin click layer over the library. Errors become one line, exit 2."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .config import DEFAULT_CONFIG, load_config
from .errors import PsetError
from .outputs import pset_files, write_files
from .pset import build_original, build_pset


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--seed", "seed", metavar="N", help="Seed in [0, 2^63): fixes every number of the set.")
@click.option("--original", is_flag=True, help="The original problem set's own numbers.")
@click.option("--out", "out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the output files (created if missing).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Course configuration (TOML): course name, points, questions, options.")
@click.option("--emit", "emit", type=click.Choice(["typ"]), multiple=True,
              help="Also write the Typst source of both documents (self-contained).")
@click.version_option(__version__, prog_name="make-pset")
def main_command(seed, original, out, config_path, emit):
    """Generate a randomized problem set, its answer key and answers.json.

    \b
    make-pset --seed 42 --out out      out/pset-42.pdf, pset-42-key.pdf, pset-42-answers.json
    make-pset --original --out out     the original's own numbers (pset-original*)
    """
    if (seed is None) == (not original):
        raise PsetError("give exactly one of --seed N or --original")
    config = load_config(config_path) if config_path else DEFAULT_CONFIG
    ps = build_original(config) if original else build_pset(seed, config)
    bundle = pset_files(ps, emit_typ="typ" in emit)
    for path in write_files(Path(out), bundle):
        click.echo(str(path))


def run(command, argv, prog: str) -> None:
    """Run a click command with our error contract: one line on stderr, exit code 2."""
    try:
        command.main(args=argv, prog_name=prog, standalone_mode=False)
    except PsetError as e:
        click.echo(f"{prog}: error: {e}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo(f"{prog}: aborted", err=True)
        sys.exit(1)
    except click.ClickException as e:
        click.echo(f"{prog}: error: {e.format_message()}", err=True)
        sys.exit(2)
    except OSError as e:
        click.echo(f"{prog}: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), err=True)
        sys.exit(1)


def main(argv=None) -> None:
    run(main_command, argv, "make-pset")

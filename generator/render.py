"""Problem set -> Typst source (jinja2, StrictUndefined) -> PDF (typst, in process).

The question PDF and the key render from the same template and the same Problem
objects, with ``key`` switching the solutions on."""
from __future__ import annotations

import contextlib
import datetime
import functools
import os
import tempfile
from dataclasses import dataclass

import jinja2
import typst

from . import chunks, figures, fonts, mathfmt, numfmt, typst_text, worked
from .errors import PsetError
from .pset import ProblemSet, build_pset
from .resources import templates_dir
from .worker_signals import hold_answered, release

# Only the fonts embedded in the Typst compiler: the same glyphs, hence the same
# bytes, on every machine. A fixed timestamp keeps the PDF metadata stable too.
FIXED_TIMESTAMP = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass
class Rendered:
    question_typ: str
    key_typ: str
    question_pdf: bytes
    key_pdf: bytes


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             undefined=jinja2.StrictUndefined, autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             auto_reload=False)  # no stat() of every template on every render
    env.filters["t"] = typst_text.text
    env.filters["exact"] = numfmt.exact
    env.filters["str_literal"] = typst_text.string_literal
    env.globals.update(fig=figures, m=mathfmt, w=worked, numfmt=numfmt, text_fonts=fonts.typst_font_list())
    return env


def warm_up() -> None:
    """The pure-Python first-use costs, paid ahead: every template compiled, the banks
    read, one problem set built and both its sources rendered (about 80 ms). No Typst:
    the batch's forkserver calls this (worker_preload.py), and a process that has run
    Typst must not fork. Every cache it fills is keyed by content, so no output changes."""
    env = environment()
    for name in env.list_templates(filter_func=lambda n: n.endswith(".j2")):
        env.get_template(name)
    ps = build_pset(0)  # banks, graph families, figure layout
    document_source(ps, key=False)
    document_source(ps, key=True)


def document_source(ps: ProblemSet, key: bool, student_name: str | None = None) -> str:
    template = environment().get_template("document.typ.j2")
    return template.render(ps=ps, cfg=ps.config, key=key, student_name=student_name)


@contextlib.contextmanager
def signals_for_python():
    """Typst starts its worker threads on its first compile, and a thread starts with the
    signal mask of the one that starts it. Started with SIGINT, SIGTERM and SIGHUP blocked,
    Typst's threads never take one meant for Python, whose handler runs only in the main
    thread: a batch worker waiting on the pool's queue then never woke to its SIGTERM, and
    the batch waited on it for ever. Held here meanwhile, such a signal arrives when the
    compile returns."""
    held = hold_answered()
    try:
        yield
    finally:
        release(held)


@functools.lru_cache(maxsize=1)
def _compiler() -> typst.Compiler:
    return new_compiler()


def new_compiler(prefix: str = "make-pset-root-") -> typst.Compiler:
    """A compiler whose root is an empty folder: #read() (a name in a roster, say) finds
    nothing of ours. Removed at once: the documents come from memory, so Typst never
    needs the folder, and no process leaves one behind (batch workers are ended, not
    exited, so a clean-up at exit would not run there; a Ctrl-C while the fonts load is
    the finally's)."""
    root = tempfile.mkdtemp(prefix=prefix)
    try:
        # No system fonts, only Typst's own and the shipped fallbacks: same glyphs everywhere.
        with signals_for_python():
            return typst.Compiler(root=root, ignore_system_fonts=True, font_paths=fonts.font_paths())
    finally:
        os.rmdir(root)


def compile_pdf(source: str, chunked: bool = True) -> bytes:
    """The PDF of one document. ``chunked`` typesets it from in-memory files, one per
    part (see chunks.py), so that Typst's caches carry the parts a document shares
    with the one before it; the bytes are the same either way."""
    try:
        files = chunks.files(source) if chunked else None
    except ValueError as e:  # a template's markers, not user input
        raise PsetError(f"typst source: {e}") from e
    try:
        # pdf_tags=False: the accessibility tag tree roughly doubles compile time.
        compiler = _compiler()
        with signals_for_python():
            return compiler.compile(input=files or source.encode("utf-8"), format="pdf",
                                    timestamp=FIXED_TIMESTAMP, pdf_tags=False)
    except typst.TypstError as e:  # a template bug, not user input: keep it to one line
        raise PsetError(f"typst could not compile the document: {e.message}") from e


def render_pset(ps: ProblemSet, student_name: str | None = None) -> Rendered:
    q_src = document_source(ps, key=False, student_name=student_name)
    k_src = document_source(ps, key=True, student_name=student_name)
    return Rendered(q_src, k_src, compile_pdf(q_src), compile_pdf(k_src))

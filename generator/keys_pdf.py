"""keys.pdf: every student's key in one instructor document, with contents pages.

The keys are already typeset (students/<stem>-key.pdf): pdfmerge appends their pages
unchanged, one file at a time. Typst sets only the contents, in chunks of a fixed number
of students each (one Typst document per chunk, each starting a new page): a single
table of the whole class would make Typst's memory grow with the class. Bookmarks: the
contents, then one per student. Memory stays flat however large the class, but for the
contents chunks themselves (kept from the pass that settles their page numbers)."""
from __future__ import annotations

import itertools
from pathlib import Path

import typst

from . import fonts, pdfmerge
from .errors import PsetError
from .render import FIXED_TIMESTAMP, new_compiler, signals_for_python
from .typst_text import isolated, text

TITLE = "Answer keys"
# Students per contents chunk: one page with room for a few wrapped long names, so a
# chunk rarely spills onto a second page (it may: the page numbers still come out right).
ROWS_PER_CHUNK = 25
_SETUP = """#set document(title: "Answer keys", date: none)
#set page(paper: "us-letter", margin: 1in,
  footer: context [#set text(8.5pt, fill: luma(90)); #h(1fr) #counter(page).display() #h(1fr)])
#set text(font: {fonts}, size: 10pt)
#set table.cell(breakable: false)
#counter(page).update({first_page})
"""
_TITLE = """#text(17pt, weight: "bold")[Answer keys] \\
#text(9pt)[One key per student, in roster order. Each key's own page numbers are in its footer.]
#v(0.6em)
"""
_TABLE = """#table(columns: (auto, 1fr, auto, auto, auto), stroke: 0.4pt + luma(150), inset: 4pt,
  table.header([*\\#*], [*Student*], [*ID*], [*Variant*], [*Page*]),
"""


def contents_source(rows: list[dict], key_starts: list[int], first_number: int = 1, first_page: int = 1) -> str:
    """One contents chunk: rows numbered from first_number, key_starts are their 1-based
    pages in keys.pdf, first_page is this chunk's own first page (the title comes on page 1)."""
    parts = [_SETUP.format(fonts=fonts.typst_font_list(), first_page=first_page),
             _TITLE if first_number == 1 else "", _TABLE]
    for i, (row, page) in enumerate(zip(rows, key_starts, strict=True), start=first_number):
        parts.append(f"  [{i}], [{text(row['name'])}], [{text(row['student_id'])}], [{text(row['variant'])}],"
                     f" [{page}],\n")
    parts.append(")\n")
    return "".join(parts)


def key_page_counts(rows: list[dict]) -> list[int]:
    counts = []
    for row in rows:
        try:
            pages = int(row.get("key_pages") or 0)
        except ValueError:
            pages = 0
        if pages < 1:
            raise PsetError(f"manifest: no page count for {row['student_id']!r}; rerun with --force")
        counts.append(pages)
    return counts


def first_pages(contents_pages: int, key_pages: list[int]) -> list[int]:
    """1-based page of keys.pdf where each key starts: after the contents and earlier keys."""
    starts, page = [], contents_pages + 1
    for n in key_pages:
        starts.append(page)
        page += n
    return starts


class Contents:
    """The contents chunks of one keys.pdf, set by one Typst compiler."""

    def __init__(self, compiler: typst.Compiler, rows: list[dict], key_pages: list[int]):
        self.compiler, self.rows = compiler, rows
        self.chunks = [range(i, min(i + ROWS_PER_CHUNK, len(rows))) for i in range(0, max(len(rows), 1),
                                                                                    ROWS_PER_CHUNK)]
        # The page numbers in the table depend on how many pages the contents take: guess
        # one page per chunk, typeset, and again with the count found until the two agree.
        # The chunks of the pass that agrees are the ones merged (12-35 kB each, up to about
        # 1.3 MB for 1,000 students): usually the first guess holds, so each is typeset once.
        self.pages = len(self.chunks)
        for _ in range(4):
            self.key_starts = first_pages(self.pages, key_pages)
            self.pdfs, self.chunk_pages = self._typeset()
            if sum(self.chunk_pages) == self.pages:
                return
            self.pages = sum(self.chunk_pages)
        raise PsetError("keys.pdf: the contents' page count does not settle")

    def _typeset(self) -> tuple[list[bytes], list[int]]:
        """Each chunk's PDF and page count, with the page numbers of the current guess."""
        pdfs, pages = [], []
        for chunk in self.chunks:
            source = contents_source([self.rows[i] for i in chunk], self.key_starts[chunk.start:chunk.stop],
                                     chunk.start + 1, 1 + sum(pages))
            try:
                with signals_for_python():
                    pdf = self.compiler.compile(input=source.encode("utf-8"), format="pdf",
                                                timestamp=FIXED_TIMESTAMP, pdf_tags=False)
            except typst.TypstError as e:
                raise PsetError(f"keys.pdf: typst could not set the contents: {e.message}") from e
            pdfs.append(pdf)
            pages.append(pdfmerge.count_pages(pdf, "keys.pdf contents"))
        return pdfs, pages


def bookmark(row: dict) -> str:
    # Isolated like on the page, so a right-to-left override in a name cannot flip the id.
    return f"{isolated(row['name'])} ({isolated(row['student_id'])})"


def key_path(out: Path, row: dict) -> Path:
    path = out / row["key_pdf"]
    if out.resolve() not in path.resolve().parents:
        raise PsetError(f"manifest: key_pdf {row['key_pdf']!r} of {row['student_id']!r} is outside {out}")
    return path


def write_keys_pdf(out: Path, rows: list[dict]) -> None:
    key_pages = key_page_counts(rows)
    paths = [key_path(out, row) for row in rows]
    contents = Contents(new_compiler("make-pset-keys-"), rows, key_pages)
    outline = [("Contents", 0)] + [(bookmark(row), start - 1) for row, start in zip(rows, contents.key_starts)]
    pdfmerge.merge(out / "keys.pdf", itertools.chain(contents.pdfs, paths), outline, title=TITLE,
                   expected_pages=[*contents.chunk_pages, *key_pages])


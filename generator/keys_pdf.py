"""keys.pdf: every student's key in one instructor document, with a contents page.

The keys are already typeset (students/<stem>-key.pdf); Typst embeds their pages as
images, so this costs a fraction of typesetting them again."""
from __future__ import annotations

import datetime
from pathlib import Path

import typst

from . import fonts
from .errors import PsetError
from .export import write_atomic
from .typst_text import string_literal, text

_HEAD = """#set document(title: "Answer keys", date: none)
#set page(paper: "us-letter", margin: 1in,
  footer: context [#set text(8.5pt, fill: luma(90)); #h(1fr) #counter(page).display() #h(1fr)])
#set text(font: {fonts}, size: 10pt)
#text(17pt, weight: "bold")[Answer keys] \\
#text(9pt)[One key per student, in roster order. Each key's own page numbers are in its footer.]
#v(0.6em)
"""


def keys_source(rows: list[dict]) -> str:
    parts = [_HEAD.format(fonts=fonts.typst_font_list()), "#table(columns: (auto, 1fr, auto, auto, auto), stroke: 0.4pt + luma(150), inset: 4pt,\n"
                    "  table.header([*\\#*], [*Student*], [*ID*], [*Variant*], [*Page*]),\n"]
    for i, row in enumerate(rows, start=1):
        parts.append(f"  [{i}], [{text(row['name'])}], [{text(row['student_id'])}], [{text(row['variant'])}],"
                     f" [#context link(label(\"k{i}\"), str(counter(page).at(label(\"k{i}\")).first()))],\n")
    parts.append(")\n")
    for i, row in enumerate(rows, start=1):
        path = string_literal("/" + row["key_pdf"])
        pages = int(row.get("key_pages") or 0)
        if pages < 1:
            raise PsetError(f"manifest: no page count for {row['student_id']!r}; rerun with --force")
        for page in range(1, pages + 1):
            marker = ""
            if page == 1:
                marker = (f"#place(hide[#heading(outlined: true, bookmarked: true)[{text(row['name'])} "
                          f"({text(row['student_id'])})]])#metadata(none) <k{i}>")
            parts.append(f"#page(margin: 0pt, footer: none)[{marker}#image({path}, page: {page}, "
                         "width: 100%, height: 100%)]\n")
    return "".join(parts)


def write_keys_pdf(out: Path, rows: list[dict]) -> None:
    source = keys_source(rows)
    try:
        pdf = typst.Compiler(root=str(out), ignore_system_fonts=True, font_paths=fonts.font_paths()).compile(
            input=source.encode("utf-8"), format="pdf",
            timestamp=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc), pdf_tags=False)
    except typst.TypstError as e:
        raise PsetError(f"keys.pdf: typst could not combine the keys: {e.message}") from e
    write_atomic(out / "keys.pdf", pdf)

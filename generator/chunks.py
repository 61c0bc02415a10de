"""One rendered document as several in-memory Typst files, for speed.

Typst caches the layout of every paragraph, table and figure it typesets, keyed on the
content *and its source position*. A source position is numbered within its file, so in
one big file any difference between two students' documents renumbers everything after
it and nothing is reused. With each part of the document in a file of its own, named by
a hash of its text, a part that is the same as in the previous document (every statement
the key repeats from the question, the fixed prose between students) keeps its numbers
and comes from the cache.

The templates mark the parts with comment lines, so the rendered source is also a valid
standalone document (``--emit typ``), and both ways give byte-identical PDFs:

    preamble (set rules)                -> main.typ, then #include "/b.typ"
    // @macros  #let ...                -> m.typ, imported by every part
    // @body    part // @part part ...  -> p/<sha256>.typ each, included in order by b.typ
    // @tail    #set document(...)      -> end of main.typ
"""
from __future__ import annotations

import hashlib

MACROS, BODY, PART, TAIL = "// @macros\n", "// @body\n", "// @part\n", "// @tail\n"


def split(source: str) -> tuple[str, str, list[str], str] | None:
    """(preamble, macros, parts, tail), or None for a source without the markers."""
    try:
        preamble, rest = source.split(MACROS, 1)
        macros, rest = rest.split(BODY, 1)
        body, tail = rest.split(TAIL, 1)
    except ValueError:
        return None
    parts = [p.strip("\n") for p in body.split(PART)]
    return preamble, macros, [p for p in parts if p.strip()], tail


def files(source: str) -> dict[str, bytes] | None:
    """The files Typst compiles (main.typ first), or None when the source has no parts."""
    pieces = split(source)
    if pieces is None:
        return None
    preamble, macros, parts, tail = pieces
    out: dict[str, bytes] = {}
    includes = []
    for part in parts:
        text = '#import "/m.typ": *\n' + part + "\n"
        data = text.encode("utf-8")
        name = "p/" + hashlib.sha256(data).hexdigest()[:24] + ".typ"
        out[name] = data
        includes.append(f'#include "/{name}"')
    # The list of parts lives in b.typ, so that main.typ has the same shape for every
    # document and its set rules keep their source numbers. Blank lines between the
    # parts: the paragraph breaks the standalone source has there.
    body = "\n\n".join(includes) + "\n"
    main = preamble + '#include "/b.typ"\n\n' + tail
    return {"main.typ": main.encode("utf-8"), "m.typ": macros.encode("utf-8"),
            "b.typ": body.encode("utf-8"), **out}

"""One rendered document as several in-memory Typst files, for speed.

Typst caches the layout of every paragraph, table and figure it typesets, keyed on the
content *and its source position*. Source positions are numbered within a file, so in
one big file any difference between two students' documents renumbers the rest of it and
little is reused. With each part of the document in a file of its own, which keeps its
name while its text stays the same (PartNames), a part that is the same as in the
previous document (every statement the key repeats from the question, the fixed prose
between students) keeps its numbers and comes from the cache.

The templates mark the parts with comment lines, so the rendered source is also a valid
standalone document (``--emit typ``), and both ways give byte-identical PDFs:

    preamble (set rules)                -> main.typ, then #include "/b.typ"
    // @macros  #let ...                -> m.typ, imported by every part
    // @body    part // @part part ...  -> p/<n>.typ each, included in order by b.typ
    // @tail    #set document(...)      -> end of main.typ
"""
from __future__ import annotations

import hashlib
import re
from collections import OrderedDict


class PartNames:
    """File names for parts: the same text keeps its name from one document to the next
    (so Typst sees the same file and reuses its layout), and names are recycled, least
    recently used first, because the compiler keeps every file it has seen: one name per
    distinct part would grow a batch worker by megabytes a student."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self.names: OrderedDict[str, str] = OrderedDict()  # text digest -> name, oldest first

    def name(self, digest: str, in_use: set[str]) -> str:
        if digest in self.names:
            self.names.move_to_end(digest)
            return self.names[digest]
        # the oldest name no part of this document uses, once all names are given out
        old = next((d for d, n in self.names.items() if n not in in_use), None)
        if len(self.names) < self.capacity or old is None:
            name = f"p/{len(self.names)}.typ"
        else:
            name = self.names.pop(old)
        self.names[digest] = name
        return name


_NAMES = PartNames()


# A marker is a whole line. Found by its text, then kept only at a line's start: the
# regex engine skips ahead to a literal prefix, where a leading ^ would make it try
# every position (4x slower on a 40 kB document).
_MARKER = re.compile(r"// @(macros|body|part|tail)\n")


def _pieces(source: str) -> list[str]:
    """text, marker name, text, name, ..., text: re.split on the markers."""
    pieces, start = [], 0
    for m in _MARKER.finditer(source):
        at = m.start()
        if at and source[at - 1] != "\n":
            continue  # mid-line: text, not a marker
        pieces += [source[start:at], m.group(1)]
        start = m.end()
    pieces.append(source[start:])
    return pieces


def split(source: str) -> tuple[str, str, list[str], str] | None:
    """(preamble, macros, parts, tail), or None for a source without the markers. A
    marker is a whole line; macros, body and tail come once each, in that order."""
    pieces = _pieces(source)  # text, name, text, name, ...
    names = pieces[1::2]
    if not names:
        return None
    if [n for n in names if n != "part"] != ["macros", "body", "tail"] or \
            names.index("tail") < len(names) - 1 or "part" in names[:names.index("body")]:
        raise ValueError(f"document markers out of order: {names}")
    texts = pieces[0::2]
    preamble, macros, tail = texts[0], texts[1], texts[-1]
    parts = [p.strip("\n") for p in texts[2:-1]]
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
        data = ('#import "/m.typ": *\n' + part + "\n").encode("utf-8")
        name = _NAMES.name(hashlib.sha256(data).hexdigest(), set(out))
        out[name] = data
        includes.append(f'#include "/{name}"')
    # The list of parts lives in b.typ, so that main.typ has the same shape for every
    # document and its set rules keep their source numbers. Blank lines between the
    # parts: the paragraph breaks the standalone source has there.
    body = "\n\n".join(includes) + "\n"
    main = preamble + '#include "/b.typ"\n\n' + tail
    return {"main.typ": main.encode("utf-8"), "m.typ": macros.encode("utf-8"),
            "b.typ": body.encode("utf-8"), **out}

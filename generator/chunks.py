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

from collections import OrderedDict


class PartNames:
    """File names for parts: the same text keeps its name from one document to the next
    (so Typst sees the same file and reuses its layout), and names are recycled, least
    recently used first, because the compiler keeps every file it has seen: one name per
    distinct part would grow a batch worker by megabytes a student.

    A part is known by its bytes themselves, not a digest of them: a dict hashes bytes
    several times faster than sha256 (and compares them on a hit), and at most
    ``capacity`` parts are kept, some 0.4 MB (1.3 MB were every part the largest seen)."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self.names: OrderedDict[bytes, str] = OrderedDict()  # part file's bytes -> name, oldest first

    def name(self, part: bytes, in_use: set[str]) -> str:
        if part in self.names:
            self.names.move_to_end(part)
            return self.names[part]
        # once all names are given out, the oldest name no part of this document uses
        old = None
        if len(self.names) >= self.capacity:
            old = next((p for p, n in self.names.items() if n not in in_use), None)
        if old is None:
            name = f"p/{len(self.names)}.typ"
        else:
            name = self.names.pop(old)
        self.names[part] = name
        return name


_NAMES = PartNames()


MARKER_NAMES = ("macros", "body", "part", "tail")
_LEAD = {str: "// @", bytes: b"// @"}
_NEWLINE = {str: "\n", bytes: b"\n"}
_NAME_OF = {str: {n: n for n in MARKER_NAMES}, bytes: {n.encode(): n for n in MARKER_NAMES}}


def _pieces(source: str | bytes) -> list:
    """text, marker name, text, name, ..., text: re.split on the markers (a whole line
    "// @name"), for a str or its UTF-8 bytes (the markers are ASCII, so both split alike).
    Found with find(), which skips ahead much faster than a regex scan; names are str."""
    kind = str if isinstance(source, str) else bytes  # (a str subclass too)
    lead, newline, names = _LEAD[kind], _NEWLINE[kind], _NAME_OF[kind]
    pieces, start = [], 0
    at = source.find(lead)
    while at != -1:
        if at == 0 or source[at - 1:at] == newline:
            end = source.find(newline, at)
            name = names.get(source[at + 4:end]) if end != -1 else None
            if name:
                pieces += [source[start:at], name]
                start = end + 1
                at = source.find(lead, start)
                continue
        at = source.find(lead, at + 1)  # mid-line or another name: text, not a marker
    pieces.append(source[start:])
    return pieces


def split(source: str) -> tuple[str, str, list[str], str] | None:
    """(preamble, macros, parts, tail), or None for a source without the markers. A
    marker is a whole line; macros, body and tail come once each, in that order."""
    return _split(_pieces(source))


def _split(pieces: list) -> tuple | None:
    """split() of _pieces' output, for a str or bytes source."""
    names = pieces[1::2]
    if not names:
        return None
    if [n for n in names if n != "part"] != ["macros", "body", "tail"] or \
            names.index("tail") < len(names) - 1 or "part" in names[:names.index("body")]:
        raise ValueError(f"document markers out of order: {names}")
    texts = pieces[0::2]
    preamble, macros, tail = texts[0], texts[1], texts[-1]
    parts = [p.strip(_NEWLINE[type(p)]) for p in texts[2:-1]]
    return preamble, macros, [p for p in parts if not _blank(p)], tail


# str.isspace() of the ASCII characters bytes.strip() keeps: a byte past the whitespace
# that is none of these (nor non-ASCII) is a character str.strip() keeps too.
_STR_ONLY_SPACE = b"\x1c\x1d\x1e\x1f"


def _blank(part: str | bytes) -> bool:
    """Whether ``part`` is whitespace only, as str.strip() sees it (for bytes, decoded)."""
    if isinstance(part, str):
        return not part.strip()
    rest = part.lstrip()
    if not rest:
        return True
    if rest[0] < 0x80 and rest[0] not in _STR_ONLY_SPACE:
        return False
    return not part.decode("utf-8").strip()  # Unicode whitespace (rare): ask str


_IMPORT_MACROS = b'#import "/m.typ": *\n'


def files(source: str) -> dict[str, bytes] | None:
    """The files Typst compiles (main.typ first), or None when the source has no parts."""
    # Split the UTF-8 bytes, not the text: one encoding for the whole document, and
    # bytes.find() is fast on any text (str.find() is slow on non-Latin-1 strings).
    try:
        encoded = source.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: as before, no parts or a marker error come first
        if split(source) is None:
            return None
        raise
    pieces = _split(_pieces(encoded))
    if pieces is None:
        return None
    preamble, macros, parts, tail = pieces
    out: dict[str, bytes] = {}
    in_use: set[str] = set()  # the names given out for this document (out's keys)
    includes = []
    for part in parts:
        data = _IMPORT_MACROS + part + b"\n"
        name = _NAMES.name(data, in_use)
        out[name] = data
        in_use.add(name)
        includes.append(f'#include "/{name}"')
    # The list of parts lives in b.typ, so that main.typ has the same shape for every
    # document and its set rules keep their source numbers. Blank lines between the
    # parts: the paragraph breaks the standalone source has there.
    body = "\n\n".join(includes) + "\n"
    main = preamble + b'#include "/b.typ"\n\n' + tail
    return {"main.typ": main, "m.typ": macros, "b.typ": body.encode("utf-8"), **out}

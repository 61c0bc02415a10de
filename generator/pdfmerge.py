"""Concatenate PDFs written by Typst into one file, streaming: memory stays flat however
many parts there are.

Only the shape Typst writes is accepted (checked, else a one-line PsetError): a classic
``xref`` table, generation-0 objects, no object or cross-reference streams, no
encryption, no incremental updates, and a page tree without inherited attributes. Each
part is read whole (one at a time), its objects reachable from its pages are renumbered
by a running base and written straight to the output; its Catalog, Info, Outlines,
metadata and anything else unreachable from the pages are dropped. Stream data is copied
byte for byte; references ``N 0 R`` are rewritten only outside strings and comments.
What a reader could take for a reference the renumbering does not see is refused: a
comment between a number and a number or R, a signed reference (``+7 0 R``), a vertical
tab outside strings."""
from __future__ import annotations

import bisect
import functools
import hashlib
import re
from array import array
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Sequence

from .errors import PsetError
from .export import atomic_writer

_WS = rb"[\x00\t\n\x0c\r ]"
_REGULAR = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"
_AT_TOKEN = rb"(?<![^\x00\t\n\x0c\r ()<>\[\]{}%])"   # after whitespace or a delimiter other than "/"
# One search finds the next token that matters. The lookahead on the first byte lets the
# engine skip the bytes no token starts with before trying any alternative (measured:
# half the time on the /W arrays of font dictionaries, mostly numbers).
_TOKENS = re.compile(
    rb"(?=[<(%0-9se+\x0b-])(?:(?P<dict><<)|(?P<hex><)|(?P<str>\()|(?P<comment>%)|(?P<vt>\x0b)|" + _AT_TOKEN
    + rb"(?:(?P<ref>(?P<num>\d++)" + _WS + rb"++(?P<gen>\d++)" + _WS + rb"++R)(?!" + _REGULAR + rb")"
    # "+7 0 R" (or "7 +0 R") is a reference to a reader too: refused, not left unrenumbered
    + rb"|(?P<signed>[+-]\d++" + _WS + rb"++(?:[+-]?\d++" + _WS + rb"++)?R)(?!" + _REGULAR + rb")"
    + rb"|(?P<stream>stream(?:\r\n|\n))"
    + rb"|(?P<endobj>endobj)(?!" + _REGULAR + rb")))")
_STRING_SPECIAL = re.compile(rb"[()\\]")
_EOL = re.compile(rb"[\r\n]")
_OBJ_HEAD = re.compile(rb"(\d{1,15})" + _WS + rb"+(\d{1,15})" + _WS + rb"+obj(?!" + _REGULAR + rb")")
_SUBSECTION = re.compile(_WS + rb"*(\d+) (\d+)" + _WS + rb"*?\r?\n")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?:\r\n| \n| \r|\n)")
_KIDS = re.compile(rb"(?:" + _WS + rb"*\d+" + _WS + rb"+\d+" + _WS + rb"+R(?!" + _REGULAR + rb"))*" + _WS + rb"*")
_KID = re.compile(rb"(\d+)" + _WS + rb"+(\d+)" + _WS + rb"+R")
_MAX_DIGITS = 15  # a longer number is no offset, length or object number of a real file
_ENDSTREAM = re.compile(_WS + rb"*endstream")
_INHERITED = (b"Resources", b"MediaBox", b"CropBox", b"Rotate")
_CATALOG_UNSUPPORTED = (b"Names", b"Dests", b"AcroForm")
CATALOG, ROOT_PAGES, OUTLINES, INFO, FIRST_FREE = 1, 2, 3, 4, 5


class _Damaged(Exception):
    def __init__(self, problem: str, offset: int | None = None):
        super().__init__(problem if offset is None else f"{problem} (byte {offset})")


def _int(digits: bytes) -> int:
    """A number the file gives (digits only): refused past _MAX_DIGITS, where int() would
    be slow or fail and no offset or length of a real file lies."""
    if len(digits) > _MAX_DIGITS:
        raise _Damaged(f"a number of {len(digits)} digits")
    return int(digits)


@dataclass
class _Object:
    head: bytes                             # between "obj" and the stream/endobj keyword
    refs: list[tuple[int, int, int]]        # (start, end, object number) of each "N 0 R" in head
    masked: bytes                           # head with strings blanked
    stream: tuple[int, int] | None          # span of the stream data in the file

    @functools.cached_property
    def top(self) -> bytes:
        """head with strings blanked and nested dicts removed (worked out when asked:
        most objects are only copied)."""
        return _top_level(self.masked)


def _scan(data: bytes, pos: int, end: int) -> tuple[int, list, bytes, str | None, int]:
    """From pos: references and masked text (strings blanked) up to the stream/endobj
    keyword (or end)."""
    start, refs, masked, last = pos, [], [], pos
    comments = _Comments(data, start)
    while True:
        m = _TOKENS.search(data, pos, end)
        if m is None:
            masked.append(data[last:end])
            return end, refs, b"".join(masked), None, end
        kind = m.lastgroup
        if kind in ("stream", "endobj"):
            masked.append(data[last:m.start()])
            return m.start(), refs, b"".join(masked), kind, m.end()
        if kind == "dict":
            pos = m.end()
            continue
        if kind == "vt":  # no PDF whitespace, but some readers take it for one ("7<VT>0 R")
            raise _Damaged("a vertical tab outside a string", m.start())
        if kind == "signed":
            raise _Damaged("a reference with a sign (\"+7 0 R\"), which is not supported", m.start())
        if kind == "ref":
            try:  # not _int: this runs for every reference, and a long number is only "missing"
                refs.append((m.start() - start, m.end() - start, int(m.group("num")), int(m.group("gen"))))
            except ValueError:  # past int()'s digit limit
                raise _Damaged("a reference with a number of thousands of digits", m.start()) from None
            pos = m.end()
            continue
        if kind == "hex":
            close = data.find(b">", m.end(), end)
            if close < 0:
                raise _Damaged("unterminated hex string", m.start())
            pos = close + 1
        elif kind == "comment":
            eol = _EOL.search(data, m.end(), end)
            pos = eol.start() if eol else end
            if comments.split_reference(m.start(), pos, end):
                raise _Damaged("a comment between a number and what follows it (it could split a reference, "
                               "\"5 %...<newline>0 R\", which is not supported)", m.start())
        else:
            pos = _skip_string(data, m.end(), end)
        masked.append(data[last:m.start()] + b"()")
        last = pos


_NUMBER_OR_R_NEXT = re.compile(_WS + rb"*+[0-9R+-]")
_WS_BYTES = b"\x00\t\n\x0c\r "
_DELIMITERS = b"()<>[]{}"


class _Comments:
    """Refuses a comment right after a number and before a number or R (other comments
    between them allowed): to a reader it is whitespace, so it may sit inside a reference
    ("5 %c<newline>0 R") that the renumbering would not see. Typst writes no comments
    inside objects, so this costs real keys nothing. Linear: each comment looks back only
    to the one before it (and takes on its verdict when nothing else lies between them)
    and forward only to the next token."""

    def __init__(self, data: bytes, start: int) -> None:
        self.data, self.start = data, start
        self.after_number, self.last_end = False, -1   # the previous comment's verdict and end

    def split_reference(self, comment: int, after: int, end: int) -> bool:
        data, i = self.data, comment - 1
        while i >= self.start and data[i] in _WS_BYTES:
            i -= 1
        if i < self.last_end:          # only whitespace since the previous comment (or none)
            after_number = self.after_number and i >= self.start
        else:
            after_number = self._number_ends_at(i)
        self.after_number, self.last_end = after_number, after
        return after_number and _NUMBER_OR_R_NEXT.match(data, after, end) is not None

    def _number_ends_at(self, i: int) -> bool:
        """A whole integer token ends at i (not /F1's digit, nor 1.5's)."""
        data = self.data
        if i < self.start or not 0x30 <= data[i] <= 0x39:
            return False
        while i >= self.start and 0x30 <= data[i] <= 0x39:
            i -= 1
        if i >= self.start and data[i] in b"+-":
            i -= 1
        return i < self.start or data[i] in _WS_BYTES or data[i] in _DELIMITERS


def _skip_string(data: bytes, pos: int, end: int) -> int:
    """Past the literal string opened just before pos (balanced parentheses, escapes)."""
    depth = 1
    while depth:
        m = _STRING_SPECIAL.search(data, pos, end)
        if m is None:
            raise _Damaged("unterminated string", pos)
        c = data[m.start()]
        if c == 0x5C:
            pos = m.start() + 2
            continue
        depth += 1 if c == 0x28 else -1
        pos = m.end()
    return pos


def _top_level(masked: bytes) -> bytes:
    """The outermost dictionary's own text: each nested dictionary left as an empty
    "<<>>" (so a /Kids array holding one is seen to, and refused)."""
    out, depth, last = [], 0, 0
    for m in re.finditer(rb"<<|>>", masked):
        if m.group() == b"<<":
            depth += 1
            if depth == 2:
                out.append(masked[last:m.start()] + b"<<>>")
        else:
            if depth == 2:
                last = m.end()
            depth -= 1
    if depth <= 1:
        out.append(masked[last:])
    return b"".join(out)


def _value(top: bytes, key: bytes, what: bytes) -> re.Match | None:
    """The key's value; refused when the key is there twice (a name inside an array,
    say), where a reader could take either."""
    bare = _key_pattern(key, b"")
    first = bare.search(top)
    if first is None:
        return None
    if bare.search(top, first.end()) is not None:
        raise _Damaged(f"/{key.decode()} appears twice in one dictionary")
    return _key_pattern(key, what).match(top, first.start())


@functools.lru_cache(maxsize=None)
def _key_pattern(key: bytes, what: bytes) -> re.Pattern:
    return re.compile(b"/" + key + rb"(?!" + _REGULAR + rb")" + _WS + rb"*" + what)


def _ref(top: bytes, key: bytes) -> int | None:
    m = _value(top, key, rb"(\d+)" + _WS + rb"+0" + _WS + rb"+R")
    return _int(m.group(1)) if m else None


def _has(top: bytes, key: bytes) -> bool:
    return _value(top, key, b"") is not None


def _type(top: bytes) -> bytes | None:
    m = _value(top, b"Type", rb"/(" + _REGULAR + rb"*)")
    return m.group(1) if m else None


class _Reader:
    """One input PDF in memory: its xref table and objects, parsed on demand."""

    def __init__(self, data: bytes):
        self.data = data
        if not re.match(rb"%PDF-1\.[0-7]\b", data):
            raise _Damaged("not a PDF 1.0-1.7 file (no %PDF-1.x header)")
        tail_at = max(0, len(data) - 1024)
        i = data.rfind(b"startxref", tail_at)
        m = re.compile(rb"startxref" + _WS + rb"+(\d+)").match(data, i) if i >= 0 else None
        if m is None:
            raise _Damaged("no startxref at the end (truncated?)")
        xref = _int(m.group(1))
        if _OBJ_HEAD.match(data, xref):
            raise _Damaged("uses a cross-reference stream, which is not supported", xref)
        if not data.startswith(b"xref", xref):
            raise _Damaged("startxref does not point at an xref table", xref)
        self.offsets: dict[int, int] = {}
        self._objects: dict[int, _Object] = {}  # parsed once: the page tree's are read again to copy them
        self._lengths: dict[int, int] = {}      # indirect stream lengths, by object number
        pos = xref + 4
        while (sub := _SUBSECTION.match(data, pos)) is not None:
            first, count = _int(sub.group(1)), _int(sub.group(2))
            pos = sub.end()
            for n in range(first, first + count):
                e = _ENTRY.match(data, pos)
                if e is None:
                    raise _Damaged("malformed xref entry", pos)
                pos = e.end()
                if e.group(3) == b"n":
                    if e.group(2) != b"00000":
                        raise _Damaged(f"object {n} has a generation number, which is not supported", pos)
                    self.offsets[n] = int(e.group(1))
        t = re.compile(_WS + rb"*trailer").match(data, pos)
        if t is None:
            raise _Damaged("no trailer after the xref table", pos)
        # Where each object must end: at the next one's offset or the xref table.
        self._bounds = sorted({*self.offsets.values(), xref, len(data)})
        top = _top_level(_scan(data, t.end(), i)[2])
        for key, problem in ((b"Encrypt", "is encrypted"), (b"Prev", "has incremental updates"),
                             (b"XRefStm", "uses a cross-reference stream")):
            if _has(top, key):
                raise _Damaged(f"{problem}, which is not supported")
        root = _ref(top, b"Root")
        if root is None:
            raise _Damaged("the trailer names no /Root")
        catalog = self.object(root)
        for key in _CATALOG_UNSUPPORTED:
            if _has(catalog.top, key):
                raise _Damaged(f"its catalog has /{key.decode()}, which merging would break")
        pages = _ref(catalog.top, b"Pages")
        if pages is None:
            raise _Damaged("its catalog names no /Pages")
        self.tree_nodes: list[int] = []
        self.pages: list[int] = []
        self._walk(pages)

    def object(self, n: int) -> _Object:
        obj = self._objects.get(n)
        if obj is None:
            obj = self._objects[n] = self._parse(n)
        return obj

    def _head(self, n: int) -> tuple[int, re.Match, int]:
        """Object n's offset, "N 0 obj" and the offset it must end by (the next object's:
        objects that overlap would make each scan run on through the others)."""
        at = self.offsets.get(n)
        if at is None:
            raise _Damaged(f"object {n} is referred to but missing")
        m = _OBJ_HEAD.match(self.data, at)
        if m is None or int(m.group(1)) != n:
            raise _Damaged(f"the xref offset of object {n} is wrong", at)
        return at, m, self._bounds[bisect.bisect_right(self._bounds, at)]

    def _parse(self, n: int) -> _Object:
        at, m, bound = self._head(n)
        end, refs, masked, kind, after = _scan(self.data, m.end(), bound)
        if kind is None:
            raise _Damaged(f"object {n} does not end before the next object", at)
        if masked.count(b"<<") != masked.count(b">>"):
            raise _Damaged(f"object {n}: unbalanced << and >>", at)
        obj = _Object(self.data[m.end():end], refs, masked, None)
        if kind == "stream":
            length = self._length(obj.top, n)
            if after + length > bound or _ENDSTREAM.match(self.data, after + length, bound) is None:
                raise _Damaged(f"object {n}: stream /Length does not end at endstream", after)
            obj.stream = (after, after + length)
        return obj

    def _length(self, top: bytes, n: int) -> int:
        direct = _value(top, b"Length", rb"(\d+)(?![0-9])(?!" + _WS + rb"+\d+" + _WS + rb"+R)")
        if direct:
            return _int(direct.group(1))
        indirect = _ref(top, b"Length")
        if indirect is not None and indirect in self.offsets:
            if indirect not in self._lengths:
                # Read as far as its keyword only: a stream there (whose own /Length might
                # point back here) is no length, and is not followed.
                _, m, bound = self._head(indirect)
                end, _, _, kind, _ = _scan(self.data, m.end(), bound)
                value = self.data[m.end():end].strip()
                self._lengths[indirect] = _int(value) if kind == "endobj" and value.isdigit() else -1
            if self._lengths[indirect] >= 0:
                return self._lengths[indirect]
        raise _Damaged(f"object {n}: stream without a usable /Length")

    def _walk(self, root: int) -> None:
        """Pages in order, depth first (a stack, not recursion: a hostile tree may be deep)."""
        stack, seen = [root], set()
        while stack:
            n = stack.pop()
            if n in seen:
                raise _Damaged(f"the page tree loops at object {n}")
            seen.add(n)
            node = self.object(n)
            kind = _type(node.top)
            if kind == b"Page":
                self.pages.append(n)
                continue
            if kind != b"Pages":
                raise _Damaged(f"object {n} in the page tree is neither /Page nor /Pages")
            for key in _INHERITED:
                if _has(node.top, key):
                    raise _Damaged(f"page tree node {n} has inherited /{key.decode()}, which is not supported")
            self.tree_nodes.append(n)
            stack.extend(reversed(self._kids(n, node.top)))

    def _kids(self, n: int, top: bytes) -> list[int]:
        """A node's /Kids: an array of references "N 0 R" and nothing else (anything else
        would be a page dropped without a word)."""
        opened = _value(top, b"Kids", rb"\[")
        close = top.find(b"]", opened.end()) if opened else -1
        if close < 0:
            raise _Damaged(f"page tree node {n} has no /Kids array")
        content = top[opened.end():close]
        if _KIDS.fullmatch(content) is None:
            raise _Damaged(f"page tree node {n}: /Kids holds more than references")
        kids = []
        for num, gen in _KID.findall(content):
            if _int(gen) != 0:
                raise _Damaged(f"page tree node {n}: a kid of generation {int(gen)}, which is not supported")
            kids.append(_int(num))
        return kids


class _Out:
    """The output file, with the current offset and a running hash (for the document /ID)."""

    def __init__(self, f: BinaryIO):
        self.f, self.pos, self.sha = f, 0, hashlib.sha256()

    def write(self, b: bytes | memoryview) -> None:
        self.f.write(b)
        self.sha.update(b)
        self.pos += len(b)


def _copy_part(out: _Out, reader: _Reader, base: int, offsets: array, pages: array) -> int:
    """Write the part's objects reachable from its pages; return the next free number."""
    objects: dict[int, _Object] = {}
    queue = deque(reader.pages)
    parents = set(reader.tree_nodes)
    while queue:
        n = queue.popleft()
        if n in objects or n in parents:
            continue
        obj = objects[n] = reader.object(n)
        queue.extend(target for _, _, target, _ in obj.refs)
    number = {ref: ROOT_PAGES for ref in parents}
    number.update((old, base + i) for i, old in enumerate(sorted(objects)))
    data = memoryview(reader.data)
    for old in sorted(objects):
        obj = objects[old]
        offsets.append(out.pos)
        pieces, last = [b"%d 0 obj" % number[old]], 0
        for start, end, target, gen in obj.refs:
            if gen != 0:
                raise _Damaged(f"object {old} refers to {target} {gen} R, which is not supported")
            pieces += [obj.head[last:start], b"%d 0 R" % number[target]]
            last = end
        pieces.append(obj.head[last:])
        out.write(b"".join(pieces))
        if obj.stream:
            out.write(b"stream\n")
            out.write(data[obj.stream[0]:obj.stream[1]])
            out.write(b"\nendstream\nendobj\n")
        else:
            out.write(b"endobj\n")
    pages.extend(number[p] for p in reader.pages)
    return base + len(objects)


def pdf_text_string(text: str) -> bytes:
    """Any text as a PDF text string: UTF-16BE with byte-order mark, in hex (no escaping)."""
    return b"<FEFF" + text.encode("utf-16-be", errors="replace").hex().upper().encode() + b">"


def count_pages(data: bytes, name: str = "PDF") -> int:
    try:
        return len(_Reader(data).pages)
    except _Damaged as e:
        raise PsetError(f"{name}: cannot merge: {e}") from None


def merge(out_path: Path, parts: Iterable[Path | bytes], outline: Sequence[tuple[str, int]], *,
          title: str | None = None, expected_pages: Sequence[int] | None = None) -> int:
    """Write parts' pages in order to out_path (atomically) with a flat outline of
    (title, 0-based page index) entries; return the page count. expected_pages, if given,
    is each part's page count (a part that differs is refused)."""
    with atomic_writer(Path(out_path)) as f:
        return _write(_Out(f), parts, outline, title, expected_pages)


def _write(out: _Out, parts, outline, title, expected_pages) -> int:
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets, pages = array("q", [0] * FIRST_FREE), array("q")
    base = FIRST_FREE
    for i, part in enumerate(parts):
        name = str(part) if isinstance(part, Path) else f"part {i + 1} (in memory)"
        try:
            reader = _Reader(part.read_bytes() if isinstance(part, Path) else bytes(part))
            if expected_pages is not None and len(reader.pages) != expected_pages[i]:
                raise _Damaged(f"has {len(reader.pages)} pages, expected {expected_pages[i]}")
            base = _copy_part(out, reader, base, offsets, pages)
        except _Damaged as e:
            raise PsetError(f"{name}: cannot merge: {e}") from None
        except OSError as e:
            raise PsetError(f"{name}: cannot read: {e.strerror or e}") from None
        del reader
    first_item = base
    for k, (text, page) in enumerate(outline):
        if not 0 <= page < len(pages):
            raise PsetError(f"outline entry {text!r} points at page {page + 1} of {len(pages)}")
        links = b"".join(b"/%s %d 0 R" % (key, first_item + k + step)
                         for key, step, ok in ((b"Prev", -1, k > 0), (b"Next", 1, k + 1 < len(outline))) if ok)
        offsets.append(out.pos)
        out.write(b"%d 0 obj\n<</Title %s/Parent %d 0 R%s/Dest[%d 0 R/Fit]>>\nendobj\n"
                  % (first_item + k, pdf_text_string(text), OUTLINES, links, pages[page]))
    size = first_item + len(outline)

    def fixed(n: int, body: bytes) -> None:
        offsets[n] = out.pos
        out.write(b"%d 0 obj\n%s\nendobj\n" % (n, body))

    fixed(INFO, b"<<%s>>" % (b"/Title" + pdf_text_string(title) if title is not None else b""))
    fixed(OUTLINES, b"<</Type/Outlines/First %d 0 R/Last %d 0 R/Count %d>>" % (first_item, size - 1, len(outline))
          if outline else b"<</Type/Outlines/Count 0>>")
    offsets[ROOT_PAGES] = out.pos
    out.write(b"%d 0 obj\n<</Type/Pages/Count %d/Kids[" % (ROOT_PAGES, len(pages)))
    for k in range(0, len(pages), 1024):
        out.write(b" ".join(b"%d 0 R" % p for p in pages[k:k + 1024]) + b" ")
    out.write(b"]>>\nendobj\n")
    fixed(CATALOG, b"<</Type/Catalog/Pages %d 0 R/Outlines %d 0 R%s>>"
          % (ROOT_PAGES, OUTLINES, b"/PageMode/UseOutlines" if outline else b""))
    doc_id = out.sha.hexdigest()[:32].upper().encode()   # a hash of the content: same inputs, same bytes
    xref = out.pos
    out.write(b"xref\n0 %d\n0000000000 65535 f\r\n" % size)
    for k in range(1, size, 4096):
        out.write(b"".join(b"%010d 00000 n\r\n" % offsets[n] for n in range(k, min(size, k + 4096))))
    out.write(b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R/ID[<%s><%s>]>>\nstartxref\n%d\n%%%%EOF\n"
              % (size, CATALOG, INFO, doc_id, doc_id, xref))
    return len(pages)

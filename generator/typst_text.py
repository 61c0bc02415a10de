"""Free text into Typst, safely. Text that is not ours (names, bank text, course
titles) never becomes markup: it is emitted as a Typst string literal, which Typst
shows verbatim, and the embedded expression is closed with ``;`` so that whatever
follows cannot extend it."""
from __future__ import annotations

import functools
import re
import unicodedata

_SIMPLE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# No quote, backslash or character of the categories below: nothing to escape (most text).
_PLAIN = re.compile('[^"\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]*')


def string_literal(text: str) -> str:
    """A Typst string literal ("...") whose value is exactly ``text``."""
    text = str(text)
    if _PLAIN.fullmatch(text):
        return '"' + text + '"'
    out = []
    for ch in text:
        if ch in _SIMPLE:
            out.append(_SIMPLE[ch])
        elif unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def isolated(value: str) -> str:
    """Text with explicit bidi controls is wrapped in an isolate (FSI ... PDI), so a
    stray right-to-left override cannot flip the text around it."""
    if _BIDI_CONTROL.search(value):
        opened = sum(value.count(c) for c in "\u202a\u202b\u202d\u202e") - value.count("\u202c")
        return "\u2068" + value + "\u202c" * max(opened, 0) + "\u2069"
    return value


def text(value: str) -> str:
    """Free text for a markup context: shown exactly as written, never interpreted."""
    return _text(str(value))


@functools.lru_cache(maxsize=4096)  # bank sentences and headings recur from student to student
def _text(value: str) -> str:
    return "#" + string_literal(isolated(value)) + ";"

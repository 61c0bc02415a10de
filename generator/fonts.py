"""Fallback fonts that let student names in any common script render.

Typst's embedded fonts (New Computer Modern, Libertinus, DejaVu Sans Mono) cover Latin,
Greek, Cyrillic, Hebrew, Armenian and Georgian, but not CJK, Indic, Arabic, Thai, Ethiopic,
Khmer or emoji. The repository ships Noto fonts for those (fonts/, see its README.md),
and the document's text font is New Computer Modern followed by them, in TEXT_FONTS order:
Typst takes each glyph from the first family that has it, so ASCII documents come out
byte-identical and a fallback font is embedded (subset) only when a name needs it.

The folder is the source checkout's top-level fonts/, or the copy that `pip install .`
puts inside the package as generator/fonts_data."""
from __future__ import annotations

import functools
from pathlib import Path

from .typst_text import string_literal

_PKG = Path(__file__).resolve().parent
# A file every complete copy has: tells our folder apart from any other "fonts".
_MARKER = "NotoSansSC-Regular.ttf"

MAIN_FONT = "New Computer Modern"
# Serif designs where Noto has one, to sit beside New Computer Modern. Chinese and
# Japanese come from Noto Sans SC (all of GBK, Big5 and JIS X 0208 ideographs, kana),
# hangul from Noto Sans KR; Noto Emoji is monochrome (no skin tones or colour). A glyph
# none of these has still falls back to Typst's own Libertinus and DejaVu fonts.
FALLBACK_FONTS = (
    "Noto Naskh Arabic",
    "Noto Serif Devanagari",
    "Noto Serif Bengali",
    "Noto Serif Gurmukhi",
    "Noto Serif Gujarati",
    "Noto Sans Oriya",
    "Noto Serif Tamil",
    "Noto Serif Telugu",
    "Noto Serif Kannada",
    "Noto Serif Malayalam",
    "Noto Serif Sinhala",
    "Noto Serif Thai",
    "Noto Serif Lao",
    "Noto Serif Khmer",
    "Noto Serif Myanmar",
    "Noto Serif Ethiopic",
    "Noto Sans SC",
    "Noto Sans KR",
    "Noto Emoji",
)
TEXT_FONTS = (MAIN_FONT, *FALLBACK_FONTS)


@functools.lru_cache(maxsize=1)
def fonts_dir() -> Path:
    for candidate in (_PKG.parent / "fonts", _PKG / "fonts_data"):
        if (candidate / _MARKER).is_file():
            return candidate
    raise FileNotFoundError("fonts/ is missing: reinstall make-pset")


def font_paths() -> list[str]:
    """For typst.Compiler(font_paths=...): Typst searches folders, not single files."""
    return [str(fonts_dir())]


def typst_font_list() -> str:
    """TEXT_FONTS as a Typst array literal, for `#set text(font: ...)`."""
    return "(" + ", ".join(string_literal(name) for name in TEXT_FONTS) + ")"

"""PDF text for assertions: pypdf extraction, normalised (minus signs, spacing)."""
import io
import unicodedata

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    # NFKC folds the math font's italic letters (U+1D44B ...) back to ASCII.
    return unicodedata.normalize("NFKC", text).replace("\u2212", "-")


def squashed(text: str) -> str:
    """Without whitespace, for matching numbers that extraction may split."""
    return "".join(text.split())

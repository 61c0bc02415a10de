"""Student names in any common script render with real glyphs, from a shipped font.

A glyph no font has is drawn as .notdef, which Typst's PDF writer keeps as glyph 0 of
a subset font: these tests find every glyph id a page shows and the font it comes from."""
import io
import tempfile
import unicodedata

import pytest
import typst
from pypdf import PdfReader
from pypdf.generic import ContentStream

from generator import fonts, keys_pdf
from generator.pset import build_pset
from generator.render import FIXED_TIMESTAMP, compile_pdf, document_source
from generator.typst_text import text
from pdftext import pdf_text

# script -> (a realistic name, the font whose glyphs must draw it).
SAMPLES = {
    "latin": ("Zoë Ñúñez Łukasz Dvořák Şükrü Ærøskøbing Đorđe", "NewCM10"),
    "vietnamese": ("Nguyễn Thị Phương Trần Đức Thắng", "NewCM10"),
    "greek": ("Γιώργος Παπαδόπουλος", "NewCM10"),
    "cyrillic": ("Дмитрий Иванов Олена Шевченко", "NewCM10"),
    "armenian": ("Արամ Պետրոսյան", "NewCM10"),
    "georgian": ("გიორგი", "NewCM10"),
    "hebrew": ("דוד כהן", "NewCM10"),
    "arabic": ("محمد عبد الرحمن", "NotoNaskhArabic"),
    "persian": ("سارا رضایی", "NotoNaskhArabic"),
    "devanagari": ("प्रिया शर्मा", "NotoSerifDevanagari"),
    "bengali": ("অমিত দাস", "NotoSerifBengali"),
    "gurmukhi": ("ਹਰਪ੍ਰੀਤ ਸਿੰਘ", "NotoSerifGurmukhi"),
    "gujarati": ("પટેલ", "NotoSerifGujarati"),
    "oriya": ("ଓଡ଼ିଆ", "NotoSansOriya"),
    "tamil": ("கார்த்திக் சுப்பிரமணியன்", "NotoSerifTamil"),
    "telugu": ("శ్రీనివాస్ రెడ్డి", "NotoSerifTelugu"),
    "kannada": ("ಕನ್ನಡ", "NotoSerifKannada"),
    "malayalam": ("മലയാളം", "NotoSerifMalayalam"),
    "sinhala": ("ශ්‍රියානි", "NotoSerifSinhala"),
    "thai": ("สมชาย ใจดี", "NotoSerifThai"),
    "lao": ("ສົມພອນ", "NotoSerifLao"),
    "khmer": ("សុខា", "NotoSerifKhmer"),
    "myanmar": ("အောင်ဆန်း", "NotoSerifMyanmar"),
    "ethiopic": ("አበበ ተሰማ", "NotoSerifEthiopic"),
    "chinese": ("王小明 張偉", "NotoSansSC"),
    "japanese": ("さとう はなこ カタカナ 山田太郎", "NotoSansSC"),
    "korean": ("김민준 이서연", "NotoSansKR"),
    "emoji": ("Zoë 🚀 😀 👩🏽‍💻", "NotoEmoji"),
}
# Scripts whose shaping reorders or merges characters: Typst records their text as
# /ActualText spans, which pypdf does not read, so extraction garbles them even though
# the glyphs are right. For these the glyph checks stand alone.
NOT_EXTRACTABLE = {"devanagari", "bengali", "gurmukhi", "gujarati", "oriya", "tamil", "telugu",
                   "kannada", "malayalam", "sinhala", "lao", "khmer", "myanmar"}


def glyphs_by_font(pdf: bytes, page: int = 0) -> dict[str, list[int]]:
    """Glyph ids shown on a page, per font (the /BaseFont without its subset tag)."""
    reader = PdfReader(io.BytesIO(pdf))
    pg = reader.pages[page]
    fonts_here = {name: ref.get_object() for name, ref in pg["/Resources"]["/Font"].items()}
    shown: dict[str, list[int]] = {}
    current = None
    for operands, op in ContentStream(pg.get_contents(), reader).operations:
        if op == b"Tf":
            current = fonts_here[operands[0]]
        elif op in (b"Tj", b"TJ"):
            assert current is not None and current["/Subtype"] == "/Type0", "expected two-byte CIDs"
            base = str(current["/BaseFont"]).split("+", 1)[-1]
            for item in operands[0] if op == b"TJ" else [operands[0]]:
                if isinstance(item, (str, bytes)):
                    raw = item.original_bytes if hasattr(item, "original_bytes") else bytes(item)
                    shown.setdefault(base, []).extend(
                        int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2))
    return shown


def notdef_fonts(shown: dict[str, list[int]]) -> list[str]:
    return [base for base, gids in shown.items() if 0 in gids]


def words_extracted(sample: str, extracted: str) -> bool:
    """Each word comes back; right-to-left text comes back in visual word order."""
    got = unicodedata.normalize("NFKC", extracted)
    return all(unicodedata.normalize("NFKC", w) in got for w in sample.split())


@pytest.fixture(scope="module")
def compiler():
    return typst.Compiler(root=tempfile.mkdtemp(), ignore_system_fonts=True, font_paths=fonts.font_paths())


def test_every_listed_family_is_shipped_and_documented():
    shipped = typst.Fonts(include_system_fonts=False, font_paths=fonts.font_paths()).families()
    assert [f for f in fonts.TEXT_FONTS if f not in shipped] == []
    readme = (fonts.fonts_dir() / "README.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in fonts.fonts_dir().iterdir() if p.suffix in (".ttf", ".otf", ".ttc"))
    assert len(files) == len(fonts.FALLBACK_FONTS)
    assert [f for f in files if f"| {f} |" not in readme] == []
    assert list(fonts.fonts_dir().glob("OFL-*.txt"))


@pytest.mark.parametrize("script", list(SAMPLES))
def test_each_script_is_drawn_by_its_font(compiler, script):
    name, font = SAMPLES[script]
    source = f"#set text(font: {fonts.typst_font_list()})\n{text(name)}\n"
    pdf = compiler.compile(input=source.encode("utf-8"), format="pdf", timestamp=FIXED_TIMESTAMP)
    shown = glyphs_by_font(pdf)
    assert notdef_fonts(shown) == [], f"{script}: missing glyphs"
    assert any(base.startswith(font) for base in shown), f"{script}: drawn with {sorted(shown)}"
    if script not in NOT_EXTRACTABLE:
        assert words_extracted(name, pdf_text(pdf)), f"{script}: {pdf_text(pdf)!r}"


def test_without_the_shipped_fonts_these_names_would_be_boxes():
    """The glyph check above can fail: Typst's own fonts lack CJK and emoji."""
    bare = typst.Compiler(root=tempfile.mkdtemp(), ignore_system_fonts=True)
    source = f"#set text(font: {fonts.typst_font_list()})\n{text(SAMPLES['chinese'][0] + SAMPLES['emoji'][0])}"
    shown = glyphs_by_font(bare.compile(input=source.encode("utf-8"), format="pdf"))
    assert notdef_fonts(shown) != []


def test_cover_shows_a_name_in_every_script():
    """The real template: the cover's name line uses the fallback list."""
    name = " · ".join(sample for sample, _ in SAMPLES.values())
    pdf = compile_pdf(document_source(build_pset(1), key=False, student_name=name))
    shown = glyphs_by_font(pdf, page=0)
    assert notdef_fonts(shown) == []
    wanted = sorted({font for _, font in SAMPLES.values()})
    assert [f for f in wanted if not any(base.startswith(f) for base in shown)] == []
    extracted = pdf_text(pdf)
    assert [s for s, (n, _) in SAMPLES.items() if s not in NOT_EXTRACTABLE and not words_extracted(n, extracted)] == []


def test_ascii_document_is_byte_identical_without_the_fallback_fonts(tmp_path):
    """Fallback fonts are embedded only when used: an ASCII name's PDF is exactly what
    Typst's own fonts and the plain "New Computer Modern" setting give."""
    source = document_source(build_pset(7), key=True, student_name="Jane Q. Doe")
    with_fonts = compile_pdf(source)
    plain = source.replace(fonts.typst_font_list(), '"New Computer Modern"')
    bare = typst.Compiler(root=str(tmp_path), ignore_system_fonts=True).compile(
        input=plain.encode("utf-8"), format="pdf", timestamp=FIXED_TIMESTAMP, pdf_tags=False)
    assert with_fonts == bare
    assert not any("Noto" in base for base in glyphs_by_font(with_fonts))


def embedded_fonts(pdf: bytes) -> set[str]:
    """Every font a PDF embeds (the /BaseFont without its subset tag), over all pages."""
    reader = PdfReader(io.BytesIO(pdf))
    return {str(ref.get_object()["/BaseFont"]).split("+", 1)[-1]
            for page in reader.pages for ref in page["/Resources"]["/Font"].values()}


def test_a_latin_document_embeds_only_new_computer_modern():
    """Each embedded font is subset and compressed on every compile (about 1% of Typst's
    time each): text, tables and the variant code use New Computer Modern and its math
    font, nothing else (the variant code once used raw's DejaVu Sans Mono)."""
    ps = build_pset(42)
    for key in (False, True):
        found = embedded_fonts(compile_pdf(document_source(ps, key=key, student_name="Jane Q. Doe")))
        assert found and all(base.startswith(("NewCM10-", "NewCMMath-")) for base in found), found


def test_keys_pdf_contents_page_shows_names_in_any_script(tmp_path):
    key = typst.compile(b"#set page(width: 4in, height: 3in)\nKey")
    (tmp_path / "k.pdf").write_bytes(key)
    rows = [{"name": SAMPLES[s][0], "student_id": f"s{i}", "variant": "A1", "key_pdf": "k.pdf", "key_pages": 1}
            for i, s in enumerate(("chinese", "korean", "arabic", "devanagari", "emoji"))]
    keys_pdf.write_keys_pdf(tmp_path, rows)
    shown = glyphs_by_font((tmp_path / "keys.pdf").read_bytes(), page=0)
    assert notdef_fonts(shown) == []
    for font in ("NotoSansSC", "NotoSansKR", "NotoNaskhArabic", "NotoSerifDevanagari", "NotoEmoji"):
        assert any(base.startswith(font) for base in shown), font

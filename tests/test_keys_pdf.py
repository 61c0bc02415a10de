"""keys.pdf and the PDF merger: real Typst keys merged, checked through pypdf (pages,
text, outline, contents table), pdftoppm (pixels), and hand-made PDFs for the parser's
corners (strings holding "N 0 R", nested page trees, damaged and foreign files)."""
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from generator import keys_pdf, pdfmerge
from generator.errors import PsetError
from generator.keys_pdf import write_keys_pdf
from generator.pset import build_pset
from generator.render import render_pset
from pdftext import squashed

RLO, PDI_CLOSE = "\u202e", "\u202c\u2069"
STUDENTS = [  # (id, name, seed)
    ("s1", '#read("x") ( ) \\ 1 0 R', 11),
    ("s2", "שלום עולם", 12),
    ("s3", "Zoë 😀🎉", 13),
    ("s4", f"Mallory {RLO}evil", 14),
]
HOSTILE_TITLES = ['#read("x")', "(", ")", "\\", "שלום עולם", "Zoë 😀🎉 👩‍💻", "1 0 R", "a (b \\) c", "<FEFF>", ""]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """A batch folder with real key PDFs and their manifest rows."""
    out = tmp_path_factory.mktemp("keys") / "out"
    (out / "students").mkdir(parents=True)
    rows = []
    for sid, name, seed in STUDENTS:
        ps = build_pset(seed)
        pdf = render_pset(ps, student_name=name).key_pdf
        (out / "students" / f"{sid}-key.pdf").write_bytes(pdf)
        rows.append({"student_id": sid, "name": name, "variant": ps.variant, "key_pdf": f"students/{sid}-key.pdf",
                     "key_pages": str(len(PdfReader(out / "students" / f"{sid}-key.pdf").pages))})
    write_keys_pdf(out, rows)
    return out, rows


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def contents_text(reader: PdfReader, pages: int) -> str:
    text = unicodedata.normalize("NFKC", "".join(reader.pages[i].extract_text() for i in range(pages)))
    return "".join(ch for ch in squashed(text) if unicodedata.category(ch) != "Cf")


def starts(rows, contents_pages):
    page, out = contents_pages, []
    for row in rows:
        out.append(page)
        page += int(row["key_pages"])
    return out


# --- keys.pdf from real keys ----------------------------------------------------------

def test_every_key_page_follows_the_contents_with_its_own_text(batch):
    out, rows = batch
    keys = PdfReader(out / "keys.pdf", strict=True)
    contents_pages = len(keys.pages) - sum(int(r["key_pages"]) for r in rows)
    assert contents_pages == 1
    page = contents_pages
    for row in rows:
        for source in PdfReader(out / row["key_pdf"]).pages:
            assert keys.pages[page].extract_text() == source.extract_text()
            assert keys.pages[page].mediabox == source.mediabox
            page += 1
    assert page == len(keys.pages)
    assert leftovers(out) == []


def test_outline_has_the_contents_and_one_entry_per_student_at_their_first_page(batch):
    out, rows = batch
    keys = PdfReader(out / "keys.pdf")
    assert keys.trailer["/Root"]["/PageMode"] == "/UseOutlines"
    outline = keys.outline
    assert all(not isinstance(entry, list) for entry in outline)        # flat: no nested lists
    assert [(e.title, keys.get_destination_page_number(e)) for e in outline][0] == ("Contents", 0)
    assert len(outline) == len(rows) + 1
    for entry, row, first in zip(outline[1:], rows, starts(rows, 1)):
        name = row["name"]
        shown = f"\u2068{name}{PDI_CLOSE}" if RLO in name else name     # an override is closed inside the name
        assert entry.title == f"{shown} ({row['student_id']})"
        assert keys.get_destination_page_number(entry) == first
        assert keys.pages[first].extract_text() == PdfReader(out / row["key_pdf"]).pages[0].extract_text()


def test_contents_lists_every_student_with_their_page(batch):
    out, rows = batch
    text = contents_text(PdfReader(out / "keys.pdf"), 1)
    assert squashed('#read("x") ( ) \\ 1 0 R') in text
    assert "שלום" in text and "עולם" in text and "Zoë" in text and "Mallory" in text
    for row, first in zip(rows, starts(rows, 1)):
        assert f"{row['student_id']}{row['variant']}{first + 1}" in text


def test_a_large_class_gets_contents_in_chunks_and_the_page_numbers_still_agree(batch, tmp_path):
    """130 students: several contents chunks; one chunk of 300-character names spills
    over more than one page, which moves every later key."""
    out, rows = batch
    (tmp_path / "students").mkdir()
    many = []
    for i in range(130):
        row = dict(rows[i % len(rows)], student_id=f"id{i:03d}", key_pdf=f"students/id{i:03d}-key.pdf",
                   name=("Very Long Name " + "Xyzzy-" * 60)[:300] + str(i) if 25 <= i < 50 else f"Plain Name {i}")
        shutil.copyfile(out / rows[i % len(rows)]["key_pdf"], tmp_path / row["key_pdf"])
        many.append(row)
    write_keys_pdf(tmp_path, many)
    keys = PdfReader(tmp_path / "keys.pdf")
    contents_pages = len(keys.pages) - sum(int(r["key_pages"]) for r in many)
    assert contents_pages > -(-len(many) // keys_pdf.ROWS_PER_CHUNK)      # the long names spilled
    text = contents_text(keys, contents_pages)
    firsts = starts(many, contents_pages)
    for i, (row, first) in enumerate(zip(many, firsts), start=1):
        assert f"{row['student_id']}{row['variant']}{first + 1}" in text
        assert f"{i}{squashed(row['name'])[:14]}" in text
    assert [keys.get_destination_page_number(e) for e in keys.outline] == [0] + firsts
    footers = [keys.pages[j].extract_text().split("\n")[-1] for j in range(contents_pages)]
    assert footers == [str(j) for j in range(1, contents_pages + 1)]
    for j in range(contents_pages):     # a row is never split across pages: each page starts with a row number
        lines = keys.pages[j].extract_text().split("\n")
        header = lines.index("# Student ID Variant Page")
        assert lines[header + 1].split()[0].isdigit()


def test_same_inputs_give_the_same_bytes_in_any_folder(batch, tmp_path):
    out, rows = batch
    shutil.copytree(out / "students", tmp_path / "students")
    write_keys_pdf(tmp_path, rows)
    assert (tmp_path / "keys.pdf").read_bytes() == (out / "keys.pdf").read_bytes()
    assert b"/CreationDate" not in (out / "keys.pdf").read_bytes()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")
def test_merged_pages_render_exactly_like_the_originals(batch, tmp_path):
    out, rows = batch
    for merged_page, (source, page) in ((2, (rows[0]["key_pdf"], 1)), (2 + int(rows[0]["key_pages"]) + 2,
                                                                        (rows[1]["key_pdf"], 3))):
        images = []
        for pdf, number in ((out / "keys.pdf", merged_page), (out / source, page)):
            prefix = tmp_path / f"p{len(images)}"
            subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", str(number), "-l", str(number), "-singlefile",
                            str(pdf), str(prefix)], check=True)
            images.append(prefix.with_suffix(".pgm").read_bytes())
        assert images[0] == images[1] and len(images[0]) > 100_000


# --- damaged or foreign inputs --------------------------------------------------------

def damaged_variants(good: bytes) -> dict[str, tuple[bytes, str]]:
    xref = good.rindex(b"\nxref\n") + 1
    first_entry = good.index(b" 00000 n", xref) - 10
    length_at = good.index(b"/Length ") + len(b"/Length ")
    digits = good[length_at:length_at + 1]
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("secret", algorithm="RC4-40")
    encrypted = _written(writer)
    return {
        "text": (b"name,id\nAda,1\n", "not a PDF"),
        "truncated": (good[: len(good) // 2], "no startxref"),
        "bad offset": (good[:first_entry] + b"%010d" % 3 + good[first_entry + 10:], "xref offset of object"),
        "bad length": (good[:length_at] + (b"9" if digits != b"9" else b"8") + good[length_at + 1:],
                       "does not end at endstream"),
        "encrypted": (encrypted, "is encrypted"),
        "xref stream": (_xref_stream_pdf(), "cross-reference stream"),
    }


def _written(writer: PdfWriter) -> bytes:
    import io
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _xref_stream_pdf() -> bytes:
    head = b"%PDF-1.7\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n"
    body = head + b"2 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n"
    at = len(body)
    return body + b"3 0 obj\n<</Type/XRef/Size 4/W[1 2 1]/Root 1 0 R/Length 0>>\nstream\n\nendstream\nendobj\n" \
        + b"startxref\n%d\n%%%%EOF\n" % at


@pytest.mark.parametrize("kind", ["text", "truncated", "bad offset", "bad length", "encrypted", "xref stream"])
def test_a_foreign_or_damaged_key_is_refused_in_one_line_and_nothing_is_written(batch, tmp_path, kind):
    out, rows = batch
    good = (out / rows[1]["key_pdf"]).read_bytes()
    data, problem = damaged_variants(good)[kind]
    shutil.copytree(out / "students", tmp_path / "students")
    (tmp_path / rows[1]["key_pdf"]).write_bytes(data)
    with pytest.raises(PsetError) as e:
        write_keys_pdf(tmp_path, rows)
    message = str(e.value)
    assert "\n" not in message and problem in message and message.startswith(str(tmp_path / rows[1]["key_pdf"]))
    assert not (tmp_path / "keys.pdf").exists() and leftovers(tmp_path) == []


def test_a_key_whose_page_count_disagrees_with_the_manifest_is_refused(batch, tmp_path):
    out, rows = batch
    wrong = [dict(r) for r in rows]
    wrong[2]["key_pages"] = str(int(wrong[2]["key_pages"]) - 1)
    shutil.copytree(out / "students", tmp_path / "students")
    with pytest.raises(PsetError, match=r"s3-key\.pdf: cannot merge: has \d+ pages, expected \d+$"):
        write_keys_pdf(tmp_path, wrong)
    assert leftovers(tmp_path) == [] and not (tmp_path / "keys.pdf").exists()


def test_a_key_path_outside_the_batch_is_refused(batch, tmp_path):
    out, rows = batch
    escaped = [dict(rows[0], key_pdf="../../etc/passwd")]
    with pytest.raises(PsetError, match="outside"):
        write_keys_pdf(out, escaped)


# --- the merger on hand-made PDFs -----------------------------------------------------

def make_pdf(objects: dict[int, bytes], root: int = 1) -> bytes:
    """A classic-xref PDF from numbered object bodies (streams included verbatim)."""
    data, offsets = bytearray(b"%PDF-1.7\n"), {}
    for n, body in objects.items():
        offsets[n] = len(data)
        data += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    size = max(objects) + 1
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f\r\n" % size
    for n in range(1, size):
        data += b"%010d 00000 n\r\n" % offsets[n] if n in offsets else b"0000000000 65535 f\r\n"
    data += b"trailer\n<</Size %d/Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref)
    return bytes(data)


def stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<</Length %d%s>>\nstream\n%s\nendstream" % (len(content), extra, content)


TRICKY_OBJECTS = {
    1: b"<</Type/Catalog/Pages 2 0 R/Outlines 11 0 R>>",
    2: b"<</Type/Pages/Kids[3 0 R 8 0 R]/Count 2>>",
    3: b"<</Type/Pages/Parent 2 0 R/Kids[4 0 R]/Count 1>>",      # a nested page tree node
    4: b"<</Type/Page/Parent 3 0 R/MediaBox[0 0 200 200]/Resources<</Font<</F1 5 0 R>>>>/Contents 6 0 R"
       b"/Note(a (1 0 R) \\) 2 0 R \\\\)/Hex<3120302052>%  9 0 R in a comment\n/Ref 9 0 R>>",
    5: b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    6: stream(b"BT /F1 12 Tf 20 100 Td (Hello 3 0 R endobj stream) Tj ET"),
    7: b"(orphan: nothing refers to me)",
    8: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 100]/Resources<</Font<</F1 5 0 R>>>>/Contents 12 0 R>>",
    9: b"[(x) 10 0 R]",
    10: b"42",
    11: b"<</Type/Outlines/Count 0>>",
    12: stream(b"BT /F1 12 Tf 20 50 Td (World) Tj ET"),
}
TRICKY = make_pdf(TRICKY_OBJECTS)


def test_references_are_renumbered_outside_strings_and_streams_only(tmp_path):
    out = tmp_path / "merged.pdf"
    assert pdfmerge.merge(out, [TRICKY, TRICKY], [("first", 0), ("second copy", 2)]) == 4
    merged = PdfReader(out, strict=True)
    root_pages = merged.trailer["/Root"].raw_get("/Pages")
    for i, page in enumerate(merged.pages):
        assert page.raw_get("/Parent") == root_pages
        assert page.extract_text() == ("Hello 3 0 R endobj stream" if i % 2 == 0 else "World")
        assert page.mediabox == ([0, 0, 200, 200] if i % 2 == 0 else [0, 0, 300, 100])
    first, second = merged.pages[0], merged.pages[2]
    for page in (first, second):
        assert page["/Note"] == "a (1 0 R) ) 2 0 R \\" and page["/Hex"].original_bytes == b"1 0 R"
        assert [item.get_object() for item in page["/Ref"]] == ["x", 42]
    assert first.raw_get("/Ref").idnum != second.raw_get("/Ref").idnum
    raw = out.read_bytes()
    assert raw.count(b"%  9 0 R in a comment") == 2 and b"orphan" not in raw and b"/Type/Outlines/Count 0" not in raw
    assert [(e.title, merged.get_destination_page_number(e)) for e in merged.outline] == [("first", 0),
                                                                                         ("second copy", 2)]


def test_any_text_survives_as_a_bookmark_title(tmp_path):
    out = tmp_path / "titles.pdf"
    outline = [(title, i % 4) for i, title in enumerate(HOSTILE_TITLES)]
    pdfmerge.merge(out, [TRICKY, TRICKY], outline, title='Keys "(1 0 R)"')
    merged = PdfReader(out, strict=True)
    assert [(e.title, merged.get_destination_page_number(e)) for e in merged.outline] == outline
    assert merged.metadata.title == 'Keys "(1 0 R)"'


def test_merging_is_deterministic_and_the_id_follows_the_content(tmp_path):
    a, b, c = tmp_path / "a.pdf", tmp_path / "b.pdf", tmp_path / "c.pdf"
    pdfmerge.merge(a, [TRICKY], [("x", 0)])
    pdfmerge.merge(b, [TRICKY], [("x", 0)])
    pdfmerge.merge(c, [TRICKY], [("y", 0)])
    assert a.read_bytes() == b.read_bytes()
    ids = [PdfReader(p).trailer["/ID"][0] for p in (a, c)]
    assert ids[0] != ids[1]


def test_an_outline_entry_past_the_last_page_is_refused(tmp_path):
    with pytest.raises(PsetError, match="points at page 3 of 2"):
        pdfmerge.merge(tmp_path / "x.pdf", [TRICKY], [("late", 2)])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("body, problem", [
    ({2: b"<</Type/Pages/Kids[4 0 R]/Count 1/MediaBox[0 0 9 9]>>"}, "inherited /MediaBox"),
    ({3: b"<</Type/Pages/Parent 2 0 R/Kids[2 0 R]/Count 1>>"}, "page tree loops"),
    ({9: b"[(x) 13 0 R]"}, "object 13 is referred to but missing"),
    ({1: b"<</Type/Catalog/Pages 2 0 R/Names<<>>>>"}, "catalog has /Names"),
    ({4: b"<</Type/Page/Parent 3 0 R/Note(never closed>>"}, "unterminated string"),
    # two streams whose lengths point at each other
    ({6: b"<</Length 13 0 R>>\nstream\nBT ET\nendstream", 13: b"<</Length 6 0 R>>\nstream\nx\nendstream"},
     "object 6: stream without a usable /Length"),
    ({6: b"<</Length 6 0 R>>\nstream\nBT ET\nendstream"}, "object 6: stream without a usable /Length"),
    # numbers no real file has (int() of 4,301 digits raises; 20 overflow an offset)
    ({9: b"[(x) " + b"9" * 4301 + b" 0 R]"}, "a reference with a number of thousands of digits"),
    ({6: stream(b"BT ET").replace(b"/Length 5", b"/Length " + b"9" * 20)}, "a number of 20 digits"),
    ({6: b"<</Length 13 0 R>>\nstream\nBT ET\nendstream", 13: b"9" * 30}, "a number of 30 digits"),
    # a page the tree names in a way the merger would not see: refused, not dropped
    ({2: b"<</Type/Pages/Kids[3 0 R 8 1 R]/Count 2>>"}, "a kid of generation 1"),
    ({2: b"<</Type/Pages/Kids[3 0 R <</Type/Page>>]/Count 2>>"}, "/Kids holds more than references"),
    ({2: b"<</Type/Pages/Kids[3 0 R /x]/Count 2>>"}, "/Kids holds more than references"),
    ({2: b"<</Type/Pages/Note[/Kids[3 0 R]]/Kids[3 0 R 8 0 R]/Count 2>>"}, "/Kids appears twice"),
    ({2: b"<</Type/Pages" + b"/Kids[" * 10000 + b">>"}, "/Kids appears twice"),
    ({2: b"<</Type/Pages/Count 2>>"}, "no /Kids array"),
    ({6: stream(b"BT ET", b"/Length 6 0 R")}, "/Length appears twice"),
    # a stray endobj inside a dictionary
    ({5: b"<</Type/Font/Subtype/Type1 endobj /BaseFont/Helvetica>>"}, "object 5: unbalanced << and >>"),
])
def test_shapes_the_merger_cannot_carry_are_refused(tmp_path, body, problem):
    objects = {**TRICKY_OBJECTS, **body}
    with pytest.raises(PsetError, match=problem) as e:
        pdfmerge.merge(tmp_path / "x.pdf", [make_pdf(objects)], [])
    assert "\n" not in str(e.value) and str(e.value).startswith("part 1 (in memory): cannot merge: ")
    assert list(tmp_path.iterdir()) == []


def test_an_object_running_into_the_next_is_refused(tmp_path):
    """An object must end before the next one starts: one that does not would have been
    read on through every later object (and each of those again: quadratic)."""
    data = make_pdf(TRICKY_OBJECTS)
    assert data.count(b"10 0 obj\n42\nendobj") == 1
    data = data.replace(b"10 0 obj\n42\nendobj", b"10 0 obj\n42\nendxbj")   # same offsets
    with pytest.raises(PsetError, match=r"object 10 does not end before the next object \(byte \d+\)$"):
        pdfmerge.merge(tmp_path / "x.pdf", [data], [])
    assert pdfmerge.count_pages(make_pdf(TRICKY_OBJECTS)) == 2


def test_a_generation_written_with_two_zeros_is_still_a_page(tmp_path):
    """"8 00 R" is 8 0 R: the page it names is kept (it used to be dropped unseen)."""
    data = make_pdf({**TRICKY_OBJECTS, 2: b"<</Type/Pages/Kids[3 0 R 8 00 R]/Count 2>>"})
    assert pdfmerge.merge(tmp_path / "x.pdf", [data], []) == 2
    assert len(PdfReader(tmp_path / "x.pdf", strict=True).pages) == 2



COMMENT = "comment between a number and what follows it"


@pytest.mark.parametrize("contents,problem", [
    (b"4 %c\n0 R", COMMENT), (b"4%c\r0\n%d\nR", COMMENT), (b"4 0 %c\nR", COMMENT), (b"+4 %c\n0 R", COMMENT),
    (b"4 %c\n+0 R", COMMENT), (b"+4 0 R", "reference with a sign"), (b"4 -0 R", "reference with a sign"),
    (b"4\x0b0 R", "vertical tab outside a string")])
def test_a_reference_a_reader_sees_but_the_renumbering_would_not_is_refused(tmp_path, contents, problem):
    """A comment is whitespace to a reader: "4 %c<newline>0 R" refers to object 4, and so
    does "+4 0 R" (and, to some readers, "4<VT>0 R"). Copied without renumbering, a
    second part's page would show the first part's contents."""
    objects = {1: b"<</Type/Catalog/Pages 2 0 R>>",
               2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents " + contents + b"/Hex<31>%c 1 0 R\n>>",
               4: stream(b"BT /F1 12 Tf 20 100 Td (first) Tj ET")}
    with pytest.raises(PsetError, match=r"part 1 .*: cannot merge: .*" + problem):
        pdfmerge.merge(tmp_path / "merged.pdf", [make_pdf(objects)], [])
    assert list(tmp_path.iterdir()) == []
    for fine in (b"4 0 R", b"4 0 R/Font<</F1 %font 1\n5 0 R>>", b"4 0 R/K[3 0 R %p2\n%x\n6 0 R]",
                 b"4 0 R/N 1.5 %c\n0", b"4 0 R/A[-1 +2 3]/S(\x0b)"):  # comments after a name, an R
        # (whatever they say), a real; signed numbers that are no reference; a vertical tab in a string
        objects[3] = b"<</Type/Page/Parent 2 0 R/Contents " + fine + b">>"
        objects[5] = objects[6] = b"<<>>"
        assert pdfmerge.count_pages(make_pdf(objects)) == 1

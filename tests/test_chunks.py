"""The document typeset from one file per part (chunks.py) is the same PDF as the
standalone source, and the speed-ups around it keep results unchanged."""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import chunks, rules
from generator.export import answers_document, dumps
from generator.graphs import dag, mlp
from generator.pset import build_original, build_pset
from generator.render import compile_pdf, document_source
from generator.typst_text import string_literal

HOSTILE_NAME = 'Zoë "#read(\\"/m.typ\\")" $x$ // @part\n// @tail'


@pytest.mark.parametrize("build", [build_original, lambda: build_pset(3), lambda: build_pset(2024)],
                         ids=["original", "seed-3", "seed-2024"])
@pytest.mark.parametrize("key", [False, True], ids=["question", "key"])
def test_parts_give_the_same_pdf_as_the_standalone_source(build, key):
    source = document_source(build(), key=key, student_name=HOSTILE_NAME)
    assert compile_pdf(source, chunked=True) == compile_pdf(source, chunked=False)


def test_a_source_splits_into_main_macros_and_its_parts():
    source = document_source(build_pset(5), key=True)
    files = chunks.files(source)
    assert list(files)[:3] == ["main.typ", "m.typ", "b.typ"]
    parts = [name for name in files if name.startswith("p/")]
    assert len(parts) >= 10
    included = [line.split('"/')[1].strip().rstrip('"') for line in files["b.typ"].decode().split("\n\n") if line.strip()]
    assert set(included) == set(parts) and len(included) >= len(parts)  # a repeated part is listed twice
    main = files["main.typ"].decode()
    assert '#include "/b.typ"' in main and "#set document(" in main.split('#include "/b.typ"')[1]
    assert all(files[name].decode().startswith('#import "/m.typ": *') for name in parts)


def test_question_and_key_share_their_statement_parts():
    """What makes the key cheap: the statements it repeats are the question's own files."""
    ps = build_pset(11)
    question = chunks.files(document_source(ps, key=False))
    key = chunks.files(document_source(ps, key=True))
    shared = [n for n in question if n.startswith("p/") and n in key]
    assert len(shared) >= len([n for n in question if n.startswith("p/")]) // 2
    assert question["main.typ"].split(b"#include")[0] == key["main.typ"].split(b"#include")[0]


def test_a_name_cannot_forge_a_part_marker():
    """Free text is a string literal: a marker inside it never starts a line."""
    source = document_source(build_pset(1), key=False, student_name=HOSTILE_NAME)
    lines = source.splitlines()
    assert lines.count("// @tail") == 1
    assert not any(line.startswith("// @") and "Zo" in line for line in lines)


def test_markers_count_only_as_whole_lines_and_in_order():
    source = "pre\n// @macros\n#let x = 1\n// @body\nA // @part\nstill A\n// @part\nB\n// @tail\nend\n"
    preamble, macros, parts, tail = chunks.split(source)
    assert (preamble, macros, tail) == ("pre\n", "#let x = 1\n", "end\n")
    assert parts == ["A // @part\nstill A", "B"]
    with pytest.raises(ValueError, match="out of order"):
        chunks.split("// @body\nx\n// @macros\ny\n// @tail\n")
    with pytest.raises(ValueError, match="out of order"):
        chunks.split("// @macros\nx\n// @body\ny\n// @tail\nz\n// @tail\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["// @part\n", "// @body\n", "// @macros\n", "// @tail\n", "// @par\n", "\n",
                                 "x", "// ", "@part", "\r\n", " "]), max_size=30))
def test_marker_search_agrees_with_a_line_anchored_split(fragments):
    """The markers are found by their text and kept at line starts only: the same
    pieces as re.split with ^ in multiline mode (the plain definition)."""
    source = "".join(fragments)
    assert chunks._pieces(source) == re.split(r"^// @(macros|body|part|tail)\n", source, flags=re.MULTILINE)



def test_a_str_subclass_splits_as_a_str():
    class Source(str):
        pass

    source = "pre\n// @macros\nm\n// @body\nb\n// @tail\nend"
    assert chunks._pieces(Source(source)) == chunks._pieces(source)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["// @part\n", "// @part", "\n", "x", " ", "é", "\u00a0", "\u2028", "\x1c", "\x85",
                                 "\t", "李"]), max_size=30))
def test_the_utf8_bytes_split_as_the_text_does(fragments):
    """files() splits the encoded document: the same parts, blank ones (Unicode
    whitespace too) dropped alike."""
    source = "pre\n// @macros\nm\n// @body\n" + "".join(fragments) + "\n// @tail\nend"
    as_text = [x.encode("utf-8") if isinstance(x, str) else [p.encode("utf-8") for p in x]
               for x in chunks.split(source)]
    assert list(chunks._split(chunks._pieces(source.encode("utf-8")))) == as_text


def test_a_source_without_markers_compiles_as_one_file():
    assert chunks.files("Hello") is None
    assert compile_pdf("Hello").startswith(b"%PDF-")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_string_literal_fast_path_agrees_with_escaping_each_character(text):
    simple = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    slow = '"' + "".join(simple.get(ch, f"\\u{{{ord(ch):x}}}" if _control(ch) else ch) for ch in text) + '"'
    assert string_literal(text) == slow


def _control(ch: str) -> bool:
    import unicodedata
    return unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")


@pytest.mark.parametrize("seed", [0, 42, 999])
def test_answers_json_text_is_the_same_json(seed):
    doc = answers_document(build_pset(seed))
    text = dumps(doc)
    assert json.loads(text) == json.loads(json.dumps(doc))
    assert text.startswith('{\n "format": ') and text.endswith("}\n")


@pytest.mark.parametrize("family", [mlp.FAMILY, dag.FAMILY], ids=["mlp", "dag"])
def test_rules_split_at_the_first_gradient_rule(family):
    """The redraw loop checks the value rules before backward, the rest after: in the
    family's own order, so the first broken rule (and hence every draw) is unchanged."""
    before, after = rules.split_at_gradients(family.rules)
    assert before + after == family.rules
    assert not any(r in rules.GRADIENT_RULES for r in before)
    assert after and after[0] in rules.GRADIENT_RULES


def test_part_names_are_kept_for_the_same_text_and_recycled_within_a_bound():
    names = chunks.PartNames(capacity=8)
    first = [names.name(f"d{i}", set()) for i in range(8)]
    assert len(set(first)) == 8
    assert names.name("d3", set()) == first[3]               # the same text, the same file
    in_use = {names.name("new0", set())}                       # takes the oldest unused name (d0's)
    assert in_use == {first[0]}
    for i in range(1, 40):                                     # a long run stays within the bound
        in_use.add(names.name(f"new{i}", in_use) if len(in_use) < 8 else names.name(f"new{i}", set()))
    assert len({n for n in names.names.values()}) == len(names.names) <= 8
    doc = set()
    for i in range(12):                                        # one document with more parts than the bound
        doc.add(names.name(f"big{i}", doc))
    assert len(doc) == 12                                      # never two parts under one name

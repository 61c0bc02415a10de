"""answers.json's text (export.dumps) and its one-line form for answers.jsonl."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.export import answers_document, dumps, one_line
from generator.pset import build_pset

# JSON documents like answers.json's, and worse: strings with line breaks, quotes,
# commas and spaces (which one_line must leave alone), nesting deeper than dumps indents.
_scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(st.characters(), max_size=12)
            | st.sampled_from(["a,\n b", ",\n", "\n  }", '"x": [1,\n 2]', "\\n", "\u2028"]))
_documents = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _documents, max_size=5))
def test_one_line_is_what_json_dumps_writes(doc):
    text = dumps(doc)
    assert json.loads(text) == json.loads(json.dumps(doc))
    assert one_line(text) == json.dumps(doc, ensure_ascii=False, allow_nan=False)


def test_one_line_of_real_documents():
    for seed in (0, 42, 999):
        doc = answers_document(build_pset(seed), student_id="s\n1")
        text = dumps(doc)
        assert "\n " in text  # indented: the test is about something
        assert one_line(text) == json.dumps(doc, ensure_ascii=False, allow_nan=False)

"""The question PDF and the key, end to end, for several seeds."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typst

from generator.config import DEFAULT_CONFIG, config_from_dict
from generator.numfmt import rounded
from generator.outputs import pset_files
from generator.pset import build_original, build_pset
from generator import render
from generator.render import compile_pdf, render_pset
from pdftext import pdf_text, squashed

SEEDS = [0, 42, 2024, 987654321]
HEADINGS = ["Parameters vs. Hyper-Parameters", "Overfitting versus Underfitting",
            "Gradient Backpropagation on Computational Graphs", "Extra Credit"]


def numeric_cells(doc):
    """(question id, label, rounded text) for every numeric answer cell."""
    for q in doc["questions"]:
        if q["kind"] not in ("backprop", "output-backprop"):
            continue
        for label, v in q["answers"].items():
            for x in (v if isinstance(v, list) else [v]):
                yield q["id"], label, rounded(x, DEFAULT_CONFIG.decimals)


@pytest.fixture(scope="module", params=SEEDS)
def rendered(request):
    ps = build_pset(request.param)
    bundle = pset_files(ps)
    return ps, bundle, pdf_text(bundle.files[f"{ps.stem}.pdf"]), pdf_text(bundle.files[f"{ps.stem}-key.pdf"])


def test_question_pdf_has_every_question_and_table_header(rendered):
    ps, _, question, _ = rendered
    for heading in HEADINGS:
        assert heading in question
    for p in ps.problems:
        if p.kind == "backprop":
            for label in p.answers:
                if label not in ("Yhat", "L"):
                    assert squashed(label[0]) in squashed(question)
    assert ps.variant in question


def test_question_pdf_has_no_key_answers_and_key_has_them_all(rendered):
    ps, bundle, question, key = rendered
    q, k = squashed(question), squashed(key)
    cells = list(numeric_cells(bundle.answers))
    assert len(cells) > 25
    for qid, label, text in cells:
        assert text in k, (qid, label, text)
    # The question shows inputs and parameters exactly (2, -0.5), never to 4 decimals.
    leaks = [(qid, label, text) for qid, label, text in cells if text in q]
    assert not leaks


def test_same_seed_gives_byte_identical_pdfs():
    one, two = render_pset(build_pset(77)), render_pset(build_pset(77))
    assert one.question_pdf == two.question_pdf and one.key_pdf == two.key_pdf
    assert one.question_pdf != render_pset(build_pset(78)).question_pdf


def test_pdfs_identical_across_processes(tmp_path):
    for d in ("a", "b"):
        r = subprocess.run([sys.executable, "-m", "generator", "--seed", "31337", "--out", str(tmp_path / d)],
                           capture_output=True, text=True, env={"PYTHONHASHSEED": d == "a" and "1" or "2",
                                                                 "PATH": "/usr/bin:/bin"})
        assert r.returncode == 0, r.stderr
    for name in ("pset-31337.pdf", "pset-31337-key.pdf", "pset-31337-answers.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_original_key_shows_the_golden_values():
    r = render_pset(build_original())
    key = squashed(pdf_text(r.key_pdf))
    for value in ("0.6900", "1.1711", "-0.1380", "1.3799", "-0.6210", "0.2760",           # graph (a)
                  "0.3775", "0.9741", "-1.4524", "-0.4150", "2.4898", "-4.6684", "-0.9337",  # graph (b)
                  "0.6640", "1.3845", "0.9303"):                                           # extra credit (a)
        assert value in key, value
    assert "0.6900" not in squashed(pdf_text(r.question_pdf))


def test_hostile_course_text_is_shown_literally():
    hostile = '#read("/etc/passwd") $x^2$ *bold* _it_ @ref <lab> \\ "q" ] ) } #set page(width: 1cm)'
    cfg = config_from_dict({"course": {"name": hostile, "title": "PS #2 $$", "due": "*tomorrow*"}})
    r = render_pset(build_pset(3, cfg))
    text = pdf_text(r.question_pdf)
    assert squashed('#read("/etc/passwd")') in squashed(text)
    assert squashed("#set page(width: 1cm)") in squashed(text)
    assert "PS #2 $$" in text and "*tomorrow*" in text
    assert "root:" not in text


def test_emitted_typst_is_self_contained(tmp_path):
    bundle = pset_files(build_pset(5), emit_typ=True)
    src = bundle.files["pset-5-key.typ"].decode()
    assert "#import" not in src and "#include" not in src and "#read" not in src
    assert compile_pdf(src) == bundle.files["pset-5-key.pdf"]


def test_config_changes_reach_the_document():
    cfg = config_from_dict({"course": {"name": "CSCI 5922 Neural Nets", "due": "Oct 2"},
                            "points": {"q3": 20}, "questions": {"include": ["q1", "q3"]},
                            "format": {"decimals": 3}})
    r = render_pset(build_pset(9, cfg))
    q, k = pdf_text(r.question_pdf), pdf_text(r.key_pdf)
    assert "CSCI 5922 Neural Nets" in q and "Oct 2" in q and "[20 points]" in q
    assert "Overfitting" not in q and "Extra Credit" not in q
    assert "3 decimal places" in k


def test_the_compile_root_is_empty_and_left_behind_by_no_process():
    with pytest.raises(typst.TypstError) as e:
        render._compiler().compile(input=b'#read("/notes.txt")', format="pdf")
    searched = re.search(r"searched at (\S+?)\)?$", str(e.value).strip())
    assert "not found" in str(e.value) and searched, e.value
    assert not Path(searched.group(1)).parent.exists()     # the root folder itself is gone


def test_warm_up_compiles_every_template():
    env = render.environment()
    env.cache.clear()
    render.warm_up()
    cached = {name for _, name in env.cache.keys()}
    assert cached == set(env.list_templates(filter_func=lambda n: n.endswith(".j2"))) and cached

"""Questions 1 and 2: what each student draws, the curves behind the words, and the
Typst partials compiled to PDF (question and key), including hostile bank text."""
import io
import json
import types
import unicodedata

import jinja2
import numpy as np
import pytest
import typst
from pypdf import PdfReader

from generator import numfmt, typst_text
from generator.banks import load_bank
from generator.questions import fit_diagnosis, params_vs_hyper
from generator.resources import templates_dir
from generator.seeds import question_rng

SEEDS = range(300)
STAND_IN_FIG = types.SimpleNamespace(
    curves_plot=lambda epochs, train_loss, val_accuracy: "#box(width: 10cm, height: 3cm, stroke: 0.5pt)[]")
# hyphenate: false so that extracted words are whole; the real preamble may hyphenate.
PREAMBLE = """#set page(paper: "us-letter", margin: 1in)
#set text(size: 10.5pt, hyphenate: false)
#let solution(body) = block(fill: luma(235), inset: 8pt, body)
"""
PARTIALS = {params_vs_hyper.KIND: "questions/params-vs-hyper.typ.j2",
            fit_diagnosis.KIND: "questions/fit-diagnosis.typ.j2"}


def render_text(problems, key: bool, fig=STAND_IN_FIG) -> str:
    """Render the problems' partials into one minimal Typst document, compile it and return
    its text, squashed: NFKC (bold math letters become plain), no whitespace. The lead's
    render module replaces this harness."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(t=typst_text.text, exact=numfmt.exact)
    body = "\n\n".join(env.get_template(PARTIALS[p.kind]).render(p=p, key=key, cfg=None, fig=fig)
                       for p in problems)
    pdf = typst.compile((PREAMBLE + body).encode("utf-8"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return squash(text)


def squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


@pytest.fixture(scope="module")
def banks():
    return load_bank("params_vs_hyper"), load_bank("fit_scenarios")


def q1(seed, bank):
    return params_vs_hyper.generate("q1", question_rng(seed, "q1"), bank, 6.0)


def q2(seed, bank):
    return fit_diagnosis.generate("q2", question_rng(seed, "q2"), bank, 4.0)


def shown(row: dict) -> str:
    return row["item"] + (row["symbol"] or "")


# ---- Question 1: the draw ------------------------------------------------------------------

def test_table_is_six_distinct_items_mixing_both_kinds_in_random_order(banks):
    counts, first_labels = set(), set()
    for seed in SEEDS:
        rows = q1(seed, banks[0]).answers["b"]
        labels = [r["label"] for r in rows]
        assert len({r["item"] for r in rows}) == 6
        assert 2 <= labels.count("P") <= 4, labels
        counts.add(labels.count("P"))
        first_labels.add(tuple(labels[:3]))
    assert counts == {2, 3, 4}
    assert len(first_labels) == 8  # every P/HP pattern in the first three rows occurs


def test_labels_and_reasons_come_from_the_bank(banks):
    by_text = {it.text: it for it in banks[0].items}
    for seed in range(20):
        for row in q1(seed, banks[0]).answers["b"]:
            item = by_text[row["item"]]
            assert (row["label"], row["why"], row["symbol"]) == (item.label, item.why, item.symbol)


def test_draw_is_deterministic_per_seed_and_varies_across_seeds(banks):
    assert q1(11, banks[0]).answers == q1(11, banks[0]).answers
    tables = {tuple(r["item"] for r in q1(s, banks[0]).answers["b"]) for s in range(50)}
    assert len(tables) == 50


def test_part_c_examples_are_exactly_the_hyper_parameters_off_the_table(banks):
    all_hp = [it.text for it in banks[0].items if it.label == "HP"]
    for seed in range(50):
        a = q1(seed, banks[0]).answers
        on_table = {r["item"] for r in a["b"]}
        examples = [e["item"] for e in a["c"]]
        assert examples == [t for t in all_hp if t not in on_table]
        assert len(examples) >= 2


def test_answers_are_json_with_the_model_answer(banks):
    p = q1(3, banks[0])
    assert json.loads(json.dumps(p.answers, allow_nan=False)) == p.answers
    assert p.answers["a"] == banks[0].model_answer_a and p.kind == "params-vs-hyper"


def test_original_table_is_the_originals_six_rows_in_order(banks):
    p = params_vs_hyper.generate_original("q1", banks[0], 6.0)
    assert [(r["item"], r["symbol"], r["label"]) for r in p.answers["b"]] == [
        ("A weight matrix", "w", "P"), ("The learning rate", None, "HP"), ("A bias term", "b", "P"),
        ("The minibatch size", None, "HP"), ("The non-linear activation function", None, "HP"),
        ("The optimizer", None, "HP")]


# ---- Question 2: the draw ------------------------------------------------------------------

def test_one_scenario_of_each_diagnosis_in_either_order(banks):
    orders = set()
    for seed in SEEDS:
        a = q2(seed, banks[1]).answers
        orders.add((a["a"]["diagnosis"], a["b"]["diagnosis"]))
    assert orders == {("overfitting", "underfitting"), ("underfitting", "overfitting")}


def test_numbers_are_drawn_in_range_and_fill_every_sentence(banks):
    scenarios = {s.id: s for s in banks[1].scenarios}
    for seed in range(100):
        for part in q2(seed, banks[1]).context["parts"]:
            s = scenarios[part["scenario"]]
            assert {n: (lo, hi) for n, lo, hi in s.numbers}.keys() == part["numbers"].keys()
            for name, lo, hi in s.numbers:
                assert lo <= part["numbers"][name] <= hi
            for sentence in part["observations"] + [part["evidence"]]:
                assert "{" not in sentence and "}" not in sentence


def _check_train_loss(shape, args, loss, grid):
    diffs = np.diff(loss)
    assert (diffs <= 0).all(), "the training loss never rises"
    # Rounding to 3 decimals may tie neighbours; five points apart, "decreasing" is strict.
    decreasing_all_run = (np.diff(loss[::5]) < 0).all() and loss[-1] < loss[-6]
    if shape == "reaches_zero":
        at = grid.index(args["at"])
        assert loss[at] == 0 and all(v == 0 for v in loss[at:]) and loss[at - 1] > 0
    elif shape == "approaches_zero":
        assert loss[-1] < 0.02 * loss[0] and decreasing_all_run
    elif shape == "stays_high":
        assert loss[-1] >= 0.4 * loss[0] and decreasing_all_run
    elif shape == "plateaus_high":
        at = grid.index(args["at"])
        assert len(set(loss[at:])) == 1 and (np.diff(loss[:at:3]) < 0).all() and loss[-1] >= 0.4 * loss[0]
    else:
        raise AssertionError(f"no check for train_loss shape {shape}")


def _check_val_accuracy(shape, args, acc, grid):
    diffs = np.diff(acc)
    if shape == "rises_then_falls":
        peak = grid.index(args["peak"])
        assert int(np.argmax(acc)) == peak and (diffs[:peak] > 0).all() and (diffs[peak:] < 0).all()
        assert "top" not in args or acc[peak] == args["top"] / 100
        assert "final" not in args or acc[-1] == args["final"] / 100
    elif shape == "rises_slowly":
        assert (diffs > 0).all() and ("final" not in args or acc[-1] == args["final"] / 100)
    elif shape == "plateaus_low":
        at = grid.index(args["at"])
        # levels off smoothly: rounding may tie the last steps before the plateau
        assert (diffs[:at] >= 0).all() and (np.diff(acc[:at:3]) > 0).all() and len(set(acc[at:])) == 1
        assert "level" not in args or acc[-1] == args["level"] / 100
    else:
        raise AssertionError(f"no check for val_accuracy shape {shape}")


def test_curves_show_what_the_sentences_say(banks):
    scenarios = {s.id: s for s in banks[1].scenarios}
    seen = set()
    for seed in range(150):
        for part in q2(seed, banks[1]).context["parts"]:
            s, n, c = scenarios[part["scenario"]], part["numbers"], part["curves"]
            grid = c["epochs"]
            assert grid[0] == 0 and grid[-1] == n["epochs"] and grid == sorted(set(grid))
            assert len(grid) <= fit_diagnosis.MAX_POINTS
            assert len(c["train_loss"]) == len(c["val_accuracy"]) == len(grid)
            for v in c["train_loss"] + c["val_accuracy"]:
                assert v == round(v, 3) and 0 <= v
            assert all(v < 1 for v in c["val_accuracy"])
            _check_train_loss(s.train_loss.shape, {p: n[r] for p, r in s.train_loss.args}, c["train_loss"], grid)
            _check_val_accuracy(s.val_accuracy.shape, {p: n[r] for p, r in s.val_accuracy.args},
                                c["val_accuracy"], grid)
            seen.add(s.id)
    assert seen == set(scenarios)


def test_original_scenarios_read_word_for_word(banks):
    a = fit_diagnosis.generate_original("q2", banks[1], 4.0).answers
    assert a["a"]["diagnosis"] == "overfitting" and a["b"]["diagnosis"] == "underfitting"
    assert a["a"]["observations"] == [
        "The validation accuracy increases quickly during the first 5 epochs, then begins to decrease.",
        "The training loss decreases to zero during the first 10 epochs."]
    assert a["b"]["observations"] == [
        "The validation accuracy increases slowly during the entire training run of 100 epochs.",
        "The training loss decreases continually over the entire training run, but never approaches zero."]
    assert json.loads(json.dumps(a, allow_nan=False)) == a
    assert fit_diagnosis.generate_original("q2", banks[1], 4.0).context == \
        fit_diagnosis.generate_original("q2", banks[1], 4.0).context


# ---- the partials, compiled ----------------------------------------------------------------

def test_q1_question_shows_every_item_and_no_answers_the_key_shows_labels_and_reasons(banks):
    problems = [params_vs_hyper.generate_original("q1", banks[0], 6.0)] + [q1(s, banks[0]) for s in range(4)]
    question, key = render_text(problems, key=False), render_text(problems, key=True)
    for p in problems:
        for row in p.answers["b"]:
            assert squash(shown(row)) in question
            assert squash(row["why"]) not in question
            # the key's row: item, label, justification, in this order
            assert squash(shown(row) + row["label"] + row["why"]) in key
        assert squash(p.answers["c"][0]["why"]) in key and squash(p.answers["c"][0]["why"]) not in question
    assert squash(banks[0].model_answer_a) in key and squash(banks[0].model_answer_a) not in question
    assert squash("Define and explain the fundamental difference between parameters and hyper-parameters.") in question


def test_q2_question_shows_observations_the_key_adds_diagnosis_evidence_and_changes(banks):
    calls = []
    fig = types.SimpleNamespace(curves_plot=lambda *series: calls.append(series) or STAND_IN_FIG.curves_plot(*series))
    problems = [fit_diagnosis.generate_original("q2", banks[1], 4.0)] + [q2(s, banks[1]) for s in range(4)]
    question, key = render_text(problems, key=False, fig=fig), render_text(problems, key=True, fig=fig)
    for p in problems:
        for part in p.context["parts"]:
            for sentence in part["observations"]:
                assert squash(sentence) in question and squash(sentence) in key
            assert squash(part["evidence"]) not in question and squash(part["evidence"]) in key
            for change in part["changes"]:
                assert squash(change["what"] + change["why"]) in key
            assert (part["curves"]["epochs"], part["curves"]["train_loss"], part["curves"]["val_accuracy"]) in calls
    assert "Overfitting." not in question and "Overfitting." in key and "Underfitting." in key
    assert squash("Is the model overfitting or underfitting?") in question


def test_every_bank_item_and_scenario_is_drawn_and_rendered(banks):
    """Registry-wide: add an item or a scenario to a bank and this covers it unchanged."""
    want_items = {it.text for it in banks[0].items}
    want_scenarios = {s.id for s in banks[1].scenarios}
    chosen1, chosen2, got_items, got_scenarios = [], [], set(), set()
    for seed in range(500):
        p, r = q1(seed, banks[0]), q2(seed, banks[1])
        if {row["item"] for row in p.answers["b"]} - got_items:
            chosen1.append(p)
            got_items |= {row["item"] for row in p.answers["b"]}
        if {part["scenario"] for part in r.context["parts"]} - got_scenarios:
            chosen2.append(r)
            got_scenarios |= {part["scenario"] for part in r.context["parts"]}
    assert got_items == want_items and got_scenarios == want_scenarios
    text = render_text(chosen1 + chosen2, key=False)
    for p in chosen1:
        for row in p.answers["b"]:
            assert squash(shown(row)) in text
    for p in chosen2:
        for part in p.context["parts"]:
            assert all(squash(s) in text for s in part["observations"])


HOSTILE = ['#read("/etc/passwd")', "$x$ *b* _u_ @ref <l> `raw`", 'back\\slash "quoted" ] [ }',
           "// not a comment", "= not a heading", "#set text(red)", "\\u{41} #{1+1}"]


def _json(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def test_hostile_bank_text_appears_literally(tmp_path):
    from generator.resources import banks_dir
    p_text = (banks_dir() / "params_vs_hyper.toml").read_text(encoding="utf-8")
    edits = {'text = "A weight matrix"': f"text = {_json(HOSTILE[0])}",
             'text = "The learning rate"': f"text = {_json(HOSTILE[1])}",
             'why = "It is learned during training along with the weights, by gradient descent on the training loss."':
                 f"why = {_json(HOSTILE[2])}",
             'text = "The minibatch size"': f"text = {_json(HOSTILE[3])}",
             'text = "The dropout rate"': f"text = {_json(HOSTILE[6])}",
             'model_answer = """Parameters are': f'model_answer = """{HOSTILE[4]} Parameters are'}
    for old, new in edits.items():
        assert old in p_text
        p_text = p_text.replace(old, new)
    f_text = (banks_dir() / "fit_scenarios.toml").read_text(encoding="utf-8")
    edits = {"The training loss decreases to zero during the first {zero} epochs.":
             HOSTILE[5] + " {{x}} \\\\ {zero} epochs ]",
             "A training loss of zero means": HOSTILE[1] + " A training loss of zero means"}
    for old, new in edits.items():
        assert old in f_text
        f_text = f_text.replace(old, new)
    (tmp_path / "params_vs_hyper.toml").write_text(p_text, encoding="utf-8")
    (tmp_path / "fit_scenarios.toml").write_text(f_text, encoding="utf-8")
    p1 = params_vs_hyper.generate_original("q1", load_bank("params_vs_hyper", tmp_path), 6.0)
    p2 = fit_diagnosis.generate_original("q2", load_bank("fit_scenarios", tmp_path), 4.0)
    question, key = render_text([p1, p2], key=False), render_text([p1, p2], key=True)
    for text in (question, key):
        for s in (HOSTILE[0] + "w", HOSTILE[1], HOSTILE[3], HOSTILE[5] + "{x}\\10epochs]"):
            assert squash(s) in text
        assert "root:" not in text
    for s in (HOSTILE[2], HOSTILE[4], HOSTILE[6], HOSTILE[1] + "Atraining"):
        assert squash(s) in key

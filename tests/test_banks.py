"""Problem banks: the shipped banks load, and every kind of mistake an instructor can
make is one line naming the file, the entry (and its line) and what is wrong."""
import re

import pytest

from generator.banks import (BankError, CURVE_SHAPES, fill, load_bank, placeholders)
from generator.errors import PsetError
from generator.questions import fit_diagnosis
from generator.resources import banks_dir

P_FILE, F_FILE = "params_vs_hyper", "fit_scenarios"


def shipped(name: str) -> str:
    return (banks_dir() / f"{name}.toml").read_text(encoding="utf-8")


def load_edited(tmp_path, name: str, old: str, new: str, count: int = 1):
    """Load the shipped bank with `old` replaced by `new` (which must occur)."""
    text = shipped(name)
    assert old in text, f"test setup: {old!r} not in {name}.toml"
    (tmp_path / f"{name}.toml").write_text(text.replace(old, new, count), encoding="utf-8")
    return load_bank(name, tmp_path)


def error_of(tmp_path, name, old, new, count=1) -> str:
    with pytest.raises(BankError) as info:
        load_edited(tmp_path, name, old, new, count)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{name}.toml")
    return message


def line_of(text: str, needle: str) -> int:
    """1-based line of the [[item]] or [[scenario]] header of the entry holding `needle`."""
    headers = [m.start() for m in re.finditer(r"^\[\[(item|scenario)\]\]", text, re.M)]
    return text.count("\n", 0, max(h for h in headers if h < text.index(needle))) + 1


# ---- the shipped banks -----------------------------------------------------------------

def test_shipped_params_bank_meets_its_minimums():
    bank = load_bank(P_FILE)
    labels = [it.label for it in bank.items]
    assert len(labels) >= 20 and labels.count("P") >= 6 and labels.count("HP") >= 6
    assert sorted(it.original for it in bank.items if it.original) == [1, 2, 3, 4, 5, 6]
    assert bank.model_answer_a and "\n" not in bank.model_answer_a


def test_shipped_fit_bank_covers_both_diagnoses_and_the_original():
    bank = load_bank("fit_scenarios.toml")
    diagnoses = [s.diagnosis for s in bank.scenarios]
    assert diagnoses.count("overfitting") >= 2 and diagnoses.count("underfitting") >= 2
    assert sorted(s.original_part for s in bank.scenarios if s.original_part) == ["a", "b"]


def test_every_curve_shape_the_validator_allows_is_implemented():
    assert {w: set(s) for w, s in CURVE_SHAPES.items()} == {w: set(f) for w, f in fit_diagnosis.CURVES.items()}


def test_bank_error_is_a_pset_error():
    assert issubclass(BankError, PsetError)


# ---- Question 1 bank mistakes ----------------------------------------------------------

def test_missing_key_names_item_number_text_and_line(tmp_path):
    text = shipped(P_FILE)
    why = 'why = "It sets how strongly training is regularized'
    line = text[text.index("The dropout rate"):].index(why)
    msg = error_of(tmp_path, P_FILE, text[text.index("The dropout rate"):][line:].split("\n")[0] + "\n", "")
    number = len(re.findall(r"^\[\[item\]\]", text[:text.index("The dropout rate")], re.M))
    assert msg == (f'params_vs_hyper.toml line {line_of(text, "The dropout rate")}: item {number} '
                   f'("The dropout rate"): missing key "why"')


def test_misspelt_key_is_reported_with_a_suggestion(tmp_path):
    msg = error_of(tmp_path, P_FILE, 'label = "HP"\nwhy = "It sets how strongly', 'label = "HP"\nwhyy = "It sets how strongly')
    assert msg.endswith('item 13 ("The dropout rate"): unknown key "whyy" (did you mean "why"?)')


def test_unknown_key_is_an_error_not_ignored(tmp_path):
    msg = error_of(tmp_path, P_FILE, 'label = "HP"\nwhy = "It sets the size',
                   'label = "HP"\nsymbl = "x"\nwhy = "It sets the size')
    assert '("The learning rate"): unknown key "symbl" (did you mean "symbol"?)' in msg


@pytest.mark.parametrize("old, new, expected", [
    ('text = "The optimizer"\nlabel = "HP"', 'text = "The optimizer"\nlabel = "H"',
     'label must be "P" or "HP", got \'H\''),
    ('symbol = "w"', 'symbol = "wx"', "symbol must be one Latin or Greek letter, got 'wx'"),
    ('symbol = "w"', 'symbol = "$"', "symbol must be one Latin or Greek letter, got '$'"),
    ('original = 3', 'original = 1', "original row 1 is already item 1"),
    ('original = 3', 'original = 7', "original must be a row from 1 to 6, got 7"),
    ('original = 3', 'original = true', '"original" must be a whole number, got True'),
    ('text = "The optimizer"', 'text = "the  LEARNING rate"', "same text as item"),
    ('text = "The optimizer"', 'text = "   "', '"text" must be non-empty text'),
    ('why = "It is learned during training', 'why = 3 #', '"why" must be non-empty text'),
])
def test_item_values_are_validated(tmp_path, old, new, expected):
    assert expected in error_of(tmp_path, P_FILE, old, new)


def test_too_few_items_names_the_counts(tmp_path):
    text = shipped(P_FILE)
    cut = text.index('[[item]]\ntext = "The learning rate"')
    (tmp_path / "params_vs_hyper.toml").write_text(text[:cut], encoding="utf-8")
    with pytest.raises(BankError, match=r"^params_vs_hyper.toml: needs at least 20 items with at "
                                        r"least 6 of each label; has 8 \(8 P, 0 HP\)$"):
        load_bank(P_FILE, tmp_path)


def test_toml_syntax_error_keeps_line_and_column(tmp_path):
    text = shipped(P_FILE)
    line = text[:text.index('label = "HP"')].count("\n") + 1
    msg = error_of(tmp_path, P_FILE, 'label = "HP"', 'label "HP"')
    assert re.fullmatch(rf"params_vs_hyper.toml line {line}, column \d+: .+", msg), msg


def test_unknown_top_level_table_and_part_a_key(tmp_path):
    assert 'unknown key "part_b"' in error_of(tmp_path, P_FILE, "[part_a]", "[part_b]")
    msg = error_of(tmp_path, P_FILE, "model_answer =", "text =")
    assert msg == 'params_vs_hyper.toml: [part_a]: unknown key "text" (expected one of: model_answer)'


def test_unknown_bank_and_missing_file(tmp_path):
    with pytest.raises(BankError, match=r'^unknown problem bank "q9"'):
        load_bank("q9")
    with pytest.raises(BankError, match=r"^fit_scenarios.toml: problem bank not found in "):
        load_bank(F_FILE, tmp_path)


# ---- Question 2 bank mistakes ----------------------------------------------------------

@pytest.mark.parametrize("old, new, expected", [
    ("during the first {peak} epochs, then", "during the first {peek} epochs, then",
     'observation 1: placeholder "{peek}" names no number (numbers: peak, zero, epochs)'),
    ("during the first {peak} epochs, then", "during the first {peak epochs, then",
     "observation 1: "),
    ("during the first {peak} epochs, then", "during the first {peak.real} epochs, then",
     'observation 1: "{peak.real}" is not a placeholder'),
    ("during the first {peak} epochs, then", "during the first {peak:>3} epochs, then",
     "is not a placeholder"),
    ('numbers = { peak = [3, 8], zero = [9, 16], epochs = [25, 40] }',
     'numbers = { peak = [3, 8], zero = [9, 16], epochs = [25, 40], spare = [1, 2] }',
     'number "spare" is not used by any sentence or curve'),
    ('zero = [9, 16], epochs = [25, 40] }', 'zero = [9, 30], epochs = [25, 40] }',
     'train_loss: at = "zero" can reach 30, not below the smallest epochs 25'),
    ('zero = [9, 16], epochs = [25, 40] }', 'zero = [9, 16] }',
     '"numbers" needs "epochs"'),
    ('zero = [9, 16], epochs', 'zero = [16, 9], epochs', 'number "zero" needs 1 <= min <= max, got [16, 9]'),
    ('zero = [9, 16], epochs', 'zero = [9.5, 16], epochs', '"zero" must be a whole number, got 9.5'),
    ('{ shape = "reaches_zero", at = "zero" }', '{ shape = "reach_zero", at = "zero" }',
     "train_loss: \"shape\" must be one of reaches_zero, approaches_zero, stays_high, plateaus_high, got 'reach_zero'"),
    ('{ shape = "reaches_zero", at = "zero" }', '{ shape = "reaches_zero", at = "zero", peak = "peak" }',
     'train_loss: unknown key "peak"'),
    ('{ shape = "reaches_zero", at = "zero" }', '{ shape = "reaches_zero" }',
     'train_loss: missing key "at"'),
    ('diagnosis = "overfitting"', 'diagnosis = "overfit"', 'diagnosis must be "overfitting" or "underfitting"'),
    ('original = { part = "a", peak = 5,', 'original = { part = "a", peak = 50,',
     "original: peak = 50 is outside its range [3, 8]"),
    ('original = { part = "a", peak = 5, zero = 10, epochs = 30 }', 'original = { part = "c", peak = 5, zero = 10, epochs = 30 }',
     'original: part must be "a" or "b"'),
    ('id = "best-then-drop"', 'id = "peak-then-decline"', 'id "peak-then-decline" is already scenario 1'),
    ('top = [78, 92], final = [60, 72]', 'top = [78, 92], final = [60, 80]',
     'val_accuracy: "final" must stay below "top"'),
    ('top = [78, 92]', 'top = [78, 120]', 'top = "top" is a percentage and must stay within 1..99'),
])
def test_scenario_values_are_validated(tmp_path, old, new, expected):
    assert expected in error_of(tmp_path, F_FILE, old, new)


def test_scenario_error_names_number_id_and_line(tmp_path):
    text = shipped(F_FILE)
    msg = error_of(tmp_path, F_FILE, 'what = "Increase the learning rate (carefully)."', 'wat = "x"')
    line = line_of(text, 'id = "slow-climb"')
    assert msg == (f'fit_scenarios.toml line {line}: scenario 4 ("slow-climb"): change 1: '
                   'unknown key "wat" (did you mean "what"?)')


def test_too_few_scenarios_of_a_diagnosis(tmp_path):
    msg = error_of(tmp_path, F_FILE, 'diagnosis = "underfitting"', 'diagnosis = "overfitting"', count=2)
    assert msg == ("fit_scenarios.toml: needs at least 2 scenarios of each diagnosis; "
                   "has 5 overfitting, 1 underfitting")


def test_too_few_changes_and_observations(tmp_path):
    text = shipped(F_FILE)
    start = text.index('[[scenario.change]]\nwhat = "Stop training at about epoch')
    end = text.index('[[scenario.change]]\nwhat = "Increase the weight decay coefficient."')
    (tmp_path / "fit_scenarios.toml").write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(BankError, match=r'scenario 2 \("best-then-drop"\): needs at least two'):
        load_bank(F_FILE, tmp_path)
    msg = error_of(tmp_path, F_FILE, '  "The training loss decreases to zero during the first {zero} epochs.",\n', "")
    assert '"observations" must be a list of two or three sentences' in msg


# ---- placeholders --------------------------------------------------------------------------

def test_fill_replaces_names_and_keeps_doubled_braces():
    assert fill("peak at {peak} of {epochs} {{sic}}", {"peak": 5, "epochs": 30}) == "peak at 5 of 30 {sic}"
    assert placeholders("{a} and {b_2} {{x}}") == ["a", "b_2"]


@pytest.mark.parametrize("bad", ["{0}", "{a.__class__}", "{a[0]}", "{a!r}", "{a:>5}", "{", "}", "{A}"])
def test_placeholders_reject_anything_but_plain_names(bad):
    with pytest.raises(ValueError):
        placeholders(bad)

"""course.toml: every key checked, one line naming the bad one, exit code 2."""
import subprocess
import sys

import pytest

from generator.config import DEFAULT_CONFIG, config_from_dict, load_config
from generator.errors import PsetError
from generator.pset import build_pset


def test_defaults_reproduce_the_originals_points_and_questions():
    assert DEFAULT_CONFIG.points == {"q1": 6.0, "q2": 4.0, "q3": 15.0, "ec": 2.5}
    ps = build_pset(1)
    assert [s.key for s in ps.sections()] == ["q1", "q2", "q3", "ec"]
    assert ps.points_text() == "25" and ps.extra_points() == 2.5


def test_a_full_config_loads(tmp_path):
    path = tmp_path / "course.toml"
    path.write_text('''
[course]
name = "Intro to DL"
number = "CSCI 5922"
title = "Homework 2"
due = "Oct 2"
[questions]
include = ["q3", "ec", "q1"]
[points]
q3 = 20
[format]
decimals = 3
[mlp]
inputs = [3]
hidden = [2]
layers = [1, 2]
leaky_slope = 0.2
[dag]
hidden = [4]
[values]
min = -2
max = 2
step = 0.5
[grading]
rtol = 0.02
follow_through = 0.5
''', encoding="utf-8")
    cfg = load_config(path)
    assert cfg.questions == ("q1", "q3", "ec") and cfg.points["q3"] == 20 and cfg.decimals == 3
    assert cfg.options.leaky_alpha == 0.2 and cfg.options.mlp_layers == (1, 2) and cfg.options.value_max == 2
    assert cfg.grading_config().rtol == 0.02 and cfg.grading_config().follow_through == 0.5
    ps = build_pset(3, cfg)
    a = ps.problem("q3a").graph
    assert sum(1 for n in a.nodes if a.nodes[n]["op"] == "input") == 3
    assert all(a.nodes[n]["alpha"] == 0.2 for n in a.nodes if a.nodes[n]["op"] == "leaky_relu")
    assert all(-2 <= a.nodes[n]["value"] <= 2 for n in a.nodes if a.nodes[n]["op"] in ("input", "param"))
    b = ps.problem("q3b").graph
    assert sorted(n for n in b.nodes if b.nodes[n]["role"] == "hidden") == ["H1", "H2", "H3", "H4"]


@pytest.mark.parametrize("data, words", [
    ({"mlp": {"hiden": [2]}}, "[mlp].hiden is not a known key"),
    ({"colour": {}}, "unknown table [colour]"),
    ({"points": {"q1": "six"}}, "[points].q1 must be a number"),
    ({"points": {"q1": -1}}, "[points].q1 must be a number from 0 to 1000"),
    ({"questions": {"include": ["q5"]}}, "[questions].include must list"),
    ({"questions": {"include": ["ec"]}}, "include q3 too"),
    ({"format": {"decimals": 0}}, "[format].decimals must be a whole number from 1 to 8"),
    ({"mlp": {"leaky_slope": 1.5}}, "[mlp].leaky_slope must be between 0 and 1"),
    ({"mlp": {"inputs": [7]}}, "[mlp].inputs must be a list of whole numbers from 1 to 4"),
    ({"values": {"min": 3, "max": -3}}, "[values].min must be below [values].max"),
    ({"values": {"step": 5}}, "fewer than 4 non-zero values"),
    ({"course": {"name": 5}}, "[course].name must be a string"),
    ({"grading": {"rtol": "x"}}, "[grading].rtol"),
])
def test_bad_values_name_the_key(data, words):
    with pytest.raises(PsetError) as e:  # ConfigError, or the grader's own PsetError for [grading]
        config_from_dict(data, "course.toml")
    message = str(e.value)
    assert words in message and "\n" not in message


def test_cli_bad_config_is_one_line_exit_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "course.toml"
    bad.write_text("[mlp]\nhiden = [2]\n", encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text("[mlp\n", encoding="utf-8")
    for path, words in ((bad, "hiden"), (broken, "broken.toml"), (tmp_path / "missing.toml", "no such config")):
        r = subprocess.run([sys.executable, "-m", "generator", "--seed", "1", "--config", str(path),
                            "--out", str(tmp_path / "out")], capture_output=True, text=True)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr
        assert not (tmp_path / "out").exists()


def test_a_step_with_no_exact_binary_form_gives_short_values():
    """[values] step = 0.3: 9 * 0.3 is 2.6999999999999997 in floating point, which
    answers.json (and the grader's key) would carry; the grid's values are rounded."""
    from generator.export import answers_document
    config = config_from_dict({"values": {"step": 0.3}})
    seen = set()
    for seed in range(30):
        doc = answers_document(build_pset(seed, config))
        for q in doc["questions"]:
            for n in (q.get("graph") or {}).get("nodes", []):
                if n["op"] in ("input", "param"):
                    seen.add(n["value"])
                    assert len(repr(n["value"])) <= 5 and abs(n["value"] / 0.3 - round(n["value"] / 0.3)) < 1e-9
    assert len(seen) >= 10

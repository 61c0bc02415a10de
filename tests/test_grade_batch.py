"""grade-pset on a real roster batch: submissions built from the batch's answers.csv."""
import csv
import hashlib
import json
import random

import pytest

from generator.batch import BatchRequest, run_batch
from generator.config import DEFAULT_CONFIG
from generator.grade_cli import main as grade_main


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    d = tmp_path_factory.mktemp("grade-batch")
    roster = d / "roster.csv"
    roster.write_text("id,name\ns1,Ada\ns2,Grace\ns3,Alan\ns4,Edsger\n", encoding="utf-8")
    # A fixed secret, so the students' numbers (and the test) are the same on every run:
    # the shifted submission below is random per cell, and with some students' numbers two
    # shifted cells happen to agree within tolerance and earn follow-through credit
    # (about one random secret in twenty pushes s3 past 10% that way).
    (d / "course.secret").write_text(hashlib.sha256(b"test_grade_batch").hexdigest() + "\n", encoding="ascii")
    run_batch(BatchRequest(roster, d / "course.secret", d / "out", DEFAULT_CONFIG, jobs=2))
    return d


def _answers(out):
    by_student = {}
    with open(out / "answers.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            col = f"{row['question']}.{row['label']}" + (f"[{row['index']}]" if row["index"] else "")
            by_student.setdefault(row["student_id"], {})[col] = float(row["value"])
    return by_student


def _grades(d, rows, name):
    sheet = d / f"{name}.csv"
    columns = sorted({c for r in rows for c in r if c != "student_id"})
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["student_id"] + columns)
        w.writeheader()
        w.writerows(rows)
    grade_main(["--key", str(d / "out"), "--submissions", str(sheet), "--out", str(d / f"{name}-grades.csv")])
    with open(d / f"{name}-grades.csv", newline="", encoding="utf-8") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


def test_exact_rounded_shifted_missing_and_unknown(batch, capsys):
    key = _answers(batch / "out")
    assert set(key) == {"s1", "s2", "s3", "s4"}
    rng = random.Random(5)
    rows = [{"student_id": "s1", **{c: repr(v) for c, v in key["s1"].items()}},
            {"student_id": "s2", **{c: f"{v:.3f}" for c, v in key["s2"].items()}},
            {"student_id": "s3", **{c: f"{v * rng.uniform(1.2, 1.6) + rng.uniform(0.1, 0.4):.4f}"
                                    for c, v in key["s3"].items()}},
            {"student_id": "nobody", "q3a.Yhat": "0.5"}]
    grades = _grades(batch, rows, "mixed")
    out = capsys.readouterr().out
    assert "1 missing" in out and "1 unknown" in out
    for sid in ("s1", "s2"):  # full marks, extra credit on top of "possible"
        assert float(grades[sid]["total"]) == pytest.approx(float(grades[sid]["possible"]) + DEFAULT_CONFIG.points["ec"])
    assert float(grades["s3"]["total"]) < 0.1 * float(grades["s3"]["possible"])
    assert float(grades["s4"]["total"]) == 0
    report = (batch / "grading-report.txt").read_text(encoding="utf-8")
    assert "s4" in report and "nobody" in report
    assert (batch / "feedback").is_dir()


def test_one_wrong_cell_carried_through_loses_only_that_cell(batch):
    """Change Yhat; recompute L from it the way the student would: only Yhat is wrong."""
    import math
    key = _answers(batch / "out")
    doc_target = None
    import json
    for line in (batch / "out" / "answers.jsonl").read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        if doc["student_id"] == "s1":
            q = next(q for q in doc["questions"] if q["id"] == "q3b")
            doc_target = q["graph"]["nodes"][-1]["target"]
    cells = dict(key["s1"])
    yhat = cells["q3b.Yhat"] + 0.05
    cells["q3b.Yhat"] = yhat
    cells["q3b.L"] = -doc_target * math.log(yhat) - (1 - doc_target) * math.log(1 - yhat)
    grades = _grades(batch, [{"student_id": "s1", **{c: repr(v) for c, v in cells.items()}}], "carried")
    per_cell = float(grades["s1"]["q3b"])
    exact = _grades(batch, [{"student_id": "s1", **{c: repr(v) for c, v in key["s1"].items()}}], "exact")
    n_cells = sum(1 for c in key["s1"] if c.startswith("q3b."))
    lost = float(exact["s1"]["q3b"]) - per_cell
    assert lost == pytest.approx(float(exact["s1"]["q3b"]) / n_cells, abs=1e-3)  # grades.csv has 4 decimals


def test_an_id_in_another_unicode_normalization_is_the_same_student(tmp_path):
    """The key has 'José' with é as one code point; a sheet saved on macOS writes it as
    e + a combining accent: the same student, graded, not unknown and missing."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nJos\u00e9,J\ns2,S\n", encoding="utf-8")
    (tmp_path / "course.secret").write_text(hashlib.sha256(b"nfc").hexdigest() + "\n", encoding="ascii")
    run_batch(BatchRequest(roster, tmp_path / "course.secret", tmp_path / "out", DEFAULT_CONFIG, jobs=1))
    key = _answers(tmp_path / "out")
    grades = _grades(tmp_path, [{"student_id": "Jose\u0301", **{c: repr(v) for c, v in key["Jos\u00e9"].items()}}],
                     "nfd")
    assert set(grades) == {"Jos\u00e9", "s2"}
    assert float(grades["Jos\u00e9"]["total"]) >= float(grades["Jos\u00e9"]["possible"]) > 0
    assert float(grades["s2"]["total"]) == 0
    report = (tmp_path / "grading-report.txt").read_text(encoding="utf-8")
    assert "Jose\u0301" not in report   # not listed as unknown


def test_an_id_matching_two_key_ids_but_for_normalization_is_unknown_and_says_why(tmp_path):
    """A key from before rosters refused such ids holds one id in two normalizations: a
    sheet that writes it a third way cannot be told apart, so it is not graded, and the
    report shows its code points instead of an id that looks like both."""
    precomposed, decomposed, third = "\u1e69x", "s\u0323\u0307x", "s\u0307\u0323x"   # all NFC "ṩx"
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id,name\n{precomposed},P\nb2,B\n", encoding="utf-8")
    (tmp_path / "course.secret").write_text(hashlib.sha256(b"nfc").hexdigest() + "\n", encoding="ascii")
    run_batch(BatchRequest(roster, tmp_path / "course.secret", tmp_path / "out", DEFAULT_CONFIG, jobs=1))
    for name, old, new in (("manifest.csv", "\nb2,", f"\n{decomposed},"),   # b2 becomes the other form
                           ("answers.jsonl", '"b2"', json.dumps(decomposed))):
        path = tmp_path / "out" / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    cells = {c: repr(v) for c, v in _answers(tmp_path / "out")[precomposed].items()}
    grades = _grades(tmp_path, [{"student_id": third, **cells}], "ambiguous")
    assert float(grades[precomposed]["total"]) == float(grades[decomposed]["total"]) == 0
    report = (tmp_path / "grading-report.txt").read_text(encoding="utf-8")
    assert (f"{third!r} 's\\u0307\\u0323x', the same text as 2 students' ids in other Unicode normalizations "
            "('\\u1e69x', 's\\u0323\\u0307x'): write it exactly as one of them") in report

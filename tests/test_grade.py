"""grade-pset: parsing, tolerance, follow-through, batch outputs, CLI."""
import csv
import hashlib
import json
import math

import pytest

from generator.errors import PsetError
from generator.export import answers_document
from generator.grade_cli import main
from generator.grading import (GradingConfig, answer_sheet_columns, grade_batch, grade_submission,
                               parse_number, write_answer_sheet)
from generator.grading.numbers import NumberError
from generator.grading.sheet import question_cells
from generator.grading.synthetic import (build_key_dir, key_cells, mapped, rounded_student, student_id,
                                         write_submissions)
from generator.pset import build_pset

SEEDS = range(150)
CFG = GradingConfig()


@pytest.fixture(scope="module")
def docs():
    return [answers_document(build_pset(s), student_id=student_id(s)) for s in SEEDS]


def texts(cells):
    return {k: repr(v) for k, v in cells.items()}


def score(doc, cells, cfg=CFG):
    g = grade_submission(doc, cells, cfg)
    return g, sum(q.points for q in g.questions), sum(q.points_possible for q in g.questions)


@pytest.mark.parametrize("text,value", [("-0.62", -0.62), ("\u22120.62", -0.62), ("6.2e-1", 0.62), (".62", 0.62),
                                        ("1/2", 0.5), ("  -3 / 4 ", -0.75), ("+2", 2.0), ("\u00a00.5\t", 0.5),
                                        ("- 0.62", -0.62), ("\u2212 3/4", -0.75), ("0.62\u200b", 0.62),
                                        ("\u200e-0.5", -0.5), ("\ufeff1.5", 1.5), ("\u202b 0.25\u202c", 0.25)])
def test_parse_number_accepts_what_students_type(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text,why", [("0,62", "comma"), ("~0.6", "approximate"), ("abc", "not a number"),
                                      ("inf", "not a number"), ("nan", "not a number"), ("1/0", "zero"),
                                      ("1/2/3", "fraction"), ("0.6.2", "not a number"), ("62%", "percentage"),
                                      ("1e999", "too large"), ("", "no answer"),
                                      ("\u200b", "no answer"), ("3 - 1", "not a number"), ("--1", "not a number"),
                                      ("1e300/1e-300", "too large"), ("\u00ad0.62", "not a number"),
                                      ("1\u20630", "not a number"), ("1\u200b0", "not a number")])
def test_parse_number_refuses_ambiguous_with_reason(text, why):
    with pytest.raises(NumberError, match=why):
        parse_number(text)


def test_columns_follow_table_order(docs):
    cols = answer_sheet_columns(docs[0])
    q3a = next(q for q in docs[0]["questions"] if q["id"] == "q3a")
    expected = []
    for label, v in q3a["answers"].items():
        expected += [f"q3a.{label}[{i}]" for i in range(1, len(v) + 1)] if isinstance(v, list) else [f"q3a.{label}"]
    assert cols[:len(expected)] == expected
    assert cols[0] == "q3a.Yhat" and "q3a.W3[1]" in cols or "q3a.W4[1]" in cols


def test_write_answer_sheet_union_of_columns(tmp_path, docs):
    path = tmp_path / "answer-sheet.csv"
    cols = write_answer_sheet(path, [(student_id(s), f"N{s}", d) for s, d in zip(SEEDS[:30], docs[:30])])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["student_id", "name"] + cols and len(rows) == 31
    for d in docs[:30]:
        own = answer_sheet_columns(d)
        assert [c for c in cols if c in own] == own  # each student's order survives the merge
    assert all(cell == "" for row in rows[1:] for cell in row[2:])


@pytest.mark.parametrize("decimals,round_local", [(3, False), (4, False), (4, True)])
def test_exact_and_rounding_students_score_full(docs, decimals, round_local):
    no_follow = GradingConfig(follow_through=0.0)  # full marks must not rely on follow-through
    for d in docs:
        for cells in (key_cells(d), {k: round(v, 3) for k, v in key_cells(d).items()},
                      rounded_student(d, decimals, round_local)):
            g, got, possible = score(d, texts(cells), no_follow)
            assert got == pytest.approx(possible), (d["seed"], [(c.cell.column, c.verdict) for q in g.questions
                                                                for c in q.cells if c.verdict != "correct"])


def per_cell_affine(seed):
    def f(col, v):
        h = hashlib.sha256(f"{seed}:{col}".encode()).digest()
        return (1.2 + 0.4 * h[0] / 255) * v + (0.1 + 0.3 * h[1] / 255)
    return f


def test_scaled_and_shifted_scores_near_zero(docs):
    got = possible = 0.0
    uniform = 0.0
    for d in docs:
        _, g1, p = score(d, texts(mapped(d, per_cell_affine(d["seed"]))))
        _, g2, _ = score(d, texts(mapped(d, lambda c, v: 1.37 * v + 0.21)))
        got, possible, uniform = got + g1, possible + p, uniform + g2
    assert got / possible < 0.05
    # One map for every cell keeps the copy relations (dL/dB1 = dL/dH1), which earn
    # follow-through as they should; nothing else survives.
    assert uniform / possible < 0.25


def chain_carried(doc, qid, bad_cell, delta):
    """The key's cells for one question with bad_cell off by delta, carried by the chain
    rule through every cell computed from it (recomputed with the key's local derivatives)."""
    q = next(q for q in doc["questions"] if q["id"] == qid)
    nodes = {n["name"]: n for n in q["graph"]["nodes"]}
    from generator.engine import OPS
    grads = {n: nodes[n]["grad"] for n in nodes}
    grads[bad_cell] += delta
    order = [n["name"] for n in q["graph"]["nodes"]]
    fixed = {bad_cell} | {"L", "Yhat"}
    for name in reversed(order[:order.index(bad_cell)]):
        total = 0.0
        for c in order:
            n = nodes[c]
            for pos, a in enumerate(n["args"]):
                if a == name:
                    total += OPS[n["op"]].local([nodes[x]["value"] for x in n["args"]], n["value"], n)[pos] * grads[c]
        grads[name] = total if name not in fixed else grads[name]
    cells = key_cells(doc)
    for col in cells:
        if col.startswith(qid + ".") and col.split(".", 1)[1] not in ("Yhat", "L"):
            cells[col] = grads[col.split(".", 1)[1]]
    return cells


@pytest.mark.parametrize("qid,cell", [("q3a", "H1"), ("q3b", "H5"), ("q3b", "H3")])
def test_one_wrong_cell_carried_loses_only_that_cell(docs, qid, cell):
    checked = 0
    for d in docs[:60]:
        q = next(q for q in d["questions"] if q["id"] == qid)
        if cell not in q["answers"] or abs(q["answers"][cell]) < 0.01:
            continue
        cells = chain_carried(d, qid, cell, delta=0.5)
        g, got, possible = score(d, texts(cells))
        qg = next(x for x in g.questions if x.id == qid)
        wrong = [c for c in qg.cells if c.verdict == "wrong"]
        assert [c.cell.name for c in wrong] == [cell], d["seed"]
        assert got == pytest.approx(possible - wrong[0].points_possible)
        ft = [c for c in qg.cells if c.verdict == "follow-through"]
        assert ft and all(c.sources for c in ft)
        half = GradingConfig(follow_through=0.5)
        _, got_half, _ = score(d, texts(cells), half)
        assert got_half == pytest.approx(possible - wrong[0].points_possible
                                         - 0.5 * sum(c.points_possible for c in ft))
        checked += 1
    assert checked >= 10


def _bias_anchored(q):
    """(node without a cell, its bias cell): an add node with a parameter read nowhere else."""
    nodes = q["graph"]["nodes"]
    readers = {}
    for n in nodes:
        for a in n["args"]:
            readers.setdefault(a, []).append(n["name"])
    for n in nodes:
        if n["name"] in q["answers"] or n["op"] != "add" or abs(n["grad"]) < 0.01:
            continue
        bias = [a for a in n["args"] if a in q["answers"] and readers[a] == [n["name"]]
                and next(m for m in nodes if m["name"] == a)["op"] == "param"]
        if bias:
            yield n["name"], bias[0]


@pytest.mark.parametrize("qid", ["q3a"])   # q3b's add nodes are all cells
def test_a_slip_at_a_node_without_a_cell_costs_one_cell(docs, qid):
    """dL/dZ3 of the output unit is no cell: a student who slips there makes every cell
    below wrong, each consistent with their own dL/dZ3, which their B3 shows (dL/dB3 =
    dL/dZ3). B3, the node's anchor, pays; the rest earn follow-through from it."""
    checked = set()
    for d in docs[:60]:
        q = next(q for q in d["questions"] if q["id"] == qid)
        for node, bias in _bias_anchored(q):
            cells = chain_carried(d, qid, node, delta=0.37)
            g, got, possible = score(d, texts(cells))
            qg = next(x for x in g.questions if x.id == qid)
            changed = [c for c in qg.cells if not CFG.close(cells[c.cell.column], c.cell.expected)]
            wrong = [c.cell.name for c in qg.cells if c.verdict == "wrong"]
            assert wrong == [bias], (d["seed"], node, wrong)
            assert all(c.sources for c in changed if c.verdict == "follow-through")
            assert got == pytest.approx(possible - next(c.points_possible for c in qg.cells if c.cell.name == bias))
            checked.add((d["seed"], node, sum(c.verdict == "follow-through" for c in changed)))
    assert len(checked) >= 20 and sum(ft > 1 for _, _, ft in checked) >= 10

def test_a_gradient_is_never_read_off_a_weight_times_a_small_activation(docs):
    """dL/dW = A * dL/dZ: reading dL/dZ off a weight cell divides its rounding by A, and
    with A = -0.025 a hidden cell 3 % off, every other cell right to 3 decimals, was
    taken for consistent with it (18 such cells in these 60 seeds)."""
    checked = 0
    for d in docs[:60]:
        q = next(q for q in d["questions"] if q["id"] == "q3a")
        cells = {col: round(v, 3) for col, v in key_cells(d).items()}
        nodes = {n["name"]: n for n in q["graph"]["nodes"]}
        activation = {w: nodes[next(a for a in n["args"] if a != w)]["value"]   # W -> the A it multiplies
                      for n in nodes.values() if n["op"] == "mul" for w in n["args"] if w.startswith("W")}
        for name, expected in q["answers"].items():
            if not name.startswith("H"):
                continue
            for factor in (1.03, 0.97, 1.06):
                off = dict(cells)
                off[f"q3a.{name}"] = round(expected * factor, 3)
                if CFG.close(off[f"q3a.{name}"], expected):
                    continue
                g = grade_submission(d, texts(off), CFG)
                r = next(c for c in g.questions[0].cells if c.cell.name == name)
                if r.verdict in ("consistent", "follow-through"):
                    assert all(abs(activation[s]) >= 1 for s in r.sources if s in activation), (d["seed"], name, r.sources)
                checked += 1
    assert checked >= 200


def test_a_huge_cell_earns_no_other_cell_credit(docs):
    """1.7e308 times a local derivative overflows: the chain rule gave inf, and inf was
    within an infinite tolerance (996 cells credited in 30 seeds)."""
    checked = 0
    for d in docs[:10]:
        for q in d["questions"]:
            grads = [c for c in question_cells(q) if not c.is_value]
            for c in grads:
                sub = {x.column: "7" for x in grads}
                sub[c.column] = "-1.7e308" if c.expected > 0 else "1.7e308"
                for qg in grade_submission(d, sub, CFG).questions:
                    for r in qg.cells:
                        if r.verdict in ("consistent", "follow-through"):
                            assert math.isfinite(r.recomputed) and abs(r.recomputed) < 1e6, (d["seed"], c.column, r.cell.column)
                checked += 1
    assert checked >= 200


def test_loss_and_output_gradient_follow_students_yhat(docs):
    d = docs[0]
    q = next(x for x in d["questions"] if x["id"] == "q3a")
    y = q["graph"]["nodes"][-1]["target"]
    cells = key_cells(d)
    bad_yhat = cells["q3a.Yhat"] * 0.8
    import math
    cells["q3a.Yhat"] = bad_yhat
    cells["q3a.L"] = -y * math.log(bad_yhat) - (1 - y) * math.log(1 - bad_yhat)
    cells["q3a.B3"] = bad_yhat - y
    g = grade_submission(d, texts(cells), CFG)
    verdicts = {c.cell.name: (c.verdict, c.sources) for c in g.questions[0].cells}
    assert verdicts["Yhat"][0] == "wrong"
    assert verdicts["L"] == ("follow-through", ("Yhat",))
    assert verdicts["B3"] == ("follow-through", ("Yhat",))


def test_garbage_cells_score_zero_with_reasons(docs):
    d = docs[1]
    cells = texts(key_cells(d))
    cells["q3a.Yhat"], cells["q3b.L"], cells["ec-a.Z3"] = "0,62", "~0.6", "about half"
    g = grade_submission(d, cells, CFG)
    bad = {c.cell.column: c for q in g.questions for c in q.cells if c.verdict != "correct"}
    assert set(bad) == {"q3a.Yhat", "q3b.L", "ec-a.Z3"}
    assert all(c.verdict == "unreadable" and c.points == 0 and c.reason for c in bad.values())
    assert "comma" in bad["q3a.Yhat"].reason


def test_config_table_validation():
    cfg = GradingConfig.from_table({"rtol": 0.02, "atol": 0.001, "follow_through": 0.5,
                                    "cell_points": {"Yhat": 1, "q3a.L": 0.5}}, "course.toml")
    assert (cfg.rtol, cfg.follow_through, cfg.cell_points["Yhat"]) == (0.02, 0.5, 1.0)
    for table, key in (({"rtl": 1}, "[grading].rtl"), ({"rtol": "x"}, "[grading].rtol"),
                       ({"follow_through": 2}, "[grading].follow_through"), ({"atol": True}, "[grading].atol"),
                       ({"cell_points": {"q3a.Yhat": -1}}, "[grading].cell_points")):
        with pytest.raises(PsetError, match=r"course\.toml: " + key.replace("[", r"\[").replace("]", r"\]")):
            GradingConfig.from_table(table, "course.toml")


def test_cell_points_override(docs):
    d = docs[2]
    cfg = GradingConfig(cell_points={"q3a.Yhat": 2.0})
    g = grade_submission(d, {}, cfg)
    q = g.questions[0]
    assert q.cells[0].points_possible == 2.0
    assert sum(c.points_possible for c in q.cells) == pytest.approx(q.points_possible)
    with pytest.raises(PsetError, match="cell_points"):
        grade_submission(d, {}, GradingConfig(cell_points={"q3a.Yhat": 100.0}))


@pytest.fixture(scope="module")
def batch(tmp_path_factory, docs):
    key = tmp_path_factory.mktemp("key")
    build_key_dir(key, SEEDS[:12], canvas=True, docs=docs[:12])
    rows = [(student_id(s), texts(key_cells(d))) for s, d in zip(SEEDS[:10], docs[:10])]
    rows[1][1]["q3a.Yhat"] = "0,5"
    rows.append(("NOPE", {"q3a.Yhat": "1"}))
    rows.append((student_id(0), texts(key_cells(docs[0]))))  # duplicate
    subs = key / "subs.csv"
    write_submissions(subs, rows)
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    return key, subs, out


def test_grade_batch_outputs_and_report(batch):
    key, subs, out = batch
    summary = grade_batch(key, subs, CFG, out)
    assert summary.missing == [student_id(10), student_id(11)]
    assert summary.unknown and summary.unknown[0][1] == "NOPE"
    assert list(summary.duplicates) == [student_id(0)]
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["student_id", "name", "q3a", "q3b", "ec-a", "ec-b", "total", "possible"]
    assert [r["student_id"] for r in rows] == [student_id(s) for s in SEEDS[:12]]
    assert float(rows[0]["total"]) == 17.5 and float(rows[0]["possible"]) == 15
    assert float(rows[1]["total"]) < 17.5 and float(rows[10]["total"]) == 0
    fb = (out.parent / "feedback" / "s00001.md").read_text()
    assert "0,5" in fb and "comma" in fb
    assert "No submission" in (out.parent / "feedback" / "s00010.md").read_text()
    report = (out.parent / "grading-report.txt").read_text()
    assert "NOPE" in report and student_id(11) in report
    # total/possible cover the answer cells (15 points of Q3); Q1 and Q2 are graded by hand.
    note = "q1, q2 (10 points) have no numeric answer cells: they are graded by hand and not in this total."
    assert f"grades.csv: {note}" in report and note in fb
    canvas = list(csv.reader((out.parent / "canvas-import.csv").open()))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Problem Set 2"]
    assert canvas[1][-1] == "17.5" and len(canvas) == 13


def test_cli_summary_and_errors(batch, capsys, tmp_path):
    key, subs, out = batch
    main(["--key", str(key), "--submissions", str(subs), "--out", str(tmp_path / "g.csv")])
    assert "2 missing; 1 unknown ids; 1 duplicate rows" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("id,q3a.Yhat\nS1,0.5\n")
    with pytest.raises(SystemExit) as e:
        main(["--key", str(key), "--submissions", str(bad), "--out", str(tmp_path / "h.csv")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "bad.csv:1" in err
    assert not (tmp_path / "h.csv").exists()
    with pytest.raises(SystemExit) as e:
        main(["--key", str(tmp_path), "--submissions", str(subs)])
    assert e.value.code == 2 and "answers.jsonl" in capsys.readouterr().err


def test_key_line_errors_name_file_and_line(tmp_path, docs):
    build_key_dir(tmp_path, SEEDS[:2], docs=docs[:2])
    (tmp_path / "answers.jsonl").write_text(json.dumps(docs[0]) + "\n{oops\n")
    with pytest.raises(PsetError, match=r"answers\.jsonl:2:"):
        grade_batch(tmp_path, tmp_path / "x.csv", CFG, tmp_path / "g.csv")


def test_outputs_that_would_land_on_an_input_are_refused(batch, capsys, tmp_path, monkeypatch):
    """--out defaults to grades.csv in the current folder, where the submissions export may
    itself be called grades.csv; and feedback/ or a report must not land in the key folder's
    own files. Each is one line, exit 2, before anything is written."""
    key, subs, _ = batch
    (tmp_path / "afile").write_text("x")
    (tmp_path / "feedback").mkdir()
    sheet = tmp_path / "grades.csv"
    sheet.write_bytes(subs.read_bytes())
    monkeypatch.chdir(tmp_path)
    cases = [([], "the submissions file"),                                    # default --out grades.csv
             (["--out", str(sheet)], "the submissions file"),
             (["--out", str(key / "manifest.csv")], "key folder's own files"),
             (["--out", str(key / "answers.csv")], "key folder's own files"),
             (["--out", str(key / "students" / "g.csv")], "key folder's own files"),
             (["--out", ""], "--out is empty"),
             (["--out", str(tmp_path)], "is a directory"),   # click says so
             (["--out", str(tmp_path / "afile" / "g.csv")], "is a file, not a folder"),
             (["--out", str(tmp_path / "grading-report.txt")], "writes grading-report.txt itself"),
             (["--out", str(tmp_path / "canvas-import.csv")], "writes canvas-import.csv itself"),
             (["--out", str(tmp_path / "out" / "feedback")], "writes feedback itself")]
    for extra, message in cases:
        before = {p: p.read_bytes() for p in [*key.rglob("*"), *tmp_path.rglob("*")] if p.is_file()}
        with pytest.raises(SystemExit) as e:
            main(["--key", str(key), "--submissions", "grades.csv", *extra])
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.count("\n") == 1 and message in err, (extra, err)
        after = {p: p.read_bytes() for p in [*key.rglob("*"), *tmp_path.rglob("*")] if p.is_file()}
        assert after == before, extra
    # Submissions inside feedback/ would be overwritten by a student's feedback file.
    inside = tmp_path / "feedback" / "s00000.md"
    inside.write_bytes(subs.read_bytes())
    with pytest.raises(SystemExit) as e:
        main(["--key", str(key), "--submissions", str(inside), "--out", str(tmp_path / "g.csv")])
    assert e.value.code == 2 and "feedback/" in capsys.readouterr().err
    # A file where feedback/ goes, a folder where the report goes: grades.csv was written
    # and then the run failed on them.
    for blocked, message in (("feedback", "is a file, where grade-pset writes each student's feedback"),
                             ("grading-report.txt", "is a folder, where grade-pset writes grading-report.txt")):
        place = tmp_path / f"blocked-{blocked}" / "g.csv"
        place.parent.mkdir()
        (place.parent / blocked).write_text("x") if blocked == "feedback" else (place.parent / blocked).mkdir()
        with pytest.raises(SystemExit) as e:
            main(["--key", str(key), "--submissions", str(subs), "--out", str(place)])
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.count("\n") == 1 and message in err, err
        assert not place.exists()


def test_a_row_with_more_fields_than_the_header_is_refused_with_its_line(batch, capsys, tmp_path):
    """An unquoted comma in a name shifts every later cell one column: grading that row
    would mark right answers wrong, so the sheet is refused, naming the line."""
    key, subs, _ = batch
    lines = subs.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert "name" not in header
    sheet = tmp_path / "subs.csv"
    lines[0] = "student_id,name," + ",".join(h for h in header if h != "student_id")
    rows = [l.split(",", 1) for l in lines[1:]]
    lines[1:] = [f"{r[0]},Ada,{r[1]}" for r in rows]
    lines[3] = lines[3].replace(",Ada,", ",Lovelace, Ada,")
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        main(["--key", str(key), "--submissions", str(sheet), "--out", str(tmp_path / "g.csv")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and f"{sheet}:4:" in err and "comma" in err
    assert not (tmp_path / "g.csv").exists()
    lines[3] = lines[3].replace(",Lovelace, Ada,", ',"Lovelace, Ada",')   # quoted: graded
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    main(["--key", str(key), "--submissions", str(sheet), "--out", str(tmp_path / "g.csv")])
    assert "graded 10 of 12 students" in capsys.readouterr().out


def test_cell_points_name_no_cell_or_too_many_points_naming_the_config(batch, capsys, tmp_path):
    key, subs, _ = batch
    config = tmp_path / "course.toml"
    for table, message in [('{ "q3a.Yhatt" = 1 }', "names 'q3a.Yhatt', which is no answer cell"),
                           ('{ "W9" = 1 }', "names 'W9', which is no answer cell"),
                           ('{ "q3a.Yhat" = 100 }', "give q3a 100 points")]:
        config.write_text(f"[grading]\ncell_points = {table}\n", encoding="utf-8")
        with pytest.raises(SystemExit) as e:
            main(["--key", str(key), "--submissions", str(subs), "--out", str(tmp_path / "g.csv"),
                  "--config", str(config)])
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.count("\n") == 1 and "course.toml: [grading].cell_points" in err, err
        assert message in err
        assert not (tmp_path / "g.csv").exists()
    config.write_text('[grading]\ncell_points = { "Yhat" = 1, "q3b.W2" = 0.5 }\n', encoding="utf-8")
    main(["--key", str(key), "--submissions", str(subs), "--out", str(tmp_path / "g.csv"), "--config", str(config)])
    assert (tmp_path / "g.csv").exists()

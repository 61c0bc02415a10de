"""Grading one student's cells against their key, with follow-through credit.

Order: the forward cells (``Yhat``, then ``L``), then the gradient cells from the loss
towards the inputs (reverse topological order), so every cell's upstream verdicts are
known when it is judged. A cell is

- ``correct``: within tolerance of the key (see ``config``);
- ``consistent``: not, but within tolerance of the chain rule applied to the student's
  own upstream cells, all of them correct or consistent (their rounding carried): full marks;
- ``follow-through``: the same, with some upstream cell wrong: the follow-through share;
- ``wrong``, ``blank`` or ``unreadable`` (with the reason): 0.

The chain-rule recomputation of dL/dn sums local(n -> c) * G(c) over n's consumers c
(the engine's steps into n), where G(c) is the student's value if c is a gradient cell
they gave, the loss's 1 at L, and otherwise the same sum one level up (intermediates
P, Z, U, and cells left blank). Local derivatives use the key's forward values, except
that the student's own Yhat replaces the key's, so dL/dYhat and the output
activation's derivative follow their Yhat (B3 = Yhat - Y for sigmoid + BCE). ``L``
follows through from their Yhat.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..engine import LEAF_OPS, OPS
from ..errors import PsetError
from ..floats import left_sum
from .config import FORWARD_ROUNDING, GradingConfig
from .numbers import NumberError, parse_number
from .sheet import Cell, question_cells

FULL = ("correct", "consistent")


@dataclass
class CellResult:
    cell: Cell
    points_possible: float
    submitted: str = ""                 # as typed
    value: float | None = None          # parsed
    verdict: str = "blank"
    reason: str = ""
    recomputed: float | None = None     # the chain rule from the student's own cells
    sources: tuple[str, ...] = ()       # the submitted cells that recomputation used
    points: float = 0.0


@dataclass
class QuestionGrade:
    id: str
    points_possible: float
    extra_credit: bool
    cells: list[CellResult] = field(default_factory=list)

    @property
    def points(self) -> float:
        return left_sum(c.points for c in self.cells)


@dataclass
class StudentGrade:
    student_id: str | None
    variant: str
    questions: list[QuestionGrade] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)   # submitted columns not in this key
    by_hand: list[tuple[str, float]] = field(default_factory=list)  # (question, points): no numeric cells

    @property
    def total(self) -> float:
        return left_sum(q.points for q in self.questions)

    @property
    def possible(self) -> float:
        """Points possible without the extra credit (so the total may exceed it)."""
        return left_sum(q.points_possible for q in self.questions if not q.extra_credit)


def is_extra_credit(q: dict) -> bool:
    return bool(q.get("extra_credit", str(q["id"]).startswith("ec")))


def cell_points(qid: str, cells: list[Cell], points: float, cfg: GradingConfig) -> list[float]:
    explicit = cfg.cell_points or {}
    fixed = [explicit.get(c.column, explicit.get(c.name)) for c in cells]
    given = left_sum(p for p in fixed if p is not None)
    rest = sum(p is None for p in fixed)
    if given > points + 1e-9 or (rest == 0 and abs(given - points) > 1e-9):
        raise PsetError(f"{cfg.source}: [grading].cell_points give {qid} {given:g} points over its cells, "
                        f"but the question is worth {points:g}")
    share = (points - given) / rest if rest else 0.0
    return [share if p is None else p for p in fixed]


class _Graph:
    """The key's graph as plain dicts: forward values and who consumes what."""

    def __init__(self, graph: dict):
        self.nodes = {n["name"]: n for n in graph["nodes"]}
        self.order = [n["name"] for n in graph["nodes"]]
        self.loss = graph.get("loss", self.order[-1])
        self.output = graph.get("output", "Yhat")
        self.consumers: dict[str, list[tuple[str, int]]] = {name: [] for name in self.order}
        for n in graph["nodes"]:
            for pos, a in enumerate(n["args"]):
                self.consumers[a].append((n["name"], pos))

    def local(self, node: str, consumer: str, pos: int, values: dict[str, float]) -> float:
        c = self.nodes[consumer]
        return OPS[c["op"]].local([values[a] for a in c["args"]], values[consumer], c)[pos]


def _judge_question(q: dict, submitted: dict[str, str], cfg: GradingConfig) -> QuestionGrade:
    cells = question_cells(q)
    if not cells:
        return QuestionGrade(q["id"], 0.0, False)
    grade = QuestionGrade(q["id"], float(q["points"]), is_extra_credit(q))
    results = {c.name: CellResult(c, p) for c, p in zip(cells, cell_points(q["id"], cells, float(q["points"]), cfg))}
    for r in results.values():
        r.submitted = submitted.get(r.cell.column, "") or ""
        if not r.submitted.strip():
            r.reason = "no answer"
            continue
        try:
            r.value = parse_number(r.submitted)
        except NumberError as e:
            r.verdict, r.reason = "unreadable", str(e)
    graph = _Graph(q["graph"]) if q.get("graph") else None
    if graph is None:
        for r in results.values():
            _judge(r, cfg, None, ())
    else:
        _judge_with_graph(graph, results, cfg)
    for r in results.values():
        if r.verdict in FULL:
            r.points = r.points_possible
        elif r.verdict == "follow-through":
            r.points = r.points_possible * cfg.follow_through
    grade.cells = list(results.values())  # table order
    return grade


def _judge(r: CellResult, cfg: GradingConfig, recomputed, sources, scale=0.0, upstream_ok=True,
           key_scale=0.0, slack=0.0) -> None:
    if r.value is None:
        return
    if cfg.close(r.value, r.cell.expected, key_scale, slack):
        r.verdict = "correct"
        return
    r.verdict = "wrong"
    if recomputed is not None:
        r.recomputed, r.sources = recomputed, tuple(sources)
        if cfg.close(r.value, recomputed, scale, slack):
            r.verdict = "consistent" if upstream_ok else "follow-through"


def _forward_rounding(g: _Graph, values: dict[str, float]) -> dict[str, float]:
    """Bound on the error of each forward value when every value not exact to 3
    decimals is rounded to 3 on the way (first order: errors carried by |local|)."""
    err: dict[str, float] = {}
    for name in g.order:
        n = g.nodes[name]
        if n["op"] in LEAF_OPS:
            err[name] = 0.0
            continue
        try:
            locals_ = OPS[n["op"]].local([values[a] for a in n["args"]], values[name], n)
        except (ValueError, ZeroDivisionError, OverflowError):
            locals_ = [0.0] * len(n["args"])
        own = FORWARD_ROUNDING if abs(values[name] - round(values[name], 3)) > 1e-12 else 0.0
        err[name] = left_sum(abs(l) * err[a] for a, l in zip(n["args"], locals_)) + own
    return err


def _judge_with_graph(g: _Graph, results: dict[str, CellResult], cfg: GradingConfig) -> None:
    key_values = {name: float(n["value"]) for name, n in g.nodes.items()}
    key_grads = {name: float(n["grad"]) for name, n in g.nodes.items()}
    slack_memo: list[dict[str, float]] = []

    def slack(name: str) -> float:  # only needed when a forward cell misses the key
        if not slack_memo:
            slack_memo.append(_forward_rounding(g, key_values))
        return slack_memo[0][name]

    values = dict(key_values)
    yhat = results.get(g.output)
    student_yhat = yhat is not None and yhat.value is not None
    if student_yhat:
        values[g.output] = yhat.value
        if not cfg.close(yhat.value, yhat.cell.expected):
            _judge(yhat, cfg, None, (), slack=slack(g.output))
        else:
            yhat.verdict = "correct"
    loss = results.get(g.loss)
    if loss is not None and loss.value is not None and cfg.close(loss.value, loss.cell.expected):
        loss.verdict = "correct"
    elif loss is not None:
        recomputed = None
        if student_yhat:
            node = g.nodes[g.loss]
            try:
                recomputed = OPS[node["op"]].forward([values[a] for a in node["args"]], node)
            except (ValueError, ZeroDivisionError, OverflowError):
                loss.reason = f"your {g.output} is outside the loss's domain"
        _judge(loss, cfg, recomputed, (g.output,) if student_yhat else (),
               upstream_ok=student_yhat and yhat.verdict in FULL, slack=slack(g.loss))

    grads = [r for r in results.values() if not r.cell.is_value]
    for r in grads:
        if r.cell.name not in g.nodes:
            raise PsetError(f"answer cell {r.cell.column} is not a node of the question's graph")
    anchors = _anchors(g, results, grads, values)

    def make_chain(use_anchors: bool, skip: frozenset[str] = frozenset()):
        memo: dict[str, tuple[float, float, frozenset[str]] | None] = {}

        def chain(name: str):
            """(dL/d name from the student's cells, sum of |terms|, cells used) or None."""
            if name in memo:
                return memo[name]
            memo[name] = None  # guards against cycles in a malformed key
            if name == g.loss:
                memo[name] = (1.0, 1.0, frozenset())
                return memo[name]
            total, scale, used = 0.0, 0.0, set()
            try:
                for consumer, pos in g.consumers[name]:
                    r = results.get(consumer)
                    anchor = anchors.get(consumer) if use_anchors and consumer not in skip else None
                    if r is not None and not r.cell.is_value and r.value is not None:
                        upstream, ups_used = r.value, {consumer}
                    elif anchor is not None:
                        upstream, ups_used = anchor[0].value / anchor[1], {anchor[0].cell.name}
                    else:
                        sub = chain(consumer)
                        if sub is None:
                            return None
                        upstream, ups_used = sub[0], set(sub[2])
                        if consumer == g.output and student_yhat:
                            ups_used.add(g.output)
                    term = g.local(name, consumer, pos, values) * upstream
                    total += term
                    scale += abs(term)
                    used |= ups_used
            except (ValueError, ZeroDivisionError, OverflowError):
                return None
            if not math.isfinite(scale):   # overflowed: no number to compare with
                return None
            memo[name] = (total, scale, frozenset(used))
            return memo[name]
        return chain

    by_cells = make_chain(False)
    with_anchors = make_chain(True)
    anchored_by = {r.cell.name: frozenset(n for n, (a, _) in anchors.items() if a is r) for r in grads}

    index = {name: i for i, name in enumerate(g.order)}
    # An anchor is judged where its node stands: before every cell that may lean on it.
    at = {r.cell.name: max([index[r.cell.name], *(index[n] for n in anchored_by[r.cell.name])]) for r in grads}
    for r in sorted(grads, key=lambda r: -at[r.cell.name]):
        name = r.cell.name
        if r.value is None or cfg.close(r.value, r.cell.expected):
            _judge(r, cfg, None, ())
            continue
        key_scale = left_sum(abs(g.local(name, c, pos, key_values) * key_grads[c]) for c, pos in g.consumers[name])
        if cfg.close(r.value, r.cell.expected, key_scale):
            _judge(r, cfg, None, (), key_scale=key_scale)
            continue
        routes = [by_cells]
        if anchored_by[name] != frozenset(anchors):   # else the anchors route is by_cells again
            routes.append(make_chain(True, anchored_by[name]) if anchored_by[name] else with_anchors)
        for route in routes:
            got = route(name)
            if got is None:
                _judge(r, cfg, None, (), key_scale=key_scale)
                continue
            used = sorted(got[2], key=lambda n: index.get(n, 0), reverse=True)
            upstream_ok = all(results[u].verdict in FULL for u in used)
            _judge(r, cfg, got[0], used, got[1], upstream_ok, key_scale)
            if r.verdict != "wrong":
                break


def _anchors(g: _Graph, results: dict[str, CellResult], grads: list[CellResult],
             values: dict[str, float]) -> dict[str, tuple[CellResult, float]]:
    """node without a cell -> (the cell that reads its gradient off, that local derivative).

    An output unit's pre-activation Z has no cell, so a student who slips at dL/dZ makes
    every cell below it wrong, yet each consistent with their own dL/dZ, which their bias
    cell shows (dL/dB = dL/dZ). The anchor of a node is the readable cell whose only
    consumer it is, a bias (local derivative 1) first, else the first in table order; the
    other cells may take the node's gradient from it, the anchor itself may not, so the
    slip costs that one cell. Only a cell whose local derivative is at least 1 in size:
    reading dL/dZ off dL/dW = A * dL/dZ with A = -0.025 divides the cell's rounding by
    0.025, and a cell 12 % off was taken for consistent."""
    anchors: dict[str, tuple[CellResult, float]] = {}
    for r in grads:
        consumers = g.consumers[r.cell.name]
        if r.value is None or len(consumers) != 1:
            continue
        node, pos = consumers[0]
        other = results.get(node)
        if (other is not None and not other.cell.is_value) or node == g.loss:
            continue
        try:
            local = g.local(r.cell.name, node, pos, values)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        if abs(local) < 1 - 1e-12:
            continue
        best = anchors.get(node)
        if best is None or (abs(best[1] - 1) > 1e-12 and abs(local - 1) <= 1e-12):
            anchors[node] = (r, local)
    return anchors


def grade_submission(doc: dict, submitted: dict[str, str], cfg: GradingConfig) -> StudentGrade:
    """Grade one student's cells (column -> text as typed) against their answers document."""
    grade = StudentGrade(doc.get("student_id"), str(doc.get("variant", "")))
    known = set()
    for q in doc["questions"]:
        qg = _judge_question(q, submitted, cfg)
        if not qg.cells:
            grade.by_hand.append((str(q["id"]), float(q.get("points", 0))))
            continue
        known.update(c.cell.column for c in qg.cells)
        grade.questions.append(qg)
    grade.ignored = [col for col, text in submitted.items() if col not in known and text and text.strip()]
    return grade

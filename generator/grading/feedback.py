"""feedback/<file stem>.md: each cell that did not earn full marks, and the totals."""
from __future__ import annotations

from ..floats import left_sum
from ..numfmt import rounded
from .score import StudentGrade

VERDICTS = {"correct": "correct", "consistent": "correct (your rounding carried)",
            "follow-through": "follow-through credit", "wrong": "wrong", "blank": "no answer",
            "unreadable": "not read as a number"}


def md_text(text: str) -> str:
    """Free text inside a Markdown table cell: no markup, no line breaks, pipes escaped."""
    out = " ".join(str(text).split())
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def pts(x: float) -> str:
    return f"{round(x, 4):g}"


def by_hand_note(by_hand: list[tuple[str, float]]) -> str:
    """grades.csv's total covers the answer cells only; a reader must not take it for the grade."""
    ids = ", ".join(q for q, _ in by_hand)
    return (f"{ids} ({pts(left_sum(p for _, p in by_hand))} points) have no numeric answer cells: they are "
            "graded by hand and not in this total.")


def feedback_markdown(grade: StudentGrade, name: str, missing: bool = False) -> str:
    lines = [f"# Feedback: {md_text(name)} ({md_text(grade.student_id or '')})", "",
             f"Variant {md_text(grade.variant)}. Total **{pts(grade.total)}** of {pts(grade.possible)}"
             + (" (extra credit counts on top)." if any(q.extra_credit for q in grade.questions) else "."), ""]
    if grade.by_hand:
        lines += [by_hand_note(grade.by_hand), ""]
    if missing:
        lines += ["No submission was found for this student id.", ""]
    for q in grade.questions:
        lines += [f"## {md_text(q.id)}: {pts(q.points)} of {pts(q.points_possible)}"
                  + (" (extra credit)" if q.extra_credit else ""), ""]
        shown = [c for c in q.cells if c.verdict != "correct"]
        if not shown:
            lines += ["Every cell is correct.", ""]
            continue
        lines += ["| cell | submitted | expected | verdict | points |", "|---|---|---|---|---|"]
        for c in shown:
            verdict = VERDICTS[c.verdict]
            if c.verdict in ("consistent", "follow-through") and c.sources:
                verdict += f" from {', '.join(c.sources)} (chain rule gives {rounded(c.recomputed, 4)})"
            elif c.verdict == "wrong" and c.recomputed is not None and c.sources:
                verdict += f"; from your {', '.join(c.sources)} the chain rule gives {rounded(c.recomputed, 4)}"
            if c.reason and c.verdict in ("unreadable", "wrong"):
                verdict += f" ({c.reason})"
            lines.append(f"| {md_text(c.cell.name)} | {md_text(c.submitted) or '—'} | {rounded(c.cell.expected, 4)} "
                         f"| {md_text(verdict)} | {pts(c.points)} of {pts(c.points_possible)} |")
        lines.append("")
    return "\n".join(lines)

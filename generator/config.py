"""Instructor configuration. Defaults reproduce the original's layout and points."""
from __future__ import annotations

from dataclasses import dataclass, field

from .options import Options

ALL_QUESTIONS = ("q1", "q2", "q3", "ec")


@dataclass(frozen=True)
class Config:
    options: Options = field(default_factory=Options)
    points: dict = field(default_factory=lambda: {"q1": 6.0, "q2": 4.0, "q3": 15.0, "ec": 2.5})
    questions: tuple[str, ...] = ALL_QUESTIONS
    decimals: int = 4
    course_name: str = "Deep Learning"
    course_number: str = ""
    title: str = "Problem Set 2"
    due: str = ""
    rtol: float = 0.01    # grading tolerance: |answer - key| <= atol + rtol * |key|
    atol: float = 0.002

    def tolerance_text(self) -> str:
        return f"{self.atol:g} + {self.rtol * 100:g}% of its size"

    def includes(self, q: str) -> bool:
        return q in self.questions

    def q3_points_each(self) -> float:
        return self.points["q3"] / 2

    def ec_points_each(self) -> float:
        return self.points["ec"] / 2


DEFAULT_CONFIG = Config()

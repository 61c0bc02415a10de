"""The problem set: which questions, their points, and one stream per question."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from .config import Config, DEFAULT_CONFIG
from .engine import solve
from .floats import left_sum
from .graphs import original
from .numfmt import exact
from .problem import Problem
from .banks import load_bank
from .questions import backprop, extra_credit, fit_diagnosis, params_vs_hyper
from .seeds import parse_seed, question_draws, question_rng, variant_code

# Question 3's graphs: id -> family. Their extra-credit twins are "ec-a", "ec-b".
GRAPH_QUESTIONS = {"q3a": "mlp", "q3b": "dag"}
# Questions drawn from a problem bank: id -> (module, bank name).
BANK_QUESTIONS = {"q1": (params_vs_hyper, "params_vs_hyper"), "q2": (fit_diagnosis, "fit_scenarios")}


@functools.lru_cache(maxsize=None)
def bank(name: str):
    """Banks are read and validated once per process."""
    return load_bank(name)


@dataclass(frozen=True)
class Section:
    """One numbered question of the document and the problems it shows."""
    key: str            # "q1", "q2", "q3", "ec"
    title: str
    points: float
    template: str
    problems: list[Problem]
    extra: bool = False

    @property
    def points_text(self) -> str:
        kind = "extra credit " if self.extra else ""
        return f"{exact(self.points)} {kind}points" if self.points != 1 else f"1 {kind}point"


SECTION_LAYOUT = (  # key, title, template, problem ids, extra credit
    ("q1", "Parameters vs. Hyper-Parameters", "questions/params-vs-hyper.typ.j2", ("q1",), False),
    ("q2", "Overfitting versus Underfitting", "questions/fit-diagnosis.typ.j2", ("q2",), False),
    ("q3", "Gradient Backpropagation on Computational Graphs", "sections/backprop.typ.j2", ("q3a", "q3b"), False),
    ("ec", "Extra Credit", "sections/extra-credit.typ.j2", ("ec-a", "ec-b"), True),
)


@dataclass
class ProblemSet:
    seed: int | None        # None for the original
    variant: str
    problems: list[Problem] = field(default_factory=list)
    config: Config = DEFAULT_CONFIG

    @property
    def stem(self) -> str:
        return "pset-original" if self.seed is None else f"pset-{self.seed}"

    def problem(self, qid: str) -> Problem:
        return next(p for p in self.problems if p.id == qid)

    def sections(self) -> list[Section]:
        have = {p.id: p for p in self.problems}
        out = []
        for key, title, template, ids, extra in SECTION_LAYOUT:
            if self.config.includes(key) and all(i in have for i in ids):
                out.append(Section(key, title, self.config.points[key], template, [have[i] for i in ids], extra))
        return out

    def question_count(self) -> int:
        return sum(1 for s in self.sections() if not s.extra)

    def points_text(self) -> str:
        return exact(left_sum(s.points for s in self.sections() if not s.extra))

    def extra_points(self) -> float:
        return left_sum(s.points for s in self.sections() if s.extra)


def _with_extra_credit(problems: list[Problem], config: Config) -> list[Problem]:
    ec = [extra_credit.generate("ec-" + p.id[-1], p, config.ec_points_each())
          for p in problems if p.id in GRAPH_QUESTIONS]
    return problems + ec if config.includes("ec") else problems


def build_pset(seed, config: Config = DEFAULT_CONFIG) -> ProblemSet:
    seed = parse_seed(seed)
    problems = [module.generate(qid, question_rng(seed, qid), bank(name), config.points[qid])
                for qid, (module, name) in BANK_QUESTIONS.items() if config.includes(qid)]
    if config.includes("q3"):
        problems += [backprop.generate(qid, question_draws(seed, qid), family, config.options,
                                       config.q3_points_each())
                     for qid, family in GRAPH_QUESTIONS.items()]
    return ProblemSet(seed, variant_code(seed), _with_extra_credit(problems, config), config)


def build_original(config: Config = DEFAULT_CONFIG) -> ProblemSet:
    problems = [module.generate_original(qid, bank(name), config.points[qid])
                for qid, (module, name) in BANK_QUESTIONS.items() if config.includes(qid)]
    if config.includes("q3"):
        for qid, family, g in (("q3a", "mlp", original.graph_a()), ("q3b", "dag", original.graph_b())):
            problems.append(backprop.from_graph(qid, family, g, solve(g), config.q3_points_each()))
    return ProblemSet(None, "ORIGINAL", _with_extra_credit(problems, config), config)

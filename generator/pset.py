"""The problem set: which questions, their points, and one stream per question."""
from __future__ import annotations

from dataclasses import dataclass, field

from .config import Config, DEFAULT_CONFIG
from .engine import solve
from .graphs import original
from .problem import Problem
from .questions import backprop, extra_credit
from .seeds import parse_seed, question_rng, variant_code

# Question 3's graphs: id -> family. Their extra-credit twins are "ec-a", "ec-b".
GRAPH_QUESTIONS = {"q3a": "mlp", "q3b": "dag"}


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


def _with_extra_credit(problems: list[Problem], config: Config) -> list[Problem]:
    ec = [extra_credit.generate("ec-" + p.id[-1], p, config.ec_points_each())
          for p in problems if p.id in GRAPH_QUESTIONS]
    return problems + ec if config.includes("ec") else problems


def build_pset(seed, config: Config = DEFAULT_CONFIG) -> ProblemSet:
    seed = parse_seed(seed)
    problems = [backprop.generate(qid, question_rng(seed, qid), family, config.options,
                                  config.q3_points_each())
                for qid, family in GRAPH_QUESTIONS.items()] if config.includes("q3") else []
    return ProblemSet(seed, variant_code(seed), _with_extra_credit(problems, config), config)


def build_original(config: Config = DEFAULT_CONFIG) -> ProblemSet:
    problems = []
    if config.includes("q3"):
        for qid, family, g in (("q3a", "mlp", original.graph_a()), ("q3b", "dag", original.graph_b())):
            problems.append(backprop.from_graph(qid, family, g, solve(g), config.q3_points_each()))
    return ProblemSet(None, "ORIGINAL", _with_extra_credit(problems, config), config)

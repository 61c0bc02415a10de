"""The Problem: one object per question that feeds the question PDF, the key PDF
and answers.json, so they cannot disagree."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .engine import Solution


@dataclass
class Problem:
    id: str                 # "q3a", "ec-b", ...
    kind: str               # which question module made it (and which template renders it)
    points: float
    answers: dict[str, Any]  # the answer-table cells, in table order
    graph: nx.DiGraph | None = None
    solution: Solution | None = None
    family: str | None = None
    context: dict[str, Any] = field(default_factory=dict)  # whatever its template needs
    extra_credit: bool = False

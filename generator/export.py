"""answers.json, format pset-answers/1, and atomic file writing."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from . import __version__
from .pset import ProblemSet
from .problem import Problem

FORMAT = "pset-answers/1"
_UMASK = os.umask(0)
os.umask(_UMASK)  # read once: mkstemp makes 0600 files, outputs should get the usual mode
NODE_ATTRS = ("alpha", "target")


def graph_json(p: Problem) -> dict:
    g = p.graph
    nodes = []
    for name in p.solution.order:
        a = g.nodes[name]
        node = {"name": name, "op": a["op"], "args": list(a["args"]), "role": a["role"]}
        node.update({k: a[k] for k in NODE_ATTRS if k in a})
        node.update(value=a["value"], grad=a["grad"])
        nodes.append(node)
    return {"family": p.family, "output": "Yhat", "loss": p.solution.loss, "nodes": nodes}


def question_json(p: Problem) -> dict:
    q = {"id": p.id, "kind": p.kind, "points": p.points}
    if p.extra_credit:
        q["extra_credit"] = True
    if p.graph is not None:
        q["graph"] = graph_json(p)
    q["answers"] = p.answers
    return q


def answers_document(ps: ProblemSet, student_id: str | None = None) -> dict:
    return {"format": FORMAT,
            "generator": {"name": "make-pset", "version": __version__},
            "seed": ps.seed, "variant": ps.variant, "student_id": student_id,
            "questions": [question_json(p) for p in ps.problems]}


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write under a temporary name in the same folder, then rename: never a partial file."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

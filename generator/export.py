"""answers.json, format pset-answers/1, and atomic file writing."""
from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from . import __version__
from .pset import ProblemSet
from .problem import Problem
from .worker_signals import hold_answered, release

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
    """answers.json text: indented like ``indent=1`` for the outer levels, one line per
    graph node, step or answer below them. (json's C encoder, which does the inner
    levels, is only used without ``indent``; indenting everything took 5 ms a student.)"""
    return _indented(doc, 0) + "\n"


_INDENTED_LEVELS = 5
_CONTAINERS = (dict, list)
# One encoder for the hundreds of small values a document has: json.dumps with options
# builds a new one on every call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
_ENCODE_KEY = json.encoder.encode_basestring  # what _ENCODE does with a str, without its checks


def _indented(value, depth: int) -> str:
    if depth >= _INDENTED_LEVELS or not _spread(value):
        return _ENCODE(value)
    pad = " " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{pad}{_ENCODE_KEY(k)}: {_indented(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    items = [pad + _indented(v, depth + 1) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * depth + "]"


def _spread(value) -> bool:
    """Whether a value gets a line per member: a list, or a dict with string keys, that
    holds a list or a dict. (Loops, not any()/all(): this runs on every value.)"""
    if isinstance(value, list):
        members = value
    elif isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                return False
        members = value.values()
    else:
        return False
    for v in members:
        if isinstance(v, _CONTAINERS):
            return True
    return False


_BREAK_AFTER_COMMA = re.compile(r",\n *")
_BREAK = re.compile(r"\n *")


def one_line(text: str) -> str:
    """answers.json's text (``dumps``) as ``json.dumps`` writes its document, on one line,
    without parsing and encoding it again (answers.jsonl: the re-encoding was most of its
    cost). Its only line breaks are the indentation's: JSON escapes one in a string."""
    return _BREAK.sub("", _BREAK_AFTER_COMMA.sub(", ", text))


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary file under a temporary name in the same folder, renamed to ``path`` when
    the block ends without error (and removed when it does not): never a partial file."""
    path = Path(path)
    # A kill (a batch worker's SIGTERM is a SystemExit) handled inside mkstemp, just after
    # it made the file, would leave that file behind (once in 40 runs under load): held
    # until the clean-up below is there to remove it.
    held = hold_answered()
    fd = tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        release(held)
        with os.fdopen(fd, "wb", buffering=1 << 20) as f:
            fd = None
            yield f
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        release(held)
        if fd is not None:
            os.close(fd)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes | str) -> None:
    with atomic_writer(path) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)

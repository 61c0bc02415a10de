"""One student's files: render everything in memory, then write each atomically."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import PsetError
from .export import answers_document, dumps, write_atomic
from .pset import ProblemSet
from .render import render_pset


@dataclass
class PsetFiles:
    """File name -> bytes, in the order they are written."""
    files: dict[str, bytes]
    answers: dict  # the answers.json document


def pset_files(ps: ProblemSet, stem: str | None = None, student_id: str | None = None,
               student_name: str | None = None, emit_typ: bool = False) -> PsetFiles:
    stem = stem or ps.stem
    rendered = render_pset(ps, student_name=student_name)
    doc = answers_document(ps, student_id=student_id)
    files = {f"{stem}.pdf": rendered.question_pdf, f"{stem}-key.pdf": rendered.key_pdf,
             f"{stem}-answers.json": dumps(doc).encode("utf-8")}
    if emit_typ:
        files[f"{stem}.typ"] = rendered.question_typ.encode("utf-8")
        files[f"{stem}-key.typ"] = rendered.key_typ.encode("utf-8")
    return PsetFiles(files, doc)


def check_folder(out_dir: Path) -> None:
    """--out and every folder above it that exists must be folders: say so in one line
    rather than fail in mkdir halfway ("File exists")."""
    for folder in [out_dir, *out_dir.parents]:
        if folder.exists():
            if not folder.is_dir():
                raise PsetError(f"--out {out_dir}: {folder} is a file, not a folder")
            return


def write_files(out_dir: Path, bundle: PsetFiles) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in bundle.files.items():
        path = out_dir / name
        write_atomic(path, data)
        paths.append(path)
    return paths

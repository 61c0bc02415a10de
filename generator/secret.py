"""The course secret and the per-student seeds made from it.

A student's seed is HMAC-SHA256(secret, student id): a student who has the tool and
their own id still cannot make their seed, hence their key, without the secret. The
secret file holds 32 random bytes as hex; ``make-pset --new-secret FILE`` writes one.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Callable, Iterable

from .errors import PsetError

SECRET_BYTES = 32
MIN_SECRET_BYTES = 16
MAX_ATTEMPTS = 1000
_SEED_MASK = 2**63 - 1
_SEED_DOMAIN = b"make-pset/student-seed/v1\0"
_FINGERPRINT_DOMAIN = b"make-pset/secret-fingerprint/v1"


class SecretError(PsetError):
    """A secret file that is missing, unreadable or not a secret."""


def _how_to_make(path, exists: bool = False) -> str:
    if exists:  # --new-secret never overwrites: name another file
        return "create a new one with `make-pset --new-secret NEW_FILE` and keep it private"
    return f"create one with `make-pset --new-secret {path}` and keep it private"


def new_secret(path) -> None:
    """Write a fresh random secret to ``path`` (mode 600); an existing file is an error."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise SecretError(f"{path} already exists; a secret is never overwritten (a new secret "
                          "changes every student's numbers)") from None
    except OSError as e:
        raise SecretError(f"cannot create secret file {path}: {e.strerror or e}") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)   # the umask may have narrowed it; never wider than 600
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_bytes(SECRET_BYTES).hex() + "\n")
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        path.unlink(missing_ok=True)   # we created it: never leave a half-written secret
        raise


def read_secret(path) -> bytes:
    """The secret bytes from a file written by new_secret (hex, surrounding whitespace ignored)."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise SecretError(f"no secret file {path}: {_how_to_make(path)}") from None
    except OSError as e:
        raise SecretError(f"cannot read secret file {path}: {e.strerror or e}") from None
    try:
        secret = bytes.fromhex(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise SecretError(f"{path} is not a make-pset secret (hex digits expected); "
                          f"{_how_to_make(path, exists=True)}") from None
    if len(secret) < MIN_SECRET_BYTES:
        what = "is empty" if not secret else f"holds only {len(secret)} bytes"
        raise SecretError(f"secret file {path} {what}; at least {MIN_SECRET_BYTES} random bytes "
                          f"are needed: {_how_to_make(path, exists=True)}")
    return secret


def permission_warning(path) -> str | None:
    """A one-line warning when others may read the secret file (POSIX), else None."""
    mode = Path(path).stat().st_mode
    if os.name == "posix" and mode & 0o077:
        return f"secret file {path} can be read by others (mode {mode & 0o777:03o}); chmod 600 it"
    return None


def student_seed(secret: bytes, student_id: str, attempt: int = 0) -> int:
    """The seed in [0, 2^63) for one student; ``attempt`` > 0 re-derives after a collision.

    The message is length-framed, so no (id, attempt) pair can imitate another."""
    if not student_id:
        raise PsetError("empty student id")
    if not isinstance(attempt, int) or attempt < 0:
        raise PsetError(f"attempt must be a whole number >= 0, got {attempt!r}")
    sid = student_id.encode("utf-8")
    message = _SEED_DOMAIN + len(sid).to_bytes(8, "big") + sid + attempt.to_bytes(8, "big")
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") & _SEED_MASK


def assign_seeds(secret: bytes, student_ids: Iterable[str],
                 fingerprint: Callable[[int], str]) -> list[tuple[int, int]]:
    """(seed, attempt) per student, in the order given, with distinct fingerprints.

    Students are served in sorted id order, not roster order, so a re-sorted export of
    the same class gets the same seeds; a student whose fingerprint is taken moves to
    attempt 1, 2, ... until it is free."""
    ids = list(student_ids)
    if len(set(ids)) != len(ids):
        raise PsetError("duplicate student ids")
    taken: dict[str, str] = {}
    chosen: dict[str, tuple[int, int]] = {}
    for sid in sorted(ids):
        for attempt in range(MAX_ATTEMPTS):
            seed = student_seed(secret, sid, attempt)
            key = fingerprint(seed)
            if key not in taken:
                taken[key] = sid
                chosen[sid] = (seed, attempt)
                break
        else:
            raise PsetError(f"student {sid!r}: no seed with Question 3 numbers unlike every other "
                            f"student's in {MAX_ATTEMPTS} attempts")
    return [chosen[sid] for sid in ids]


def secret_fingerprint(secret: bytes) -> str:
    """16 hex digits that identify the secret in a manifest without revealing it."""
    return hmac.new(secret, _FINGERPRINT_DOMAIN, hashlib.sha256).hexdigest()[:16]

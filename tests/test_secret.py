import hashlib
import hmac
import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from generator.errors import PsetError
from generator.secret import (MAX_ATTEMPTS, SecretError, assign_seeds, new_secret, permission_warning,
                              read_secret, secret_fingerprint, student_seed)

SECRET = bytes(range(32))
IDS = ["S0012345", "S0012346", "jdoe@example.edu", "../x", "学生", "a b", "x" * 300]


def by_mod3(seed: int) -> str:
    return str(seed % 3)


# --- the secret file ---------------------------------------------------------------

def test_new_secret_writes_32_random_bytes_as_hex_with_mode_600(tmp_path):
    old = os.umask(0)                 # even with a permissive umask the file is private
    try:
        new_secret(tmp_path / "a.key")
    finally:
        os.umask(old)
    new_secret(tmp_path / "b.key")
    text = (tmp_path / "a.key").read_text()
    assert len(text) == 65 and text.endswith("\n") and bytes.fromhex(text) == read_secret(tmp_path / "a.key")
    assert stat.S_IMODE((tmp_path / "a.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "b.key").stat().st_mode) == 0o600
    assert read_secret(tmp_path / "a.key") != read_secret(tmp_path / "b.key")
    assert permission_warning(tmp_path / "a.key") is None


def test_new_secret_never_overwrites(tmp_path):
    path = tmp_path / "course.key"
    new_secret(path)
    before = path.read_bytes()
    with pytest.raises(SecretError, match=rf"{path} already exists; a secret is never overwritten"):
        new_secret(path)
    assert path.read_bytes() == before


def test_new_secret_in_a_missing_folder_is_one_line(tmp_path):
    with pytest.raises(SecretError, match=r"cannot create secret file .*no/course.key: No such file"):
        new_secret(tmp_path / "no" / "course.key")


def test_no_secret_file_is_refused_with_how_to_make_one(tmp_path):
    path = tmp_path / "course.key"
    with pytest.raises(SecretError) as info:
        read_secret(path)
    assert str(info.value) == (f"no secret file {path}: create one with `make-pset --new-secret {path}` "
                               "and keep it private")
    assert isinstance(info.value, PsetError)


@pytest.mark.parametrize("content,problem", [
    (b"", "is empty"), (b"\n  \n", "is empty"), (b"00" * 15 + b"\n", "holds only 15 bytes"),
    (b"correct horse battery staple", "is not a make-pset secret"), (b"abc", "is not a make-pset secret"),
    ("é".encode() * 40, "is not a make-pset secret"), (b"\xff" * 40, "is not a make-pset secret"),
])
def test_bad_secret_files_are_refused(tmp_path, content, problem):
    path = tmp_path / "course.key"
    path.write_bytes(content)
    with pytest.raises(SecretError, match=problem) as info:
        read_secret(path)
    assert "\n" not in str(info.value)
    # the file exists, and --new-secret never overwrites: the hint names another file
    assert "`make-pset --new-secret NEW_FILE`" in str(info.value)
    with pytest.raises(SecretError, match="already exists"):
        new_secret(path)


def test_hex_secret_with_surrounding_whitespace_is_read(tmp_path):
    path = tmp_path / "course.key"
    path.write_text("\n  " + SECRET.hex().upper() + "  \r\n")
    assert read_secret(path) == SECRET


def test_permission_warning_for_a_readable_secret(tmp_path):
    path = tmp_path / "course.key"
    new_secret(path)
    path.chmod(0o644)
    assert "can be read by others (mode 644)" in permission_warning(path)


# --- student seeds -------------------------------------------------------------------

def test_seed_is_an_hmac_of_the_framed_id():
    sid = "S0012345".encode()
    message = b"make-pset/student-seed/v1\0" + len(sid).to_bytes(8, "big") + sid + (3).to_bytes(8, "big")
    expected = int.from_bytes(hmac.new(SECRET, message, hashlib.sha256).digest()[:8], "big") & (2**63 - 1)
    assert student_seed(SECRET, "S0012345", 3) == expected


def test_seeds_are_pinned():
    # Reissuing a class's sets must reproduce them: these values may never change.
    assert student_seed(SECRET, "S0012345") == 7866082470803223648
    assert student_seed(SECRET, "S0012345", 1) == 8925422218737342154
    assert secret_fingerprint(SECRET) == "68174d40110d30fc"


def test_same_secret_same_seeds_in_another_process():
    code = ("import sys; from generator.secret import student_seed; "
            "print(*[student_seed(bytes(range(32)), i) for i in sys.argv[1:]])")
    env = {**os.environ, "PYTHONHASHSEED": "random", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code, *IDS], capture_output=True, text=True, env=env, check=True)
    assert [int(x) for x in out.stdout.split()] == [student_seed(SECRET, i) for i in IDS]


def test_another_secret_gives_other_seeds():
    other = bytes(range(1, 33))
    mine = [student_seed(SECRET, i) for i in IDS]
    theirs = [student_seed(other, i) for i in IDS]
    assert all(a != b for a, b in zip(mine, theirs))
    assert len(set(mine)) == len(IDS)
    # Without the secret, the id alone (or a guessed empty key) does not give the seed.
    assert all(student_seed(b"", i) != s and student_seed(i.encode(), i) != s for i, s in zip(IDS, mine))


def test_seeds_are_in_range_and_attempts_differ():
    seeds = [student_seed(SECRET, sid, a) for sid in IDS for a in range(20)]
    assert all(0 <= s < 2**63 for s in seeds) and len(set(seeds)) == len(seeds)


def test_framing_keeps_ids_and_attempts_apart():
    # Under naive concatenation "a" + "1" + attempt 0 and "a1" + attempt 0 could meet.
    assert student_seed(SECRET, "a1", 0) != student_seed(SECRET, "a", 10)
    assert student_seed(SECRET, "a\x00", 0) != student_seed(SECRET, "a", 0)


@pytest.mark.parametrize("sid,attempt", [("", 0), ("s1", -1), ("s1", 1.5)])
def test_bad_seed_arguments(sid, attempt):
    with pytest.raises(PsetError):
        student_seed(SECRET, sid, attempt)


# --- collisions in Question 3 numbers -------------------------------------------------

def test_colliding_fingerprints_are_rederived_deterministically():
    ids = ["s1", "s2", "s3"]
    first = [by_mod3(student_seed(SECRET, i)) for i in ids]
    assert len(set(first)) < len(ids)                  # this secret does collide under mod 3
    result = assign_seeds(SECRET, ids, by_mod3)
    assert result == assign_seeds(SECRET, ids, by_mod3)
    assert sorted(by_mod3(seed) for seed, _ in result) == ["0", "1", "2"]
    assert any(attempt > 0 for _, attempt in result)
    taken = []
    for sid, (seed, attempt) in sorted(zip(ids, result)):      # served in id order
        assert seed == student_seed(SECRET, sid, attempt)
        # every earlier attempt was refused because an earlier student held its fingerprint
        assert all(by_mod3(student_seed(SECRET, sid, a)) in taken for a in range(attempt))
        taken.append(by_mod3(seed))


def test_seeds_do_not_depend_on_roster_order():
    ids = [f"s{i}" for i in range(40)]
    fingerprint = lambda s: str(s % 50)                     # noqa: E731  (many collisions)
    reference = dict(zip(ids, assign_seeds(SECRET, ids, fingerprint)))
    shuffled = ids[:]
    random.Random(7).shuffle(shuffled)
    assert dict(zip(shuffled, assign_seeds(SECRET, shuffled, fingerprint))) == reference
    assert any(attempt > 0 for _, attempt in reference.values())
    assert len({fingerprint(seed) for seed, _ in reference.values()}) == len(ids)


def test_without_collisions_every_student_keeps_attempt_0():
    result = assign_seeds(SECRET, IDS, str)
    assert result == [(student_seed(SECRET, i), 0) for i in IDS]


def test_more_students_than_fingerprints_is_an_error():
    with pytest.raises(PsetError, match=rf"no seed with Question 3 numbers unlike .* in {MAX_ATTEMPTS} attempts"):
        assign_seeds(SECRET, ["a", "b", "c", "d"], by_mod3)


def test_duplicate_ids_are_refused():
    with pytest.raises(PsetError, match="duplicate student ids"):
        assign_seeds(SECRET, ["a", "b", "a"], str)


def test_secret_fingerprint_identifies_without_revealing():
    other = bytes(range(1, 33))
    fp = secret_fingerprint(SECRET)
    assert len(fp) == 16 and int(fp, 16) >= 0 and fp == secret_fingerprint(bytes(SECRET))
    assert fp != secret_fingerprint(other)
    assert fp not in SECRET.hex() and fp != hashlib.sha256(SECRET).hexdigest()[:16]

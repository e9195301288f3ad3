"""The shared SWE-bench data is read from GRADER_SHARED_DATA, never committed: no file of the repository is a
copy of a shared file, and none holds a whole record (a line) of one. sample_data/ and tests/data/ keep the
upstream file names and layouts, with records written by hand."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.realdata

ROOT = Path(__file__).resolve().parents[2]
RECORD_MIN = 80  # a shorter line may be common to any two diffs (a hunk header, an import)


def _repository_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _record_digests(data: bytes) -> set[bytes]:
    return {_digest(line.strip()) for line in data.split(b"\n") if len(line.strip()) >= RECORD_MIN}


def test_no_repository_file_copies_the_shared_data(shared_data: Path) -> None:
    whole: set[bytes] = set()
    records: set[bytes] = set()
    for path in shared_data.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        whole.add(_digest(data))
        records |= _record_digests(data)
    files = _repository_files()
    assert len(files) > 100
    copied = [str(p.relative_to(ROOT)) for p in files if _digest(p.read_bytes()) in whole]
    assert copied == []
    holding = sorted(str(p.relative_to(ROOT)) for p in files if _record_digests(p.read_bytes()) & records)
    assert holding == []

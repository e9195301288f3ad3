"""Reviewer processes grading one session at once, on PostgreSQL and one SQLite file; and killed mid-way."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from grader.core.audit.sampling import SampleSpec
from grader.core.audit.sessions import create_session
from grader.core.audit.synthetic import add_synthetic_patches, read_committed_log, simulate_reviewer
from grader.core.store.models import Reviewer, SessionAssignment, Verdict

PROCESSES = 4
PATCHES = 200
OVERLAP = 2


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _worker(  # type: ignore[no-untyped-def]
    url: str, session_id: int, reviewer: str, lease: float, log: str, queue, think: float = 0.0
) -> None:
    result = simulate_reviewer(url, session_id, reviewer, lease_seconds=lease, committed_log=log, think_seconds=think)
    queue.put((reviewer, result))


def _session_verdicts(engine: Engine, session_id: int) -> list[tuple[int, int, str, int]]:
    v, r = Verdict.__table__, Reviewer.__table__
    with engine.connect() as conn:
        return [
            (int(row[0]), int(row[1]), str(row[2]), int(row[3]))
            for row in conn.execute(
                select(v.c.id, v.c.patch_id, r.c.name, v.c.supersedes_id.is_(None))
                .join(r, r.c.id == v.c.reviewer_id)
                .where(v.c.session_id == session_id)
            )
        ]


def _check_exactly_k(engine: Engine, session_id: int) -> None:
    verdicts = _session_verdicts(engine, session_id)
    per_patch = Counter(patch for _, patch, _, _ in verdicts)
    assert len(per_patch) == PATCHES
    assert set(per_patch.values()) == {OVERLAP}, Counter(per_patch.values())
    reviewers = {}
    for _, patch, reviewer, _ in verdicts:
        reviewers.setdefault(patch, set()).add(reviewer)
    assert all(len(names) == OVERLAP for names in reviewers.values())


def _check_k_counted(engine: Engine, session_id: int) -> None:
    """Every patch's K slots are done by K distinct reviewers, each slot holding one of their verdicts.

    With short leases on a loaded machine a live reviewer's lease can lapse and another take the slot; the first
    one's verdict is then still recorded, uncounted (human work is never dropped), so a patch may hold more
    than K verdicts. What must hold is K counted ones.
    """
    a = SessionAssignment.__table__
    with engine.connect() as conn:
        slots = conn.execute(
            select(a.c.patch_id, a.c.reviewer_id, a.c.verdict_id, a.c.done_at).where(a.c.session_id == session_id)
        ).all()
    assert all(slot.done_at is not None and slot.verdict_id is not None for slot in slots)
    by_patch: dict[int, set[int]] = {}
    for slot in slots:
        by_patch.setdefault(slot.patch_id, set()).add(slot.reviewer_id)
    assert len(by_patch) == PATCHES
    assert all(len(reviewers) == OVERLAP for reviewers in by_patch.values())
    stored = {vid for vid, _, _, _ in _session_verdicts(engine, session_id)}
    assert {slot.verdict_id for slot in slots} <= stored


def _start(ctx, url: str, session_id: int, lease: float, log_dir: Path, queue, names, think: float = 0.0):  # type: ignore[no-untyped-def]
    processes = []
    for name in names:
        log = str(log_dir / f"{name}.log")
        process = ctx.Process(target=_worker, args=(url, session_id, name, lease, log, queue, think))
        process.start()
        processes.append(process)
    return processes


def test_reviewer_processes_grade_a_session_exactly_k_times(engine: Engine, tmp_path: Path) -> None:
    add_synthetic_patches(engine, PATCHES, models=4)
    session = create_session(engine, "concurrent", SampleSpec(size=PATCHES, seed=1, overlap=OVERLAP))
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    names = [f"reviewer-{n}" for n in range(PROCESSES)]
    processes = _start(ctx, _url(engine), session.id, 60.0, tmp_path, queue, names)
    results = dict(queue.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert sum(int(r["graded"]) for r in results.values()) == PATCHES * OVERLAP
    assert all(r["errors"] == 0 for r in results.values()), results
    _check_exactly_k(engine, session.id)
    committed = {i for name in names for i in read_committed_log(tmp_path / f"{name}.log")}
    assert committed == {vid for vid, _, _, _ in _session_verdicts(engine, session.id)}


def test_killed_reviewers_lose_no_verdict_and_their_leases_return(engine: Engine, tmp_path: Path) -> None:
    add_synthetic_patches(engine, PATCHES, models=4)
    session = create_session(engine, "crash", SampleSpec(size=PATCHES, seed=2, overlap=OVERLAP))
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    url = _url(engine)
    lease = 1.0
    names = [f"doomed-{n}" for n in range(PROCESSES)]
    # Up to 20 ms of thought per patch: the 400 slots take the doomed reviewers seconds, so the kills (once a
    # few dozen verdicts are in, however fast the machine) land mid-way.
    doomed = _start(ctx, url, session.id, lease, tmp_path, queue, names, think=0.02)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(len(read_committed_log(tmp_path / f"{n}.log")) for n in names) < 40:
        time.sleep(0.02)
    rng = random.Random(5)
    for process in doomed:
        time.sleep(rng.uniform(0.0, 0.1))
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join()
    killed_logs = {i for n in range(PROCESSES) for i in read_committed_log(tmp_path / f"doomed-{n}.log")}
    stored_after_kill = {vid for vid, _, _, _ in _session_verdicts(engine, session.id)}
    assert killed_logs <= stored_after_kill  # every verdict whose commit returned is there
    assert 0 < len(killed_logs) < PATCHES * OVERLAP, "kill earlier or later: the test must cut the work mid-way"
    # Fresh reviewers finish the session: the dead ones' leases return to the pool once they expire.
    survivors = _start(ctx, url, session.id, lease, tmp_path, queue, [f"survivor-{n}" for n in range(PROCESSES)])
    results = dict(queue.get(timeout=120) for _ in survivors)
    for process in survivors:
        process.join(timeout=30)
    assert all(r["errors"] == 0 for r in results.values()), results
    _check_k_counted(engine, session.id)
    assert killed_logs <= {vid for vid, _, _, _ in _session_verdicts(engine, session.id)}


@pytest.fixture(autouse=True)
def _no_leftover_children() -> None:
    yield
    for child in multiprocessing.active_children():
        child.kill()

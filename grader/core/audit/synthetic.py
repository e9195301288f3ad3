"""Synthetic stores and simulated reviewers, for the concurrency bench and tests (fast: bulk Core inserts)."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from sqlalchemy import Engine, select

from grader.core.audit.assignment import claim_next, reviewer_has_work
from grader.core.audit.session_verdicts import submit_session_verdict
from grader.core.store.db import bulk_write_transaction, make_engine
from grader.core.store.models import Patch, Submission, Task, utcnow

SYNTHETIC_BENCHMARK = "synthetic"


def add_synthetic_patches(engine: Engine, count: int, *, models: int = 4, seed: int = 0) -> None:
    """`count` patches over `models` models (tasks shared), with verifier verdicts drawn pass/fail."""
    rng = random.Random(seed)
    tasks_needed = -(-count // models)
    t, s, p = Task.__table__, Submission.__table__, Patch.__table__
    with bulk_write_transaction(engine) as conn:
        conn.execute(
            t.insert(),
            [
                {"benchmark": SYNTHETIC_BENCHMARK, "instance_id": f"synth__repo-{n}", "repo": f"synth/repo{n % 7}"}
                for n in range(tasks_needed)
            ],
        )
        conn.execute(
            s.insert(),
            [
                {
                    "benchmark": SYNTHETIC_BENCHMARK,
                    "name": f"model-{m}",
                    "model_name": f"model-{m}",
                    "imported_at": utcnow(),
                }
                for m in range(models)
            ],
        )
        task_ids = list(
            conn.execute(select(t.c.id).where(t.c.benchmark == SYNTHETIC_BENCHMARK).order_by(t.c.id)).scalars()
        )
        sub_ids = list(
            conn.execute(select(s.c.id).where(s.c.benchmark == SYNTHETIC_BENCHMARK).order_by(s.c.id)).scalars()
        )
        rows = []
        for n in range(count):
            rows.append(
                {
                    "task_id": task_ids[n // models],
                    "submission_id": sub_ids[n % models],
                    "raw_patch": f"--- a/f{n}.py\n+++ b/f{n}.py\n@@ -1 +1 @@\n-old\n+new {n}\n",
                    "verifier_verdict": "pass" if rng.random() < 0.5 else "fail",
                    "content_hash": f"{n:064x}",
                    "line_count": 5,
                }
            )
        for start in range(0, len(rows), 1000):
            conn.execute(p.insert(), rows[start : start + 1000])


def simulate_reviewer(
    url: str,
    session_id: int,
    reviewer: str,
    *,
    lease_seconds: float = 60.0,
    committed_log: str | None = None,
    seed: int = 0,
    think_seconds: float = 0.0,
) -> dict[str, float | int]:
    """Grade until the reviewer has nothing left: claim, verdict, repeat. Returns counts and errors seen.

    With `committed_log`, the id of every verdict whose commit returned is appended (and flushed) to that file,
    so a test can kill the process at any moment and check that no committed verdict was lost.
    """
    engine = make_engine(url)
    rng = random.Random(f"{seed}:{reviewer}")
    graded = errors = 0
    started = time.perf_counter()
    log = open(committed_log, "a", encoding="utf-8") if committed_log else None  # noqa: SIM115
    try:
        while True:
            try:
                patch_id = claim_next(engine, session_id, reviewer, lease_seconds=lease_seconds)
                if patch_id is None:
                    if not reviewer_has_work(engine, session_id, reviewer):
                        break
                    time.sleep(0.05 + rng.random() * 0.05)  # others hold the rest; their leases may lapse
                    continue
                if think_seconds:
                    time.sleep(rng.random() * think_seconds)
                result = submit_session_verdict(
                    engine,
                    session_id=session_id,
                    patch_id=patch_id,
                    reviewer=reviewer,
                    verdict=rng.choice(("pass", "fail")),
                    lease_seconds=lease_seconds,
                )
            except Exception:  # counted, and the reviewer carries on: a reviewer must never see one
                errors += 1
                time.sleep(0.05)
                if errors > 50:
                    raise
                continue
            graded += 1
            if log is not None:
                log.write(f"{result.saved.id}\n")
                log.flush()
                os.fsync(log.fileno())
    finally:
        if log is not None:
            log.close()
        engine.dispose()
    return {"graded": graded, "errors": errors, "seconds": time.perf_counter() - started, "pid": os.getpid()}


def read_committed_log(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line) for line in path.read_text().split() if line.strip().isdigit()]

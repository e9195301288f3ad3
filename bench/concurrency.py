"""Concurrency: reviewer processes grading one audit session at once, on PostgreSQL and on one SQLite file.

    python bench/concurrency.py [--reviewers 16] [--patches 2000] [--overlap 2] [--json]

For each backend: a fresh store of synthetic patches (PostgreSQL: a schema of its own on GRADER_TEST_PG_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/test), one session sampling all of them with the given
overlap, then N processes (each its own engine) claim and grade until nothing is left. Reported: verdicts per
second (wall time from the first start to the last finish), `lost` (verdicts whose commit returned but are not
in the database), `over_assigned` (patches with more than `overlap` verdicts or a repeated reviewer),
`short` (patches with fewer), errors a reviewer would have seen, and a single-process baseline on each backend
(the same loop, one reviewer, overlap 1, on a tenth of the patches).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text

from grader.core.audit.sampling import SampleSpec
from grader.core.audit.sessions import create_session
from grader.core.audit.synthetic import add_synthetic_patches, read_committed_log, simulate_reviewer
from grader.core.store.db import make_engine
from grader.core.store.models import Reviewer, Verdict

PG_URL = os.environ.get("GRADER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _worker(url: str, session_id: int, reviewer: str, log: str, queue: multiprocessing.Queue) -> None:
    queue.put(simulate_reviewer(url, session_id, reviewer, committed_log=log, lease_seconds=300))


def run(url: str, reviewers: int, patches: int, overlap: int, workdir: Path) -> dict[str, float | int]:
    engine = make_engine(url)
    add_synthetic_patches(engine, patches, models=8)
    session = create_session(engine, "bench", SampleSpec(size=patches, seed=1, overlap=overlap))
    engine.dispose()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    logs = [workdir / f"{uuid.uuid4().hex}.log" for _ in range(reviewers)]
    started = time.perf_counter()
    processes = [
        ctx.Process(target=_worker, args=(url, session.id, f"reviewer-{n}", str(logs[n]), queue))
        for n in range(reviewers)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=3600) for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    engine = make_engine(url)
    v, r = Verdict.__table__, Reviewer.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(v.c.id, v.c.patch_id, r.c.name)
            .join(r, r.c.id == v.c.reviewer_id)
            .where(v.c.session_id == session.id)
        ).all()
    engine.dispose()
    stored = {int(row[0]) for row in rows}
    committed = {i for log in logs for i in read_committed_log(log)}
    per_patch = Counter(int(row[1]) for row in rows)
    distinct = {}
    for _, patch_id, name in rows:
        distinct.setdefault(int(patch_id), set()).add(name)
    over = sum(1 for p, n in per_patch.items() if n > overlap or len(distinct[p]) < n)
    return {
        "verdicts": len(rows),
        "verdicts_per_s": len(rows) / elapsed,
        "seconds": elapsed,
        "lost": len(committed - stored),
        "over_assigned": over,
        "short": patches - sum(1 for n in per_patch.values() if n >= overlap),
        "errors": sum(int(res["errors"]) for res in results),
    }


def pg_schema_url() -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}", schema


def drop_pg_schema(schema: str) -> None:
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviewers", type=int, default=16)
    parser.add_argument("--patches", type=int, default=2000)
    parser.add_argument("--overlap", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out: dict[str, object] = {"reviewers": args.reviewers, "patches": args.patches, "overlap": args.overlap}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for backend in ("pg", "sqlite"):
            for label, reviewers, patches, overlap in (
                ("baseline_single", 1, max(args.patches // 10, 1), 1),
                ("", args.reviewers, args.patches, args.overlap),
            ):
                if backend == "pg":
                    url, schema = pg_schema_url()
                else:
                    url, schema = f"sqlite:///{workdir / f'{uuid.uuid4().hex}.db'}", ""
                try:
                    figures = run(url, reviewers, patches, overlap, workdir)
                finally:
                    if schema:
                        drop_pg_schema(schema)
                prefix = f"{backend}_{label}_" if label else f"{backend}_"
                for key, value in figures.items():
                    out[f"{prefix}{key}"] = round(value, 2) if isinstance(value, float) else value
    out["lost"] = int(out["pg_lost"]) + int(out["sqlite_lost"])  # type: ignore[call-overload]
    out["over_assigned"] = int(out["pg_over_assigned"]) + int(out["sqlite_over_assigned"])  # type: ignore[call-overload]
    if args.json:
        print(json.dumps(out))
        return
    for key, value in out.items():
        print(f"{key:40} {value}")


if __name__ == "__main__":
    main()

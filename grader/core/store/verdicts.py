"""Store operations shared by the CLI and the TUI: reviewers, verdicts (append-only), reveals, lookups."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, func, select

from grader.core.store.db import write_transaction
from grader.core.store.models import (
    HUMAN_VERDICTS,
    RETRACTED,
    Patch,
    Reveal,
    Reviewer,
    Submission,
    Task,
    Verdict,
    utcnow,
)
from grader.core.store.rubric_answers import GivenAnswers, insert_answers

TAG_SEPARATOR = ";"


class VerdictError(ValueError):
    """A verdict that cannot be recorded (unknown verdict, bad tag, missing patch)."""


@dataclass(frozen=True, slots=True)
class SavedVerdict:
    id: int
    uid: str
    patch_id: int
    reviewer: str
    verdict: str
    created_at: datetime
    supersedes_id: int | None


def total_cost_usd(input_cost_usd: float | None, output_cost_usd: float | None) -> float | None:
    """A patch's cost: input plus output, None when neither is known."""
    if input_cost_usd is None and output_cost_usd is None:
        return None
    return (input_cost_usd or 0.0) + (output_cost_usd or 0.0)


def encode_tags(tags: Iterable[str]) -> str:
    cleaned = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            continue
        if TAG_SEPARATOR in tag:
            raise VerdictError(f"tag {tag!r} must not contain {TAG_SEPARATOR!r}")
        if tag not in cleaned:
            cleaned.append(tag)
    return json.dumps(cleaned, ensure_ascii=False) if cleaned else ""


def decode_tags(stored: str) -> list[str]:
    return list(json.loads(stored)) if stored else []


def reviewer_id(conn: Connection, name: str) -> int:
    """The reviewer's id, adding the reviewer on first use."""
    name = name.strip()
    if not name:
        raise VerdictError("a reviewer needs a name")
    table = Reviewer.__table__
    found = conn.execute(select(table.c.id).where(table.c.name == name)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(table.insert().values(name=name, created_at=utcnow())).inserted_primary_key[0])


def latest_verdict_row(conn: Connection, patch_id: int, reviewer: int) -> tuple[int, str] | None:
    """(id, verdict) of the reviewer's most recent row on the patch, retractions included."""
    table = Verdict.__table__
    row = conn.execute(
        select(table.c.id, table.c.verdict)
        .where(table.c.patch_id == patch_id, table.c.reviewer_id == reviewer)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row else None


def insert_verdict(
    conn: Connection,
    *,
    patch_id: int,
    reviewer: str,
    verdict: str,
    note: str = "",
    tags: Iterable[str] = (),
    seconds_spent: float | None = None,
    revealed_before: bool = False,
    source: str = "review",
    session_id: int | None = None,
    created_at: datetime | None = None,
    uid: str | None = None,
    answers: GivenAnswers | None = None,
) -> SavedVerdict:
    """Append a verdict in the caller's transaction; it supersedes the reviewer's latest row on the patch.

    `answers` (rubric answers) are appended with it, in the same transaction.
    """
    verdict = verdict.strip().lower()
    if verdict not in (*HUMAN_VERDICTS, RETRACTED):
        raise VerdictError(f"unknown verdict {verdict!r}; expected one of {', '.join(HUMAN_VERDICTS)}")
    rid = reviewer_id(conn, reviewer)
    previous = latest_verdict_row(conn, patch_id, rid)
    if verdict == RETRACTED and (previous is None or previous[1] == RETRACTED):
        raise VerdictError("nothing to undo: no verdict of this reviewer on this patch")
    when = created_at or utcnow()
    values = {
        "uid": uid or uuid.uuid4().hex,
        "patch_id": patch_id,
        "reviewer_id": rid,
        "verdict": verdict,
        "note": note,
        "tags": encode_tags(tags),
        "created_at": when,
        "seconds_spent": seconds_spent,
        "revealed_before": revealed_before,
        "supersedes_id": previous[0] if previous else None,
        "source": source,
        "session_id": session_id,
    }
    new_id = int(conn.execute(Verdict.__table__.insert().values(**values)).inserted_primary_key[0])
    if answers is not None and verdict != RETRACTED:
        insert_answers(conn, new_id, answers)
    return SavedVerdict(new_id, values["uid"], patch_id, reviewer, verdict, when, values["supersedes_id"])


def record_verdict(engine: Engine, **kwargs: object) -> SavedVerdict:
    """Append a verdict in its own transaction; when this returns, the verdict is committed."""
    with write_transaction(engine) as conn:
        return insert_verdict(conn, **kwargs)  # type: ignore[arg-type]


def record_reveal(engine: Engine, *, patch_id: int, reviewer: str, verdict_id: int | None) -> datetime:
    """Store the moment the verifier's verdict was shown to the reviewer."""
    when = utcnow()
    with write_transaction(engine) as conn:
        rid = reviewer_id(conn, reviewer)
        conn.execute(
            Reveal.__table__.insert().values(
                patch_id=patch_id, reviewer_id=rid, verdict_id=verdict_id, revealed_at=when
            )
        )
    return when


def current_verdicts_query():  # type: ignore[no-untyped-def]
    """A select of each (patch, reviewer)'s latest verdict row, as a subquery (retractions included)."""
    v = Verdict.__table__
    ranked = select(
        v.c.id,
        func.row_number()
        .over(partition_by=(v.c.patch_id, v.c.reviewer_id), order_by=(v.c.created_at.desc(), v.c.id.desc()))
        .label("rank"),
    ).subquery()
    return select(v).join(ranked, and_(ranked.c.id == v.c.id, ranked.c.rank == 1))


def status_counts(engine: Engine) -> list[dict[str, object]]:
    """Patches per benchmark, submission and verifier verdict, with how many have a human verdict."""
    p, s = Patch.__table__, Submission.__table__
    current = current_verdicts_query().subquery()
    graded = select(current.c.patch_id).where(current.c.verdict != RETRACTED).distinct().subquery()
    query = (
        select(
            s.c.benchmark,
            s.c.name,
            p.c.verifier_verdict,
            func.count(p.c.id),
            func.count(graded.c.patch_id),
        )
        .select_from(p.join(s, s.c.id == p.c.submission_id).outerjoin(graded, graded.c.patch_id == p.c.id))
        .group_by(s.c.benchmark, s.c.name, p.c.verifier_verdict)
        .order_by(s.c.benchmark, s.c.name, p.c.verifier_verdict)
    )
    with engine.connect() as conn:
        return [
            {"benchmark": b, "model": m, "verifier_verdict": v, "patches": n, "graded": g}
            for b, m, v, n, g in conn.execute(query)
        ]


def count_tasks(engine: Engine) -> tuple[int, int]:
    """(tasks, tasks with a problem statement)."""
    t = Task.__table__
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(t)).scalar_one()
        described = conn.execute(select(func.count()).select_from(t).where(t.c.problem_statement != "")).scalar_one()
    return int(total), int(described)

"""Rubric answers in the store: the rubric as used (by digest), answers written with their verdict, read back.

Answers belong to a verdict row and are written in the verdict's transaction (`insert_verdict(...,
answers=...)`), so a verdict is never saved without the answers it was given with, nor answers without their
verdict. A reviewer's current answers on a patch are those of their current verdict row; a changed answer is a
new verdict row (the same verdict, superseding the old one) carrying the full set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from grader.core.store.db import write_transaction
from grader.core.store.models import RETRACTED, Patch, RubricAnswer, RubricRecord, Task, Verdict, utcnow


@dataclass(frozen=True, slots=True)
class GivenAnswers:
    """The answers that go with one verdict: question id -> stored value, under one stored rubric."""

    rubric_id: int
    values: Mapping[str, str] = field(default_factory=dict)


def store_rubric(engine: Engine, *, name: str, digest: str, text: str) -> int:
    """The id of the stored rubric with this digest, storing it first if new (two writers may race: one wins)."""
    table = RubricRecord.__table__
    with engine.connect() as conn:
        found = conn.execute(select(table.c.id).where(table.c.digest == digest)).scalar()
    if found is not None:
        return int(found)
    try:
        with write_transaction(engine) as conn:
            found = conn.execute(select(table.c.id).where(table.c.digest == digest)).scalar()
            if found is not None:
                return int(found)
            inserted = conn.execute(table.insert().values(name=name, digest=digest, text=text, created_at=utcnow()))
            return int(inserted.inserted_primary_key[0])
    except IntegrityError:
        with engine.connect() as conn:
            return int(conn.execute(select(table.c.id).where(table.c.digest == digest)).scalar_one())


def stored_rubric_text(conn: Connection, rubric_id: int) -> tuple[str, str]:
    """(name, TOML text) of a stored rubric."""
    table = RubricRecord.__table__
    row = conn.execute(select(table.c.name, table.c.text).where(table.c.id == rubric_id)).one()
    return str(row.name), str(row.text)


def insert_answers(conn: Connection, verdict_id: int, answers: GivenAnswers) -> None:
    """Append the answers of a verdict, in the caller's (the verdict's) transaction; empty answers are left out."""
    rows = [
        {"verdict_id": verdict_id, "rubric_id": answers.rubric_id, "question": question, "value": value}
        for question, value in answers.values.items()
        if value != ""
    ]
    if rows:
        conn.execute(RubricAnswer.__table__.insert(), rows)


def answers_of_verdict(conn: Connection, verdict_id: int) -> dict[str, str]:
    a = RubricAnswer.__table__
    return {q: v for q, v in conn.execute(select(a.c.question, a.c.value).where(a.c.verdict_id == verdict_id))}


def current_answers(conn: Connection, patch_id: int, reviewer_id: int) -> dict[str, str]:
    """The answers of the reviewer's current verdict on the patch (none when it is retracted or absent)."""
    v = Verdict.__table__
    latest = conn.execute(
        select(v.c.id, v.c.verdict)
        .where(v.c.patch_id == patch_id, v.c.reviewer_id == reviewer_id)
        .order_by(v.c.created_at.desc(), v.c.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.verdict == RETRACTED:
        return {}
    return answers_of_verdict(conn, int(latest.id))


def task_answers(conn: Connection, patch_id: int, reviewer_id: int, questions: list[str]) -> dict[str, str]:
    """The reviewer's latest answers to task-level `questions` given on any patch of this patch's task (the same
    instance id in any benchmark), so a task is not judged again for every model's patch of it."""
    if not questions:
        return {}
    v, a, p, t = Verdict.__table__, RubricAnswer.__table__, Patch.__table__, Task.__table__
    instance = select(t.c.instance_id).join(p, p.c.task_id == t.c.id).where(p.c.id == patch_id).scalar_subquery()
    rows = conn.execute(
        select(a.c.question, a.c.value, v.c.verdict)
        .select_from(a.join(v, v.c.id == a.c.verdict_id).join(p, p.c.id == v.c.patch_id).join(t, t.c.id == p.c.task_id))
        .where(t.c.instance_id == instance, v.c.reviewer_id == reviewer_id, a.c.question.in_(questions))
        .order_by(v.c.created_at, v.c.id)
    )
    found: dict[str, str] = {}
    for question, value, verdict in rows:
        if verdict != RETRACTED:
            found[question] = value
    return found

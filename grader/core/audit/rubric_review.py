"""Rubrics on the review screen and in sessions: the rubric a session asks, a reviewer's answers on a patch, and
the published labels shown only after the reviewer's own answer.

A session's rubric is recorded as a `rubric` session event (append-only) naming the stored rubric by id and
digest, so every reviewer of the session answers the same questions. On a patch, the reviewer's current answers
are those of their current verdict; task-level questions they already answered on another patch of the same task
come filled in (they can change them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from sqlalchemy import Engine, select

from grader.core.audit.review import PatchView
from grader.core.importers.rubrics import Rubric, parse_rubric
from grader.core.store.db import write_transaction
from grader.core.store.models import ExternalLabel, Reviewer, RubricRecord, SessionEvent, utcnow
from grader.core.store.rubric_answers import current_answers, store_rubric, task_answers

RUBRIC_EVENT = "rubric"


@dataclass(frozen=True, slots=True)
class ReviewRubric:
    """A rubric as the review screen asks it, with the id of its stored definition (answers point to it)."""

    rubric: Rubric
    rubric_id: int


def prepare_rubric(engine: Engine, rubric: Rubric) -> ReviewRubric:
    return ReviewRubric(rubric, store_rubric(engine, name=rubric.name, digest=rubric.digest, text=rubric.text))


def attach_rubric(engine: Engine, session_id: int, rubric: Rubric, *, actor: str = "") -> ReviewRubric:
    """Record that the session's reviewers answer this rubric (a session event; the latest one holds)."""
    prepared = prepare_rubric(engine, rubric)
    detail = {"rubric_id": prepared.rubric_id, "name": rubric.name, "digest": rubric.digest}
    with write_transaction(engine) as conn:
        conn.execute(
            SessionEvent.__table__.insert().values(
                session_id=session_id, kind=RUBRIC_EVENT, actor=actor, detail=json.dumps(detail), created_at=utcnow()
            )
        )
    return prepared


def session_rubric(engine: Engine, session_id: int) -> ReviewRubric | None:
    """The rubric the session asks, or None."""
    e, r = SessionEvent.__table__, RubricRecord.__table__
    with engine.connect() as conn:
        detail = conn.execute(
            select(e.c.detail)
            .where(e.c.session_id == session_id, e.c.kind == RUBRIC_EVENT)
            .order_by(e.c.id.desc())
            .limit(1)
        ).scalar()
        if detail is None:
            return None
        rubric_id = int(json.loads(detail)["rubric_id"])
        name, text = conn.execute(select(r.c.name, r.c.text).where(r.c.id == rubric_id)).one()
    return ReviewRubric(parse_rubric(str(text), f"stored rubric {name}"), rubric_id)


def with_answers(engine: Engine, view: PatchView, reviewer: str, rubric: ReviewRubric) -> PatchView:
    """The view with the reviewer's current answers (task-level ones from the task's other patches when this
    patch has none yet) and the published labels of its task (the screen shows them only after the verdict)."""
    task_questions = [q.id for q in rubric.rubric.questions if q.level == "task"]
    asked = {q.id for q in rubric.rubric.questions}
    with engine.connect() as conn:
        reviewer_id = conn.execute(
            select(Reviewer.__table__.c.id).where(Reviewer.__table__.c.name == reviewer)
        ).scalar()
        mine: dict[str, str] = {}
        if reviewer_id is not None:
            mine = {q: v for q, v in current_answers(conn, view.patch_id, int(reviewer_id)).items() if q in asked}
            if not mine:
                mine = task_answers(conn, view.patch_id, int(reviewer_id), task_questions)
        published = _published(conn, view.instance_id, rubric.rubric)
    return replace(view, rubric_answers=tuple(sorted(mine.items())), published_labels=published)


def _published(conn, instance_id: str, rubric: Rubric) -> tuple[tuple[str, str, str], ...]:  # type: ignore[no-untyped-def]
    """(rater, question, value) of the published labels on this task for the rubric's questions (latest wins)."""
    e, r = ExternalLabel.__table__, RubricRecord.__table__
    rows = conn.execute(
        select(e.c.rater, e.c.question, e.c.value)
        .join(r, r.c.id == e.c.rubric_id)
        .where(e.c.instance_id == instance_id, r.c.name == rubric.name)
        .order_by(e.c.id)
    )
    found: dict[tuple[str, str], str] = {}
    for rater, question, value in rows:
        found[(str(rater), str(question))] = str(value)
    return tuple((rater, question, value) for (rater, question), value in sorted(found.items()))

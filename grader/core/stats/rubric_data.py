"""Rubric answers and published labels loaded for the statistics: who answered what on which audited item.

An item is a patch with a current verdict in scope (the filters, or one session's own verdicts). A patch-level
question's answers are its reviewers'; a task-level question's answers are each reviewer's latest answer on the
task (any patch of the same instance id), and every audited patch of the task carries the task's answer.
Several reviewers' answers become the item's one answer by the question's `ensemble` rule.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, func, select

from grader.core.importers.rubrics import Question, Rubric, RubricError, parse_rubric
from grader.core.store.models import (
    RETRACTED,
    ExternalLabel,
    Patch,
    Reviewer,
    RubricAnswer,
    RubricRecord,
    Submission,
    Task,
    Verdict,
)


@dataclass(frozen=True, slots=True)
class AuditedItem:
    patch_id: int
    model: str
    instance_id: str
    verifier: str


@dataclass(slots=True)
class RubricAnswers:
    """One rubric's answers in scope: per patch-level question {patch: {reviewer: value}}, per task-level
    question {instance id: {reviewer: value}}."""

    rubric: Rubric
    by_patch: dict[str, dict[int, dict[str, str]]] = field(default_factory=dict)
    by_task: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def reviewer_answers(self, question: Question, item: AuditedItem) -> dict[str, str]:
        if question.level == "task":
            return self.by_task.get(question.id, {}).get(item.instance_id, {})
        return self.by_patch.get(question.id, {}).get(item.patch_id, {})

    def item_answer(self, question: Question, item: AuditedItem) -> str | None:
        return ensemble(question, list(self.reviewer_answers(question, item).values()))


def ensemble(question: Question, values: Sequence[str]) -> str | None:
    """Several reviewers' answers as one: strict majority (a tie gives none), highest level, or lower median.

    Multi-select: the options a strict majority of the reviewers chose (a JSON list)."""
    if not values:
        return None
    if question.kind == "multi":
        chosen = Counter(option for value in values for option in json.loads(value))
        kept = [o.value for o in question.options if chosen[o.value] * 2 > len(values)]
        return json.dumps(kept)
    if question.ensemble in ("max", "median") and question.ordinal:
        ranked = sorted(values, key=question.rank)
        return ranked[-1] if question.ensemble == "max" else ranked[(len(ranked) - 1) // 2]
    counts = Counter(values).most_common(2)
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None
    if counts[0][1] * 2 <= len(values) and len(values) > 1:
        return None
    return counts[0][0]


def _current_verdicts(session_id: int | None):  # type: ignore[no-untyped-def]
    """Each (patch, reviewer)'s latest verdict row; in a session, the latest row given in that session."""
    v = Verdict.__table__
    ranked = select(
        v.c.id,
        func.row_number()
        .over(partition_by=(v.c.patch_id, v.c.reviewer_id), order_by=(v.c.created_at.desc(), v.c.id.desc()))
        .label("rank"),
    )
    if session_id is not None:
        ranked = ranked.where(v.c.session_id == session_id)
    sub = ranked.subquery()
    return select(v).join(sub, and_(sub.c.id == v.c.id, sub.c.rank == 1)).where(v.c.verdict != RETRACTED).subquery()


def _scoped(query, s, models: Sequence[str], benchmark: str | None):  # type: ignore[no-untyped-def]
    if models:
        query = query.where(s.c.name.in_(list(models)))
    if benchmark is not None:
        query = query.where(s.c.benchmark == benchmark)
    return query


def load_audited_items(
    engine: Engine, *, models: Sequence[str] = (), benchmark: str | None = None, session_id: int | None = None
) -> list[AuditedItem]:
    """The patches with a current verdict in scope (graded items only: memory grows with the audit)."""
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    current = _current_verdicts(session_id)
    query = _scoped(
        select(p.c.id, s.c.name, t.c.instance_id, p.c.verifier_verdict)
        .select_from(p.join(s, s.c.id == p.c.submission_id).join(t, t.c.id == p.c.task_id))
        .where(p.c.id.in_(select(current.c.patch_id)))
        .order_by(p.c.id),
        s,
        models,
        benchmark,
    )
    with engine.connect() as conn:
        return [AuditedItem(int(i), str(m), str(iid), str(v)) for i, m, iid, v in conn.execute(query)]


def stored_rubrics(engine: Engine, names: Iterable[str] | None = None) -> dict[str, Rubric]:
    """The latest stored definition of each rubric name (answers of older digests are read with it)."""
    r = RubricRecord.__table__
    query = select(r.c.name, r.c.text).order_by(r.c.id)
    if names is not None:
        query = query.where(r.c.name.in_(list(names)))
    out: dict[str, Rubric] = {}
    with engine.connect() as conn:
        for name, text in conn.execute(query):
            try:
                out[str(name)] = parse_rubric(str(text), f"stored rubric {name}")
            except RubricError:
                continue  # a definition this grader cannot read: its answers are left out, the others stand
    return out


def load_rubric_answers(
    engine: Engine, *, models: Sequence[str] = (), benchmark: str | None = None, session_id: int | None = None
) -> dict[str, RubricAnswers]:
    """Every rubric's answers in scope, keyed by rubric name."""
    a, r, rv = RubricAnswer.__table__, RubricRecord.__table__, Reviewer.__table__
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    current = _current_verdicts(session_id)
    query = _scoped(
        select(r.c.name, a.c.question, a.c.value, current.c.patch_id, t.c.instance_id, rv.c.name)
        .select_from(
            a.join(current, current.c.id == a.c.verdict_id)
            .join(r, r.c.id == a.c.rubric_id)
            .join(rv, rv.c.id == current.c.reviewer_id)
            .join(p, p.c.id == current.c.patch_id)
            .join(s, s.c.id == p.c.submission_id)
            .join(t, t.c.id == p.c.task_id)
        )
        .order_by(current.c.created_at, current.c.id),
        s,
        models,
        benchmark,
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    rubrics = stored_rubrics(engine, {row[0] for row in rows})
    out: dict[str, RubricAnswers] = {}
    for name, question_id, value, patch_id, instance_id, reviewer in rows:
        rubric = rubrics.get(name)
        if rubric is None:
            continue
        try:
            question = rubric.question(question_id)
        except KeyError:
            continue  # a question an older definition had
        answers = out.setdefault(name, RubricAnswers(rubric))
        if question.level == "task":
            answers.by_task.setdefault(question_id, {}).setdefault(instance_id, {})[reviewer] = value
        else:
            answers.by_patch.setdefault(question_id, {}).setdefault(int(patch_id), {})[reviewer] = value
    return out


def load_external_labels(engine: Engine, rater: str) -> tuple[str | None, dict[str, dict[str, str]]]:
    """(rubric name, {question: {instance id: value}}) of a named external rater; a later import's row wins."""
    e, r = ExternalLabel.__table__, RubricRecord.__table__
    query = (
        select(r.c.name, e.c.question, e.c.instance_id, e.c.value)
        .join(r, r.c.id == e.c.rubric_id)
        .where(e.c.rater == rater)
        .order_by(e.c.id)
    )
    labels: dict[str, dict[str, str]] = {}
    rubric_name = None
    with engine.connect() as conn:
        for name, question, instance_id, value in conn.execute(query):
            rubric_name = str(name)
            labels.setdefault(str(question), {})[str(instance_id)] = str(value)
    return rubric_name, labels


def external_raters(engine: Engine) -> list[str]:
    e = ExternalLabel.__table__
    with engine.connect() as conn:
        return sorted(str(r) for r in conn.execute(select(e.c.rater).distinct()).scalars())


def session_unit_patches(engine: Engine, session_id: int) -> list[int]:
    """The patch id of each sampled unit of a session, in the order `load_session_design` lists its units."""
    from grader.core.store.models import SessionItem

    i = SessionItem.__table__
    query = select(i.c.patch_id).where(i.c.session_id == session_id, i.c.gold.is_(False)).order_by(i.c.position)
    with engine.connect() as conn:
        return [int(patch_id) for patch_id in conn.execute(query).scalars()]


def instance_ids(engine: Engine, *, models: Sequence[str] = (), benchmark: str | None = None) -> dict[int, str]:
    """Patch id -> instance id for every patch in scope (a filter on published task labels needs them all)."""
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    query = _scoped(
        select(p.c.id, t.c.instance_id).select_from(
            p.join(s, s.c.id == p.c.submission_id).join(t, t.c.id == p.c.task_id)
        ),
        s,
        models,
        benchmark,
    )
    with engine.connect() as conn:
        return {int(patch_id): str(instance) for patch_id, instance in conn.execute(query)}

"""Rubric answers as export columns: one column per question (`rubric:question`), filled from the answers given
with each exported verdict. Multi-select answers read `a; b` in CSV and are lists in JSON Lines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from grader.core.importers.rubrics import Rubric
from grader.core.stats.rubric_data import stored_rubrics
from grader.core.store.models import RETRACTED, RubricAnswer, RubricRecord
from grader.core.store.verdicts import current_verdicts_query


@dataclass(slots=True)
class AnswerColumns:
    names: list[str] = field(default_factory=list)
    by_verdict: dict[str, dict[str, Any]] = field(default_factory=dict)  # verdict uid -> column -> value

    def values(self, verdict_uid: str | None) -> dict[str, Any]:
        found = self.by_verdict.get(verdict_uid or "", {})
        return {name: found.get(name) for name in self.names}


def answer_columns(engine: Engine, *, session_id: int | None = None, as_list: bool = False) -> AnswerColumns:
    """The columns for every rubric answered on a current verdict (in the session, when given)."""
    a, r = RubricAnswer.__table__, RubricRecord.__table__
    current = current_verdicts_query().subquery()
    query = (
        select(current.c.uid, r.c.name, a.c.question, a.c.value)
        .select_from(a.join(current, current.c.id == a.c.verdict_id).join(r, r.c.id == a.c.rubric_id))
        .where(current.c.verdict != RETRACTED)
    )
    if session_id is not None:
        query = query.where(current.c.session_id == session_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    columns = AnswerColumns()
    if not rows:
        return columns
    rubrics: dict[str, Rubric] = stored_rubrics(engine, {row[1] for row in rows})
    kinds: dict[str, str] = {}
    for name in sorted(rubrics):
        for question in rubrics[name].questions:
            column = f"{name}:{question.id}"
            columns.names.append(column)
            kinds[column] = question.kind
    for uid, name, question, value in rows:
        column = f"{name}:{question}"
        if column not in kinds:
            continue
        if kinds[column] == "multi":
            chosen = json.loads(value)
            value = chosen if as_list else "; ".join(chosen)
        columns.by_verdict.setdefault(str(uid), {})[column] = value
    return columns

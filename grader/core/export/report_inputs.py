"""A digest of what a report's figures are computed from, so a published audit can be checked against a store.

sha256 over, in a fixed order: every patch in scope with its verifier verdict, every verdict row in scope (its
uid, patch, reviewer, verdict, source, session, supersedes) and every rubric answer of those rows. Streamed
from the database; the same store and options give the same digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import Engine, select

from grader.core.store.models import Patch, Reviewer, RubricAnswer, Submission, Verdict

BATCH = 5000


def inputs_digest(
    engine: Engine, *, models: Sequence[str] = (), benchmark: str | None = None, session_id: int | None = None
) -> str:
    p, s, v, r, a = Patch.__table__, Submission.__table__, Verdict.__table__, Reviewer.__table__, RubricAnswer.__table__
    scope = select(p.c.id).join(s, s.c.id == p.c.submission_id)
    if models:
        scope = scope.where(s.c.name.in_(list(models)))
    if benchmark is not None:
        scope = scope.where(s.c.benchmark == benchmark)
    patches = select(p.c.id, p.c.verifier_verdict).where(p.c.id.in_(scope)).order_by(p.c.id)
    verdicts = (
        select(v.c.uid, v.c.patch_id, r.c.name, v.c.verdict, v.c.source, v.c.session_id, v.c.supersedes_id)
        .join(r, r.c.id == v.c.reviewer_id)
        .where(v.c.patch_id.in_(scope))
        .order_by(v.c.id)
    )
    answers = (
        select(v.c.uid, a.c.question, a.c.value)
        .join(v, v.c.id == a.c.verdict_id)
        .where(v.c.patch_id.in_(scope))
        .order_by(a.c.id)
    )
    if session_id is not None:
        verdicts = verdicts.where(v.c.session_id == session_id)
        answers = answers.where(v.c.session_id == session_id)
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for label, query in (("patches", patches), ("verdicts", verdicts), ("answers", answers)):
            digest.update(label.encode())
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
            for row in result:
                digest.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
                digest.update(b"\n")
    return digest.hexdigest()

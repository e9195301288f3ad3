"""The plain records the statistics need, loaded from the store with SQLAlchemy Core (only the needed columns)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from grader.core.store.models import ADJUDICATION_SOURCE, RETRACTED, Patch, Reviewer, SessionItem, Submission, Task
from grader.core.store.verdicts import current_verdicts_query, decode_tags, total_cost_usd


@dataclass(frozen=True, slots=True)
class HumanVerdict:
    """A reviewer's current verdict on a patch (pass, fail or unsure; retracted verdicts are dropped)."""

    reviewer: str
    verdict: str
    source: str = "review"
    session_id: int | None = None
    tags: tuple[str, ...] = ()

    @property
    def is_adjudication(self) -> bool:
        return self.source == ADJUDICATION_SOURCE


@dataclass(slots=True)
class ItemRecord:
    """One patch with what the statistics use. `verdicts` are ordered oldest first by (created_at, id)."""

    patch_id: int
    model: str
    benchmark: str
    repo: str
    verifier_verdict: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_cost_usd: float | None = None
    output_cost_usd: float | None = None
    verdicts: list[HumanVerdict] = field(default_factory=list)

    @property
    def cost_usd(self) -> float | None:
        return total_cost_usd(self.input_cost_usd, self.output_cost_usd)


def load_stat_records(
    engine: Engine,
    *,
    models: Sequence[str] = (),
    benchmark: str | None = None,
    session_id: int | None = None,
) -> list[ItemRecord]:
    """Every patch matching the filters, with its reviewers' current verdicts.

    `session_id` keeps only verdicts given in that audit session, on its sampled patches (not on the gold
    items mixed into its queues); the patches (the population) stay all patches matching the filters.
    """
    p, s, t, r = Patch.__table__, Submission.__table__, Task.__table__, Reviewer.__table__
    i = SessionItem.__table__
    patch_query = select(
        p.c.id,
        s.c.name,
        s.c.benchmark,
        t.c.repo,
        p.c.verifier_verdict,
        p.c.input_tokens,
        p.c.output_tokens,
        p.c.input_cost_usd,
        p.c.output_cost_usd,
    ).select_from(p.join(s, s.c.id == p.c.submission_id).join(t, t.c.id == p.c.task_id))
    current = current_verdicts_query().subquery()
    verdict_query = (
        select(current.c.patch_id, r.c.name, current.c.verdict, current.c.source, current.c.session_id, current.c.tags)
        .select_from(
            current.join(r, r.c.id == current.c.reviewer_id)
            .join(p, p.c.id == current.c.patch_id)
            .join(s, s.c.id == p.c.submission_id)
        )
        .where(current.c.verdict != RETRACTED)
        .order_by(current.c.created_at, current.c.id)
    )
    if models:
        patch_query = patch_query.where(s.c.name.in_(list(models)))
        verdict_query = verdict_query.where(s.c.name.in_(list(models)))
    if benchmark is not None:
        patch_query = patch_query.where(s.c.benchmark == benchmark)
        verdict_query = verdict_query.where(s.c.benchmark == benchmark)
    if session_id is not None:
        # Gold items mixed into the session's queues are not part of its sample (docs/sessions.md).
        gold = select(i.c.patch_id).where(i.c.session_id == session_id, i.c.gold.is_(True))
        verdict_query = verdict_query.where(current.c.session_id == session_id, current.c.patch_id.not_in(gold))
    with engine.connect() as conn:
        records = {
            int(row[0]): ItemRecord(
                patch_id=int(row[0]),
                model=row[1],
                benchmark=row[2],
                repo=row[3] or "",
                verifier_verdict=row[4],
                input_tokens=row[5],
                output_tokens=row[6],
                input_cost_usd=row[7],
                output_cost_usd=row[8],
            )
            for row in conn.execute(patch_query.order_by(p.c.id))
        }
        for patch_id, reviewer, verdict, source, session, tags in conn.execute(verdict_query):
            record = records.get(int(patch_id))
            if record is not None:
                record.verdicts.append(HumanVerdict(reviewer, verdict, source, session, tuple(decode_tags(tags))))
    return list(records.values())


def load_model_names(engine: Engine, *, benchmark: str | None = None) -> list[str]:
    """Every model (submission name) in the store, so models without patches still appear in `by_model`."""
    s = Submission.__table__
    query = select(s.c.name).distinct().order_by(s.c.name)
    if benchmark is not None:
        query = query.where(s.c.benchmark == benchmark)
    with engine.connect() as conn:
        return [str(name) for name in conn.execute(query).scalars()]

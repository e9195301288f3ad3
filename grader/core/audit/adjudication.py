"""Disagreements in a session (reviewers split pass vs fail) and the adjudicated labels that settle them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from grader.core.audit.assignment import AssignmentError, run_write
from grader.core.store.models import ADJUDICATION_SOURCE, RETRACTED, Patch, Reviewer, SessionItem, Submission, Task
from grader.core.store.verdicts import SavedVerdict, current_verdicts_query, decode_tags, insert_verdict

ADJUDICATED_VERDICTS = ("pass", "fail")


@dataclass(frozen=True, slots=True)
class SideVerdict:
    reviewer: str
    verdict: str
    note: str
    tags: tuple[str, ...]
    created_at: datetime


@dataclass(slots=True)
class AdjudicationCase:
    """One sampled patch with its reviewers' current verdicts side by side, and its adjudication if any."""

    patch_id: int
    task_id: str
    benchmark: str
    model: str  # the real name; show it through sessions.model_display_names
    verdicts: list[SideVerdict] = field(default_factory=list)
    adjudication: SideVerdict | None = None

    @property
    def disagreement(self) -> bool:
        labels = {v.verdict for v in self.verdicts}
        return "pass" in labels and "fail" in labels

    @property
    def resolved(self) -> bool:
        return self.adjudication is not None


def session_cases(engine: Engine, session_id: int) -> list[AdjudicationCase]:
    """Every sampled patch of the session with the current verdicts given in it, in the session's order."""
    i, p, s, t, r = SessionItem.__table__, Patch.__table__, Submission.__table__, Task.__table__, Reviewer.__table__
    current = current_verdicts_query().subquery()
    cases_query = (
        select(i.c.patch_id, t.c.instance_id, s.c.benchmark, s.c.name)
        .select_from(
            i.join(p, p.c.id == i.c.patch_id).join(s, s.c.id == p.c.submission_id).join(t, t.c.id == p.c.task_id)
        )
        .where(i.c.session_id == session_id, i.c.gold.is_(False))  # gold items have a known answer
        .order_by(i.c.position)
    )
    verdicts_query = (
        select(
            current.c.patch_id,
            r.c.name,
            current.c.verdict,
            current.c.note,
            current.c.tags,
            current.c.created_at,
            current.c.source,
        )
        .select_from(current.join(r, r.c.id == current.c.reviewer_id))
        .where(current.c.session_id == session_id, current.c.verdict != RETRACTED)
        .order_by(current.c.created_at, current.c.id)
    )
    with engine.connect() as conn:
        cases = {
            int(row[0]): AdjudicationCase(int(row[0]), row[1], row[2], row[3]) for row in conn.execute(cases_query)
        }
        for patch_id, reviewer, verdict, note, tags, created_at, source in conn.execute(verdicts_query):
            case = cases.get(int(patch_id))
            if case is None:
                continue
            side = SideVerdict(reviewer, verdict, note, tuple(decode_tags(tags)), created_at)
            if source == ADJUDICATION_SOURCE:
                case.adjudication = side
            else:
                case.verdicts.append(side)
    return list(cases.values())


def adjudication_queue(engine: Engine, session_id: int, *, include_resolved: bool = False) -> list[AdjudicationCase]:
    """The session's patches whose reviewers disagree, unresolved ones only unless `include_resolved`."""
    return [
        case
        for case in session_cases(engine, session_id)
        if case.disagreement and (include_resolved or not case.resolved)
    ]


def record_adjudication(
    engine: Engine,
    *,
    session_id: int,
    patch_id: int,
    adjudicator: str,
    verdict: str,
    note: str = "",
    tags: Iterable[str] = (),
) -> SavedVerdict:
    """Record the adjudicated label (a verdict with source 'adjudication'); the statistics use it as the label.

    The adjudicator must be a third person: not one of the reviewers who graded the patch in this session.
    """
    verdict = verdict.strip().lower()
    if verdict not in ADJUDICATED_VERDICTS:
        raise AssignmentError(f"an adjudicated label is pass or fail, not {verdict!r}")
    tag_list = list(tags)
    current = current_verdicts_query().subquery()
    r, i = Reviewer.__table__, SessionItem.__table__

    def adjudicate(conn):  # type: ignore[no-untyped-def]
        sampled = conn.execute(select(i.c.id).where(i.c.session_id == session_id, i.c.patch_id == patch_id)).scalar()
        if sampled is None:
            raise AssignmentError(f"patch {patch_id} is not in this session's sample")
        graders = set(
            conn.execute(
                select(r.c.name)
                .select_from(current.join(r, r.c.id == current.c.reviewer_id))
                .where(
                    current.c.patch_id == patch_id,
                    current.c.session_id == session_id,
                    current.c.source != ADJUDICATION_SOURCE,
                    current.c.verdict != RETRACTED,
                )
            ).scalars()
        )
        if adjudicator in graders:
            raise AssignmentError(f"{adjudicator} graded this patch; adjudication needs a third person")
        return insert_verdict(
            conn,
            patch_id=patch_id,
            reviewer=adjudicator,
            verdict=verdict,
            note=note,
            tags=tag_list,
            source=ADJUDICATION_SOURCE,
            session_id=session_id,
        )

    return run_write(engine, adjudicate)

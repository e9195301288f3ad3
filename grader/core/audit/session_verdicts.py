"""A verdict given in a session: recorded with the reviewer's slot completed, in one transaction, and copied to the
identical patches of its group.

Grade once: sampled patches of one task with the same normalised hash (`patch.norm_hash`) form a group. A
reviewer is offered one member of a group: while they hold a slot on a member, the others are not offered to
them. Their verdict is copied, in the same transaction, to every other sampled member they hold or can take a
slot on, as a verdict with source 'propagated' and the note `propagated from <uid of the source verdict>`,
completing that slot; an undo retracts those copies too. Gold items never join a group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from grader.core.audit.assignment import (
    DEFAULT_LEASE_SECONDS,
    LostRace,
    group_siblings,
    my_slot,
    run_write,
    session_row,
    take_any_free_slot,
)
from grader.core.store.models import RETRACTED, Reviewer, SessionAssignment, Verdict, utcnow
from grader.core.store.rubric_answers import GivenAnswers
from grader.core.store.verdicts import SavedVerdict, current_verdicts_query, insert_verdict, reviewer_id

PROPAGATED_SOURCE = "propagated"
PROPAGATED_NOTE = "propagated from "


@dataclass(frozen=True, slots=True)
class SessionVerdict:
    saved: SavedVerdict
    counted: bool  # False when the reviewer's lease was lost and every slot of the patch was taken meanwhile
    # The other sampled members of the patch's group that got a propagated copy (or its retraction).
    propagated: tuple[int, ...] = ()


def submit_session_verdict(
    engine: Engine,
    *,
    session_id: int,
    patch_id: int,
    reviewer: str,
    verdict: str,
    note: str = "",
    tags: Iterable[str] = (),
    seconds_spent: float | None = None,
    revealed_before: bool = False,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    answers: GivenAnswers | None = None,
) -> SessionVerdict:
    """Record the verdict (with the session id) and complete the reviewer's slot, in one transaction.

    A reviewer whose lease expired keeps their slot if nobody took it, or takes another free slot of the
    patch; if all K are taken the verdict is still recorded (human work is never dropped) with counted=False.
    A retraction (undo) reopens the reviewer's slot as a fresh lease, so the patch is not left short.
    Grade once: the verdict (or the retraction) is propagated to the other sampled members of the patch's group
    in the same transaction (`SessionVerdict.propagated` lists them).
    """
    tag_list = list(tags)

    def submit(conn: Connection) -> SessionVerdict:
        session_row(conn, session_id, reviewer)
        rid = reviewer_id(conn, reviewer)
        now = utcnow()
        slot = my_slot(conn, session_id, patch_id, rid)
        slot_id = take_any_free_slot(conn, session_id, patch_id, rid, now) if slot is None else int(slot.id)
        saved = insert_verdict(
            conn,
            patch_id=patch_id,
            reviewer=reviewer,
            verdict=verdict,
            note=note,
            tags=tag_list,
            seconds_spent=seconds_spent,
            revealed_before=revealed_before,
            source="review",
            session_id=session_id,
            answers=answers,
        )
        counted = slot_id is not None
        if slot_id is not None:
            _complete_slot(conn, slot_id, rid, saved, now, lease_seconds)
        propagated = _propagate(conn, session_id, patch_id, reviewer, rid, saved, tag_list, now, lease_seconds, answers)
        return SessionVerdict(saved, counted=counted, propagated=tuple(propagated))

    return run_write(engine, submit)


def _complete_slot(
    conn: Connection, slot_id: int, rid: int, saved: SavedVerdict, now: datetime, lease_seconds: float
) -> None:
    """Mark the slot done with the verdict, or reopen it as a fresh lease of the reviewer for a retraction."""
    a = SessionAssignment.__table__
    if saved.verdict == RETRACTED:
        values = {"done_at": None, "verdict_id": None, "lease_expires_at": now + timedelta(seconds=lease_seconds)}
    else:
        values = {"done_at": now, "verdict_id": saved.id}
    updated = conn.execute(a.update().where(a.c.id == slot_id, a.c.reviewer_id == rid).values(**values))
    if updated.rowcount != 1:
        raise LostRace("slot taken meanwhile")


def _propagate(
    conn: Connection,
    session_id: int,
    patch_id: int,
    reviewer: str,
    rid: int,
    saved: SavedVerdict,
    tags: list[str],
    now: datetime,
    lease_seconds: float,
    answers: GivenAnswers | None = None,
) -> list[int]:
    """Copy the verdict to the other sampled members of the patch's group (grade once); returns their ids.

    A verdict goes to every member the reviewer holds a slot on or can take a free one on (a member whose K
    slots went to others meanwhile already has K reviewers and is left alone). A retraction retracts the
    reviewer's current copies propagated from the verdict it withdraws, and reopens their slots as leases.
    """
    siblings = group_siblings(conn, session_id, patch_id)
    if not siblings:
        return []
    v = Verdict.__table__
    done: list[int] = []
    if saved.verdict == RETRACTED:
        withdrawn = conn.execute(select(v.c.uid).where(v.c.id == saved.supersedes_id)).scalar()
        for sibling in siblings:
            latest = conn.execute(
                select(v.c.verdict, v.c.source, v.c.note, v.c.session_id)
                .where(v.c.patch_id == sibling, v.c.reviewer_id == rid)
                .order_by(v.c.created_at.desc(), v.c.id.desc())
                .limit(1)
            ).first()
            if (
                latest is None
                or latest.source != PROPAGATED_SOURCE
                or latest.verdict == RETRACTED
                or latest.session_id != session_id
                or latest.note != f"{PROPAGATED_NOTE}{withdrawn}"
            ):
                continue
            copy = _insert_copy(conn, sibling, reviewer, saved, tags, session_id)
            slot = my_slot(conn, session_id, sibling, rid)
            if slot is not None:
                _complete_slot(conn, int(slot.id), rid, copy, now, lease_seconds)
            done.append(sibling)
        return done
    for sibling in siblings:
        slot = my_slot(conn, session_id, sibling, rid)
        slot_id = take_any_free_slot(conn, session_id, sibling, rid, now) if slot is None else int(slot.id)
        if slot_id is None:
            continue
        copy = _insert_copy(conn, sibling, reviewer, saved, tags, session_id, answers)
        _complete_slot(conn, slot_id, rid, copy, now, lease_seconds)
        done.append(sibling)
    return done


def _insert_copy(
    conn: Connection,
    patch_id: int,
    reviewer: str,
    saved: SavedVerdict,
    tags: list[str],
    session_id: int,
    answers: GivenAnswers | None = None,
) -> SavedVerdict:
    return insert_verdict(
        conn,
        patch_id=patch_id,
        reviewer=reviewer,
        verdict=saved.verdict,
        note=f"{PROPAGATED_NOTE}{saved.uid}",
        tags=tags,
        source=PROPAGATED_SOURCE,
        session_id=session_id,
        answers=answers,  # the same change: the rubric answers go with the verdict
    )


def others_verdicts_visible(engine: Engine, session_id: int, reviewer: str, patch_id: int) -> bool:
    """Whether the screen may show other reviewers' verdicts on this patch: only once this reviewer has committed
    a current (not retracted) verdict of their own on it in this session."""
    current = current_verdicts_query().subquery()
    r = Reviewer.__table__
    query = (
        select(func.count())
        .select_from(current.join(r, r.c.id == current.c.reviewer_id))
        .where(
            r.c.name == reviewer,
            current.c.patch_id == patch_id,
            current.c.session_id == session_id,
            current.c.verdict != RETRACTED,
        )
    )
    with engine.connect() as conn:
        return bool(conn.execute(query).scalar_one())

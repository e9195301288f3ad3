"""Who grades what in a session: K reviewer slots per patch, claimed as expiring leases, completed by a verdict.

A reviewer's queue is the session's shuffled order permuted by an affine map of their own,
(position * a + b) mod n with gcd(a, n) = 1, so each reviewer walks the sample in a different order and the
database can sort by it. A claim takes a free slot (or one whose lease has expired) on a patch the reviewer
holds no slot on; the unique (item, reviewer) constraint makes "K distinct reviewers" a database fact. On
PostgreSQL the slot is locked with FOR UPDATE SKIP LOCKED; on SQLite the claim is a short BEGIN IMMEDIATE
transaction. Lock timeouts, serialization failures and lost races are retried here, never shown to the reviewer.
A gold item's slots are each reserved for one reviewer (`reserved_for`): only they can claim it, through the
same path and in the same order as every other patch. Grade once (`session_verdicts`): while a reviewer holds a
slot on a member of a group of identical patches, the other members are not offered to them.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Connection, Engine, and_, case, exists, func, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from grader.core.audit.sampling import SampleSpec
from grader.core.patches.equivalence import NOTHING
from grader.core.store.db import write_transaction
from grader.core.store.models import (
    AuditSession,
    Patch,
    Reviewer,
    SessionAssignment,
    SessionItem,
    Task,
    utcnow,
)
from grader.core.store.verdicts import reviewer_id

DEFAULT_LEASE_SECONDS = 30 * 60
RETRY_ATTEMPTS = 60
RETRYABLE_PG_CODES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available
Result = TypeVar("Result")


class LostRace(RuntimeError):
    """Another reviewer changed the slot between our read and our write; the transaction is retried."""


class AssignmentError(ValueError):
    """A claim or verdict the session does not allow (closed session, reviewer not on the list, patch not sampled)."""


@dataclass(frozen=True, slots=True)
class SessionProgress:
    items: int
    slots: int
    done: int
    leased: int
    free: int


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, LostRace | IntegrityError):
        return True
    if isinstance(exc, OperationalError) and exc.orig is not None:
        message = str(exc.orig).lower()
        if "locked" in message or "busy" in message:
            return True
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None) in RETRYABLE_PG_CODES
    return False


def run_write(engine: Engine, work: Callable[[Connection], Result]) -> Result:
    """`work` in a write transaction, retried with jittered backoff on lock contention and lost races."""
    for attempt in range(RETRY_ATTEMPTS):
        try:
            with write_transaction(engine) as conn:
                return work(conn)
        except (LostRace, DBAPIError) as exc:
            if not _retryable(exc) or attempt == RETRY_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, min(0.5, 0.005 * 2**attempt)))
    raise AssertionError("unreachable")


def queue_permutation(session_id: int, reviewer: str, items: int) -> tuple[int, int]:
    """(a, b) of the reviewer's affine permutation of positions 0..items-1."""
    digest = hashlib.sha256(f"grader-reviewer-order:{session_id}:{reviewer}".encode()).digest()
    if items <= 1:
        return 1, 0
    a = 1 + int.from_bytes(digest[:8], "big") % (items - 1)
    while math.gcd(a, items) != 1:
        a = a % (items - 1) + 1
    return a, int.from_bytes(digest[8:16], "big") % items


_SESSION_DESIGN: dict[tuple[str, int], tuple[int, tuple[str, ...]]] = {}


def session_row(conn: Connection, session_id: int, reviewer: str) -> int:
    """The number of items; refuses a closed session or a reviewer not on the session's list.

    The design (item count, reviewer list) never changes after creation, so it is read once per process.
    """
    table, items = AuditSession.__table__, SessionItem.__table__
    key = (conn.engine.url.render_as_string(hide_password=True), session_id)
    design = _SESSION_DESIGN.get(key)
    if design is None:
        count = select(func.count()).where(items.c.session_id == session_id).scalar_subquery()
        row = conn.execute(select(table.c.closed_at, table.c.spec, count).where(table.c.id == session_id)).first()
        if row is None:
            raise AssignmentError(f"no session with id {session_id}")
        closed_at = row[0]
        design = (int(row[2]), SampleSpec.from_json(row[1]).reviewers)
        _SESSION_DESIGN[key] = design
    else:
        closed_at = conn.execute(select(table.c.closed_at).where(table.c.id == session_id)).first()
        if closed_at is None:
            raise AssignmentError(f"no session with id {session_id}")
        closed_at = closed_at[0]
    if closed_at is not None:
        raise AssignmentError("the session is closed")
    if design[1] and reviewer not in design[1]:
        raise AssignmentError(f"{reviewer} is not a reviewer of this session ({', '.join(design[1])})")
    return design[0]


def _open_to(rid: int):  # type: ignore[no-untyped-def]
    """Slots this reviewer may take: unreserved ones and the gold slots reserved for them."""
    a = SessionAssignment.__table__
    return or_(a.c.reserved_for.is_(None), a.c.reserved_for == rid)


def _order_key(session_id: int, reviewer: str, items: int):  # type: ignore[no-untyped-def]
    a, b = queue_permutation(session_id, reviewer, items)
    return (SessionAssignment.__table__.c.position * a + b) % max(items, 1)


_SESSION_GROUPS: dict[tuple[str, int], dict[int, tuple[int, ...]]] = {}


def _groups(conn: Connection, session_id: int) -> dict[int, tuple[int, ...]]:
    """Sampled (not gold) patch -> every sampled patch of its group, for groups of two or more.

    A group is the sampled patches of one task instance with the same normalised hash. The sample and the
    hashes (filled when the session is created) do not change, so the map is read once per process.
    """
    key = (conn.engine.url.render_as_string(hide_password=True), session_id)
    found = _SESSION_GROUPS.get(key)
    if found is not None:
        return found
    i, p, t = SessionItem.__table__, Patch.__table__, Task.__table__
    rows = conn.execute(
        select(i.c.patch_id, t.c.instance_id, p.c.norm_hash)
        .select_from(i.join(p, p.c.id == i.c.patch_id).join(t, t.c.id == p.c.task_id))
        .where(i.c.session_id == session_id, i.c.gold.is_(False), p.c.norm_hash.is_not(None), p.c.norm_hash != NOTHING)
        .order_by(i.c.position)
    ).all()
    members: dict[tuple[str, str], list[int]] = {}
    for patch_id, instance_id, digest in rows:
        members.setdefault((instance_id, digest), []).append(int(patch_id))
    groups = {pid: tuple(group) for group in members.values() if len(group) > 1 for pid in group}
    _SESSION_GROUPS[key] = groups
    return groups


def group_siblings(conn: Connection, session_id: int, patch_id: int) -> list[int]:
    """The other sampled (not gold) patches of the session identical to this one: same task instance, same
    normalised hash. Empty for a gold item and for a patch without a hash."""
    return [q for q in _groups(conn, session_id).get(patch_id, ()) if q != patch_id]


def _blocked(conn: Connection, session_id: int, rid: int, *, done_only: bool = False) -> list[int]:
    """Sampled patches in a group where the reviewer holds a slot (a done one with `done_only`)."""
    groups = _groups(conn, session_id)
    if not groups:
        return []
    a = SessionAssignment.__table__
    query = select(a.c.patch_id).where(a.c.session_id == session_id, a.c.reviewer_id == rid, a.c.reserved_for.is_(None))
    if done_only:
        query = query.where(a.c.done_at.is_not(None))
    blocked: set[int] = set()
    for patch_id in conn.execute(query).scalars():
        blocked.update(groups.get(int(patch_id), ()))
    return sorted(blocked)


def claim_next(
    engine: Engine, session_id: int, reviewer: str, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
) -> int | None:
    """Lease the reviewer's next patch (or renew the one they hold) and return its id; None when none is left."""

    def claim(conn: Connection) -> int | None:
        items = session_row(conn, session_id, reviewer)
        rid = reviewer_id(conn, reviewer)
        now = utcnow()
        expires = now + timedelta(seconds=lease_seconds)
        a, other = SessionAssignment.__table__, SessionAssignment.__table__.alias("other")
        order = _order_key(session_id, reviewer, items)
        claimable = and_(
            or_(a.c.reviewer_id.is_(None), a.c.lease_expires_at <= now, a.c.reviewer_id == rid),
            _open_to(rid),
        )
        mine_elsewhere = exists().where(
            other.c.session_item_id == a.c.session_item_id, other.c.reviewer_id == rid, other.c.id != a.c.id
        )
        query = (
            select(a.c.id, a.c.patch_id)
            .where(a.c.session_id == session_id, a.c.done_at.is_(None), claimable, ~mine_elsewhere)
            # A slot the reviewer already holds comes first: a live claim is resumed, not duplicated.
            .order_by(case((a.c.reviewer_id == rid, 0), else_=1), order, a.c.slot)
            .limit(1)
        )
        blocked = _blocked(conn, session_id, rid)
        if blocked:
            # Grade once: a member of a group is not offered to a reviewer holding a slot on another member.
            query = query.where(
                or_(a.c.reviewer_id == rid, a.c.reserved_for.is_not(None), a.c.patch_id.not_in(blocked))
            )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=a)
        row = conn.execute(query).first()
        if row is None:
            return None
        taken = conn.execute(
            a.update()
            .where(a.c.id == row.id, a.c.done_at.is_(None), claimable)
            .values(reviewer_id=rid, claimed_at=now, lease_expires_at=expires)
        )
        if taken.rowcount != 1:
            raise LostRace("slot taken meanwhile")
        return int(row.patch_id)

    return run_write(engine, claim)


def my_slot(conn: Connection, session_id: int, patch_id: int, rid: int):  # type: ignore[no-untyped-def]
    a = SessionAssignment.__table__
    query = select(a.c.id, a.c.done_at).where(
        a.c.session_id == session_id, a.c.patch_id == patch_id, a.c.reviewer_id == rid
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def renew_claim(
    engine: Engine, session_id: int, reviewer: str, patch_id: int, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
) -> bool:
    """Extend the reviewer's lease on the patch; False when they no longer hold it."""

    def renew(conn: Connection) -> bool:
        a = SessionAssignment.__table__
        rid = reviewer_id(conn, reviewer)
        slot = my_slot(conn, session_id, patch_id, rid)
        if slot is None or slot.done_at is not None:
            return False
        expires = utcnow() + timedelta(seconds=lease_seconds)
        conn.execute(a.update().where(a.c.id == slot.id, a.c.reviewer_id == rid).values(lease_expires_at=expires))
        return True

    return run_write(engine, renew)


def release_claim(engine: Engine, session_id: int, reviewer: str, patch_id: int) -> bool:
    """Give the patch back to the pool (a skip); False when the reviewer held no open claim on it."""

    def release(conn: Connection) -> bool:
        a = SessionAssignment.__table__
        rid = reviewer_id(conn, reviewer)
        slot = my_slot(conn, session_id, patch_id, rid)
        if slot is None or slot.done_at is not None:
            return False
        conn.execute(
            a.update()
            .where(a.c.id == slot.id, a.c.reviewer_id == rid)
            .values(reviewer_id=None, claimed_at=None, lease_expires_at=None)
        )
        return True

    return run_write(engine, release)


def take_any_free_slot(conn: Connection, session_id: int, patch_id: int, rid: int, now) -> int | None:  # type: ignore[no-untyped-def]
    a = SessionAssignment.__table__
    free = and_(or_(a.c.reviewer_id.is_(None), a.c.lease_expires_at <= now), _open_to(rid))
    query = (
        select(a.c.id)
        .where(a.c.session_id == session_id, a.c.patch_id == patch_id, a.c.done_at.is_(None), free)
        .order_by(a.c.slot)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    found = conn.execute(query).scalar()
    if found is None:
        sampled = conn.execute(
            select(func.count()).where(a.c.session_id == session_id, a.c.patch_id == patch_id)
        ).scalar_one()
        if not sampled:
            raise AssignmentError(f"patch {patch_id} is not in this session's sample")
        return None
    taken = conn.execute(
        a.update().where(a.c.id == found, a.c.done_at.is_(None), free).values(reviewer_id=rid, claimed_at=now)
    )
    if taken.rowcount != 1:
        raise LostRace("slot taken meanwhile")
    return int(found)


def reviewer_has_work(engine: Engine, session_id: int, reviewer: str) -> bool:
    """Whether a slot not yet done exists on a patch this reviewer has no done slot on (it may be leased now)."""
    a, other, r = SessionAssignment.__table__, SessionAssignment.__table__.alias("other"), Reviewer.__table__
    with engine.connect() as conn:
        rid = conn.execute(select(r.c.id).where(r.c.name == reviewer)).scalar()
        query = select(func.count()).where(a.c.session_id == session_id, a.c.done_at.is_(None))
        if rid is None:
            query = query.where(a.c.reserved_for.is_(None))
        else:
            blocked = _blocked(conn, session_id, int(rid), done_only=True)
            if blocked:
                query = query.where(or_(a.c.reserved_for.is_not(None), a.c.patch_id.not_in(blocked)))
            query = query.where(_open_to(rid)).where(
                ~exists().where(
                    and_(
                        other.c.session_item_id == a.c.session_item_id,
                        other.c.reviewer_id == rid,
                        other.c.done_at.is_not(None),
                    )
                )
            )
        return bool(conn.execute(query).scalar_one())


def session_progress(engine: Engine, session_id: int) -> SessionProgress:
    a = SessionAssignment.__table__
    now = utcnow()
    items = SessionItem.__table__
    with engine.connect() as conn:
        item_count = conn.execute(
            select(func.count()).where(items.c.session_id == session_id, items.c.gold.is_(False))
        ).scalar_one()
        slots, done, leased = conn.execute(
            select(
                func.count(),
                func.count(a.c.done_at),
                func.sum(case((and_(a.c.done_at.is_(None), a.c.lease_expires_at > now), 1), else_=0)),
            ).where(a.c.session_id == session_id)
        ).one()
    leased = int(leased or 0)
    return SessionProgress(int(item_count), int(slots), int(done), leased, int(slots) - int(done) - leased)

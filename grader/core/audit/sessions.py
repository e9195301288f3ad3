"""Audit sessions: a seeded stratified sample of patches, graded by K distinct reviewers each, blind until unblinded.

API for the review screen (every function takes an engine; each write is one short transaction):

- `get_session(engine, "name-or-id") -> SessionInfo` (`.id`, `.models_hidden`, `.overlap`, `.is_open`);
  `model_display_names(engine, info) -> dict[model, shown name]` (pseudonyms while the session is blind).
- Assignment (`grader.core.audit.assignment`): `claim_next(engine, session_id, reviewer, lease_seconds=...)` returns
  the next patch id in the reviewer's own shuffled order that still needs a reviewer (or the patch the reviewer
  already holds), leased for `lease_seconds`; None when nothing is left for them. `renew_claim(...)` while the
  patch is on screen, `release_claim(...)` to skip it. `reviewer_has_work(...)`, `session_progress(...)`.
- Verdicts (`grader.core.audit.session_verdicts`): `submit_session_verdict(engine, session_id=..., patch_id=...,
  reviewer=..., verdict=..., note=..., tags=..., seconds_spent=..., revealed_before=...)` records the verdict with
  the session id and completes the claim in one transaction (a retraction reopens the reviewer's slot).
  `others_verdicts_visible(engine, session_id, reviewer, patch_id)` is False until the reviewer has committed
  their own verdict; only then may the screen show `session_patch_verdicts(...)`.
- Adjudication (`grader.core.audit.adjudication`): `adjudication_queue(engine, session_id)` lists the patches whose
  reviewers disagree (pass vs fail), with every verdict, note and tags side by side;
  `record_adjudication(engine, session_id=..., patch_id=..., adjudicator=..., verdict=..., note=...)` writes the
  label the statistics use (a verdict with source 'adjudication').
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select

from grader.core.audit.sampling import (
    Candidate,
    DrawnItem,
    SampleSpec,
    SamplingError,
    draw_gold,
    draw_sample,
    gold_per_reviewer,
    load_candidates,
)
from grader.core.patches.hash_backfill import backfill_norm_hashes
from grader.core.store.db import write_transaction
from grader.core.store.models import (
    AuditSession,
    Patch,
    Reviewer,
    SessionAssignment,
    SessionEvent,
    SessionItem,
    Submission,
    Task,
    utcnow,
)
from grader.core.store.verdicts import reviewer_id

INSERT_CHUNK = 1000
GOLD_STRATUM = '{"gold": "gold"}'


class SessionError(ValueError):
    """A session that does not exist, already exists, is closed, or an action it does not allow."""


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: int
    name: str
    spec: SampleSpec
    blind: bool
    overlap: int
    created_by: str
    created_at: datetime
    closed_at: datetime | None
    unblinded_at: datetime | None
    unblinded_by: str | None

    @property
    def models_hidden(self) -> bool:
        """Whether model names must be shown as pseudonyms (a blind session not yet unblinded)."""
        return self.blind and self.unblinded_at is None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def _info(row: object) -> SessionInfo:
    return SessionInfo(
        id=int(row.id),  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        spec=SampleSpec.from_json(row.spec),  # type: ignore[attr-defined]
        blind=bool(row.blind),  # type: ignore[attr-defined]
        overlap=int(row.overlap),  # type: ignore[attr-defined]
        created_by=row.created_by,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        closed_at=row.closed_at,  # type: ignore[attr-defined]
        unblinded_at=row.unblinded_at,  # type: ignore[attr-defined]
        unblinded_by=row.unblinded_by,  # type: ignore[attr-defined]
    )


def find_session(conn: Connection, ref: str | int) -> SessionInfo | None:
    """The session named `ref`, else the one whose id is `ref`, else None."""
    table = AuditSession.__table__
    row = conn.execute(select(table).where(table.c.name == str(ref))).first()
    if row is None and str(ref).isdigit():
        row = conn.execute(select(table).where(table.c.id == int(ref))).first()
    return _info(row) if row is not None else None


def get_session(engine: Engine, ref: str | int) -> SessionInfo:
    with engine.connect() as conn:
        found = find_session(conn, ref)
    if found is None:
        raise SessionError(f"no session named {ref!r}")
    return found


def list_sessions(engine: Engine) -> list[SessionInfo]:
    table = AuditSession.__table__
    with engine.connect() as conn:
        return [_info(row) for row in conn.execute(select(table).order_by(table.c.id))]


def _event(conn: Connection, session_id: int, kind: str, actor: str, detail: dict[str, object] | None = None) -> None:
    conn.execute(
        SessionEvent.__table__.insert().values(
            session_id=session_id, kind=kind, actor=actor, detail=json.dumps(detail or {}), created_at=utcnow()
        )
    )


def create_session(engine: Engine, name: str, spec: SampleSpec, *, created_by: str = "") -> SessionInfo:
    """Draw the sample and create the session, its items and K reviewer slots per item, in one transaction."""
    name = name.strip()
    if not name:
        raise SessionError("a session needs a name")
    spec.validate()
    # Groups of identical patches (grade once) need every candidate's normalised hash.
    backfill_norm_hashes(engine)
    with write_transaction(engine) as conn:
        if find_session(conn, name) is not None:
            raise SessionError(f"a session named {name!r} already exists")
        candidates = load_candidates(conn, spec)
        drawn = draw_sample(candidates, spec)
        gold_for = _draw_gold(conn, candidates, drawn, spec)
        now = utcnow()
        session_id = int(
            conn.execute(
                AuditSession.__table__.insert().values(
                    name=name,
                    spec=spec.to_json(),
                    blind=spec.blind,
                    overlap=spec.overlap,
                    created_by=created_by,
                    created_at=now,
                )
            ).inserted_primary_key[0]
        )
        item_rows = [
            {
                "session_id": session_id,
                "patch_id": d.candidate.patch_id,
                "stratum": d.candidate.stratum,
                "stratum_population": d.stratum_population,
                "stratum_sample": d.stratum_sample,
                "gold": False,
            }
            for d in drawn
        ]
        gold_items = sorted({c for picks in gold_for.values() for c in picks}, key=lambda c: c.sort_key)
        gold_rows = [
            {
                "session_id": session_id,
                "patch_id": c.patch_id,
                "stratum": GOLD_STRATUM,
                "stratum_population": 0,
                "stratum_sample": 0,
                "gold": True,
            }
            for c in gold_items
        ]
        # Gold items go to seeded places among the sample's order (which stays as drawn, relative to itself).
        ordered = list(item_rows)
        placer = random.Random(f"grader-gold-order:{spec.seed}")
        for row in gold_rows:
            ordered.insert(placer.randint(0, len(ordered)), row)
        for position, row in enumerate(ordered):
            row["position"] = position
        item_rows = ordered
        items, slots = SessionItem.__table__, SessionAssignment.__table__
        for start in range(0, len(item_rows), INSERT_CHUNK):
            conn.execute(items.insert(), item_rows[start : start + INSERT_CHUNK])
        ids = conn.execute(
            select(items.c.id, items.c.patch_id, items.c.position, items.c.gold).where(items.c.session_id == session_id)
        ).all()
        # A gold item has one slot per reviewer who drew it, reserved for them.
        holders: dict[int, list[int]] = {}
        for reviewer in sorted(gold_for):
            rid = reviewer_id(conn, reviewer)
            for c in gold_for[reviewer]:
                holders.setdefault(c.patch_id, []).append(rid)
        slot_rows = [
            {
                "session_id": session_id,
                "session_item_id": i,
                "patch_id": p,
                "position": pos,
                "slot": k,
                "reserved_for": rid,
            }
            for i, p, pos, gold in ids
            for k, rid in enumerate(holders[p] if gold else [None] * spec.overlap)
        ]
        for start in range(0, len(slot_rows), INSERT_CHUNK):
            conn.execute(slots.insert(), slot_rows[start : start + INSERT_CHUNK])
        # The whole design, also strata that drew no item (a --size below the number of strata), so the
        # corrected estimates can say a stratum is unaudited instead of silently leaving it out.
        frame: dict[str, list[int]] = {}
        for candidate in candidates:
            frame.setdefault(candidate.stratum, [0, 0])[0] += 1
        for d in drawn:
            frame[d.candidate.stratum][1] += 1
        detail: dict[str, object] = {"items": len(drawn), "strata": frame}
        if spec.gold_share:
            detail["gold"] = {reviewer: len(picks) for reviewer, picks in sorted(gold_for.items())}
        _event(conn, session_id, "created", created_by, detail)
        created = find_session(conn, session_id)
    assert created is not None
    return created


def _draw_gold(
    conn: Connection, candidates: list[Candidate], drawn: list[DrawnItem], spec: SampleSpec
) -> dict[str, list[Candidate]]:
    """Each reviewer's gold items: current gold patches matching the filters and not in the sample."""
    if not spec.gold_share:
        return {}
    from grader.core.audit.gold import gold_answers

    answers = gold_answers(conn)
    sampled = {d.candidate.patch_id for d in drawn}
    pool = [c for c in candidates if c.patch_id in answers and c.patch_id not in sampled]
    return draw_gold(pool, spec, gold_per_reviewer(spec, len(drawn)))


def gold_counts(engine: Engine, session_id: int) -> dict[str, int]:
    """Reviewer -> the number of gold items mixed into their queue."""
    a, r = SessionAssignment.__table__, Reviewer.__table__
    query = (
        select(r.c.name, func.count())
        .select_from(a.join(r, r.c.id == a.c.reserved_for))
        .where(a.c.session_id == session_id)
        .group_by(r.c.name)
        .order_by(r.c.name)
    )
    with engine.connect() as conn:
        return {str(name): int(count) for name, count in conn.execute(query)}


def close_session(engine: Engine, ref: str, *, actor: str) -> SessionInfo:
    """No more claims or verdicts in the session; recorded with who and when."""
    table = AuditSession.__table__
    with write_transaction(engine) as conn:
        info = _require(conn, ref)
        if info.closed_at is not None:
            raise SessionError(f"session {info.name!r} is already closed")
        conn.execute(table.update().where(table.c.id == info.id).values(closed_at=utcnow()))
        _event(conn, info.id, "closed", actor)
    return get_session(engine, info.id)


def unblind_session(engine: Engine, ref: str, *, actor: str) -> SessionInfo:
    """Show model names in this session's stats, export and listing from now on; recorded with who and when."""
    table = AuditSession.__table__
    with write_transaction(engine) as conn:
        info = _require(conn, ref)
        if not info.blind:
            raise SessionError(f"session {info.name!r} is not blind")
        if info.unblinded_at is not None:
            raise SessionError(f"session {info.name!r} was already unblinded by {info.unblinded_by}")
        conn.execute(table.update().where(table.c.id == info.id).values(unblinded_at=utcnow(), unblinded_by=actor))
        _event(conn, info.id, "unblinded", actor)
    return get_session(engine, info.id)


def _require(conn: Connection, ref: str | int) -> SessionInfo:
    found = find_session(conn, ref)
    if found is None:
        raise SessionError(f"no session named {ref!r}")
    return found


def model_display_names(engine: Engine, info: SessionInfo) -> dict[str, str]:
    """Model name → the name to show for this session: itself, or its pseudonym while the session is blind."""
    from grader.core.audit.review import pseudonyms

    names = pseudonyms(engine)
    return names if info.models_hidden else {model: model for model in names}


def display_stratum(stratum: str, shown: dict[str, str]) -> dict[str, str]:
    values = json.loads(stratum)
    if "model" in values:
        values["model"] = shown.get(values["model"], "Model ?")
    return values


@dataclass(frozen=True, slots=True)
class SessionPatch:
    patch_id: int
    task_id: str
    benchmark: str
    model: str  # the real name; show it through model_display_names
    stratum: str
    position: int


def session_patches(engine: Engine, session_id: int) -> list[SessionPatch]:
    """The sampled patches in the session's order (gold items are not part of the sample)."""
    i, p, s, t = SessionItem.__table__, Patch.__table__, Submission.__table__, Task.__table__
    query = (
        select(i.c.patch_id, t.c.instance_id, s.c.benchmark, s.c.name, i.c.stratum, i.c.position)
        .select_from(
            i.join(p, p.c.id == i.c.patch_id).join(s, s.c.id == p.c.submission_id).join(t, t.c.id == p.c.task_id)
        )
        .where(i.c.session_id == session_id, i.c.gold.is_(False))
        .order_by(i.c.position)
    )
    with engine.connect() as conn:
        return [SessionPatch(int(r[0]), r[1], r[2], r[3], r[4], int(r[5])) for r in conn.execute(query)]


def stratum_sizes(engine: Engine, session_id: int) -> list[tuple[str, int, int]]:
    """(stratum, population N_h, sample n_h) per stratum, as recorded when the sample was drawn."""
    i = SessionItem.__table__
    query = (
        select(i.c.stratum, func.min(i.c.stratum_population), func.min(i.c.stratum_sample), func.count())
        .where(i.c.session_id == session_id, i.c.gold.is_(False))
        .group_by(i.c.stratum)
        .order_by(i.c.stratum)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    for stratum, _, recorded, counted in rows:
        if recorded != counted:  # pragma: no cover - would mean a corrupted session
            raise SamplingError(f"stratum {stratum}: {counted} items but n_h = {recorded} recorded")
    return [(str(s), int(n_pop), int(n_sample)) for s, n_pop, n_sample, _ in rows]


def session_report(engine: Engine, info: SessionInfo) -> dict[str, object]:
    """What `grader session show --json` prints: design, progress, strata, disagreements, sampled patches.

    Model names (also inside strata) are pseudonyms while the session is blind.
    """
    from grader.core.audit.adjudication import session_cases
    from grader.core.audit.assignment import session_progress

    shown = model_display_names(engine, info)
    progress = session_progress(engine, info.id)
    cases = {case.patch_id: case for case in session_cases(engine, info.id)}
    strata_by_key = {}
    patches = []
    sampled = session_patches(engine, info.id)
    for patch in sampled:
        case = cases[patch.patch_id]
        patches.append(
            {
                "task_id": patch.task_id,
                "benchmark": patch.benchmark,
                "model": shown.get(patch.model, "Model ?"),
                "stratum": display_stratum(patch.stratum, shown),
                "verdicts": {v.reviewer: v.verdict for v in case.verdicts},
                "disagreement": case.disagreement,
                "adjudicated": case.adjudication.verdict if case.adjudication else None,
            }
        )
    for stratum, population, sample in stratum_sizes(engine, info.id):
        strata_by_key[stratum] = {
            "stratum": display_stratum(stratum, shown),
            "population": population,
            "sample": sample,
        }
    in_sample = {patch.patch_id for patch in sampled}
    disagreements = [c for c in cases.values() if c.disagreement and c.patch_id in in_sample]
    return {
        "name": info.name,
        "id": info.id,
        "blind": info.blind,
        "models_hidden": info.models_hidden,
        "created_at": info.created_at.isoformat(),
        "created_by": info.created_by,
        "closed_at": info.closed_at.isoformat() if info.closed_at else None,
        "unblinded_at": info.unblinded_at.isoformat() if info.unblinded_at else None,
        "unblinded_by": info.unblinded_by,
        "spec": json.loads(info.spec.to_json()),
        "progress": {
            "items": progress.items,
            "slots": progress.slots,
            "done": progress.done,
            "leased": progress.leased,
            "free": progress.free,
        },
        "gold": gold_counts(engine, info.id),
        "disagreements": {
            "count": len(disagreements),
            "resolved": sum(1 for c in disagreements if c.resolved),
        },
        "strata": sorted(strata_by_key.values(), key=lambda s: json.dumps(s["stratum"], sort_keys=True)),
        "patches": patches,
    }

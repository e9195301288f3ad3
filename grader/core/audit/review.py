"""The review loop's domain: queues, blinding pseudonyms, and what one patch's screen shows."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, select

from grader.core.patches.equivalence import NO_HASH_KINDS, normalised_hash
from grader.core.patches.kinds import shown_text
from grader.core.store.db import write_transaction
from grader.core.store.models import RETRACTED, Meta, Patch, Reveal, Reviewer, Submission, Task, Verdict
from grader.core.store.verdicts import current_verdicts_query, decode_tags, total_cost_usd

PSEUDONYM_SALT_KEY = "pseudonym_salt"
PSEUDONYM_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: they read as digits
DEFAULT_RUBRIC = (
    "tests too weak",
    "overfits the tests",
    "incomplete",
    "wrong approach",
    "security concern",
    "style only",
)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which patches a review queue holds (empty means all)."""

    models: tuple[str, ...] = ()
    benchmarks: tuple[str, ...] = ()
    verifier_verdicts: tuple[str, ...] = ()


@dataclass(slots=True)
class ReviewQueue:
    """A reviewer's ordered patch ids and which of them they have graded."""

    reviewer: str
    patch_ids: list[int]
    graded: set[int] = field(default_factory=set)

    @property
    def total(self) -> int:
        return len(self.patch_ids)

    def first_ungraded(self, start: int = 0) -> int | None:
        """Position of the first ungraded patch at or after `start` (wrapping around), or None."""
        count = len(self.patch_ids)
        for offset in range(count):
            position = (start + offset) % count
            if self.patch_ids[position] not in self.graded:
                return position
        return None


@dataclass(frozen=True, slots=True)
class ReviewerVerdict:
    verdict: str
    note: str
    tags: tuple[str, ...]
    created_at: datetime
    verdict_id: int


@dataclass(frozen=True, slots=True)
class PatchView:
    """Everything the review screen may show for one patch; blinding decides what it does show."""

    patch_id: int
    instance_id: str
    benchmark: str
    repo: str
    problem_statement: str
    hints_text: str
    reference_patch: str
    test_patch: str
    diff: str
    patch_kind: str
    model: str
    pseudonym: str
    verifier_status: str | None
    verifier_verdict: str
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    mine: ReviewerVerdict | None
    revealed_at: datetime | None
    identical_elsewhere: int = 0  # other submissions' patches for this task that are the same change
    # With a rubric (grader.core.audit.rubric_review.with_answers): the reviewer's current answers, and the
    # published labels of the task as (rater, question, value), shown only after the reviewer's own verdict.
    rubric_answers: tuple[tuple[str, str], ...] = ()
    published_labels: tuple[tuple[str, str, str], ...] = ()


def load_queue(engine: Engine, reviewer: str, filters: QueueFilter = QueueFilter()) -> ReviewQueue:
    """Every patch matching the filters, in an order shuffled per reviewer (stable across runs)."""
    p, s = Patch.__table__, Submission.__table__
    query = select(p.c.id).join(s, s.c.id == p.c.submission_id)
    if filters.models:
        query = query.where(s.c.name.in_(filters.models))
    if filters.benchmarks:
        query = query.where(s.c.benchmark.in_(filters.benchmarks))
    if filters.verifier_verdicts:
        query = query.where(p.c.verifier_verdict.in_(filters.verifier_verdicts))
    with engine.connect() as conn:
        ids = sorted(conn.execute(query.order_by(p.c.id)).scalars())
    # Shuffled so that one model's patches do not come in a run (which would help guess the model).
    random.Random(f"grader-queue:{reviewer}").shuffle(ids)
    return ReviewQueue(reviewer=reviewer, patch_ids=ids, graded=graded_by(engine, reviewer))


def graded_by(engine: Engine, reviewer: str) -> set[int]:
    """Patch ids on which the reviewer has a current (not retracted) verdict."""
    current = current_verdicts_query().subquery()
    r = Reviewer.__table__
    query = (
        select(current.c.patch_id)
        .join(r, r.c.id == current.c.reviewer_id)
        .where(r.c.name == reviewer, current.c.verdict != RETRACTED)
    )
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def pseudonym_salt(engine: Engine) -> str:
    """A per-database secret, so pseudonyms cannot be recomputed from model names alone."""
    with engine.connect() as conn:
        found = conn.execute(select(Meta.value).where(Meta.key == PSEUDONYM_SALT_KEY)).scalar()
    if found:
        return str(found)
    salt = secrets.token_hex(16)
    with write_transaction(engine) as conn:
        existing = conn.execute(select(Meta.value).where(Meta.key == PSEUDONYM_SALT_KEY)).scalar()
        if existing:
            return str(existing)
        conn.execute(Meta.__table__.insert().values(key=PSEUDONYM_SALT_KEY, value=salt))
    return salt


def pseudonyms(engine: Engine) -> dict[str, str]:
    """A stable pseudonym ("Model KX") per model name.

    Models are taken in the order they entered the store and each takes the first free code its salted hash
    proposes, so adding models later never changes an earlier model's pseudonym.
    """
    salt = pseudonym_salt(engine)
    s = Submission.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(s.c.name, func.min(s.c.id)).group_by(s.c.name).order_by(func.min(s.c.id))).all()
    taken: set[str] = set()
    names: dict[str, str] = {}
    for name, _ in rows:
        attempt = 0
        while True:
            digest = hashlib.sha256(f"{salt}:{name}:{attempt}".encode()).digest()
            code = (
                PSEUDONYM_LETTERS[digest[0] % len(PSEUDONYM_LETTERS)]
                + PSEUDONYM_LETTERS[digest[1] % len(PSEUDONYM_LETTERS)]
            )
            if code not in taken:
                break
            attempt += 1
        taken.add(code)
        names[name] = f"Model {code}"
    return names


def load_patch_view(engine: Engine, patch_id: int, reviewer: str, names: dict[str, str]) -> PatchView:
    """One patch with its task and this reviewer's current verdict and reveal."""
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    with engine.connect() as conn:
        row = conn.execute(
            select(
                p.c.id,
                p.c.raw_patch,
                p.c.diff_text,
                p.c.patch_kind,
                p.c.verifier_status,
                p.c.verifier_verdict,
                p.c.input_tokens,
                p.c.output_tokens,
                p.c.input_cost_usd,
                p.c.output_cost_usd,
                s.c.name,
                s.c.benchmark,
                t.c.instance_id,
                t.c.repo,
                t.c.problem_statement,
                t.c.hints_text,
                t.c.reference_patch,
                t.c.test_patch,
                p.c.norm_hash,
            )
            .join(s, s.c.id == p.c.submission_id)
            .join(t, t.c.id == p.c.task_id)
            .where(p.c.id == patch_id)
        ).one()
        mine, revealed_at = _reviewer_state(conn, patch_id, reviewer)
        identical = _identical_elsewhere(
            conn, row.id, row.instance_id, row.norm_hash, row.raw_patch, row.diff_text, row.patch_kind
        )
    return PatchView(
        patch_id=row.id,
        instance_id=row.instance_id,
        benchmark=row.benchmark,
        repo=row.repo,
        problem_statement=row.problem_statement,
        hints_text=row.hints_text,
        reference_patch=row.reference_patch,
        test_patch=row.test_patch,
        diff=shown_text(row.raw_patch, row.diff_text, row.patch_kind),
        patch_kind=row.patch_kind,
        model=row.name,
        pseudonym=names.get(row.name, "Model ?"),
        verifier_status=row.verifier_status,
        verifier_verdict=row.verifier_verdict,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_usd=total_cost_usd(row.input_cost_usd, row.output_cost_usd),
        mine=mine,
        revealed_at=revealed_at,
        identical_elsewhere=identical,
    )


def _identical_elsewhere(  # type: ignore[no-untyped-def]
    conn, patch_id: int, instance_id: str, digest: str | None, raw: str | None, diff_text: str | None, kind: str
) -> int:
    """How many other patches for the same task (in any benchmark) are the same change after normalisation.

    Stored hashes are compared; only a patch whose hash was never filled in has its text read and hashed.
    """
    digest = digest or normalised_hash(raw, diff_text, kind)
    if digest is None:
        return 0
    p, t = Patch.__table__, Task.__table__
    others = conn.execute(
        select(p.c.id, p.c.norm_hash, p.c.patch_kind)
        .join(t, t.c.id == p.c.task_id)
        .where(t.c.instance_id == instance_id, p.c.id != patch_id)
    ).all()
    count = sum(1 for other in others if other.norm_hash == digest)
    unhashed = [other.id for other in others if other.norm_hash is None and other.patch_kind not in NO_HASH_KINDS]
    if unhashed:
        texts = conn.execute(select(p.c.raw_patch, p.c.diff_text, p.c.patch_kind).where(p.c.id.in_(unhashed)))
        count += sum(1 for text in texts if normalised_hash(*text) == digest)
    return count


def _reviewer_state(conn, patch_id: int, reviewer: str) -> tuple[ReviewerVerdict | None, datetime | None]:  # type: ignore[no-untyped-def]
    v, r, rv = Verdict.__table__, Reviewer.__table__, Reveal.__table__
    reviewer_id = conn.execute(select(r.c.id).where(r.c.name == reviewer)).scalar()
    if reviewer_id is None:
        return None, None
    latest = conn.execute(
        select(v.c.id, v.c.verdict, v.c.note, v.c.tags, v.c.created_at)
        .where(v.c.patch_id == patch_id, v.c.reviewer_id == reviewer_id)
        .order_by(v.c.created_at.desc(), v.c.id.desc())
        .limit(1)
    ).first()
    mine = None
    if latest is not None and latest.verdict != RETRACTED:
        mine = ReviewerVerdict(
            latest.verdict, latest.note, tuple(decode_tags(latest.tags)), latest.created_at, latest.id
        )
    revealed_at = conn.execute(
        select(func.min(rv.c.revealed_at)).where(rv.c.patch_id == patch_id, rv.c.reviewer_id == reviewer_id)
    ).scalar()
    return mine, revealed_at


def rubric_tags(configured: Sequence[str] | None = None) -> tuple[str, ...]:
    """The rubric tags offered on the review screen: configured ones, else the default rubric."""
    if configured:
        return tuple(t.strip() for t in configured if t.strip())
    return DEFAULT_RUBRIC


def parse_rubric(text: str) -> tuple[str, ...]:
    """Rubric tags from `GRADER_TAGS` or `--tags`: a comma-separated list, or a JSON list."""
    text = text.strip()
    if text.startswith("["):
        return tuple(str(t) for t in json.loads(text))
    return tuple(t.strip() for t in text.split(",") if t.strip())

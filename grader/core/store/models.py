"""SQLModel tables of the store. Human verdicts and reveals are append-only."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, Column, Index, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

SCHEMA_VERSION = 4

VERIFIER_VERDICTS = ("pass", "fail", "error", "unknown")
HUMAN_VERDICTS = ("pass", "fail", "unsure")
# A retraction supersedes a verdict and leaves the patch ungraded by that reviewer (undo).
RETRACTED = "retracted"
GOLD_ANSWERS = ("pass", "fail")
# A gold mark whose answer is WITHDRAWN supersedes the earlier mark: the patch is no longer gold.
WITHDRAWN = "withdrawn"
ADJUDICATION_SOURCE = "adjudication"  # the source of a verdict that settles a session disagreement
PATCH_KINDS = ("diff", "extracted", "no_diff", "empty", "null")


def utcnow() -> datetime:
    """An aware UTC timestamp (SQLModel stores it as UTC on SQLite and PostgreSQL alike)."""
    return datetime.now(UTC)


class Meta(SQLModel, table=True):
    __tablename__ = "grader_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Task(SQLModel, table=True):
    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("benchmark", "instance_id"),)
    id: int | None = Field(default=None, primary_key=True)
    benchmark: str = Field(max_length=200)
    instance_id: str = Field(max_length=300)
    repo: str = Field(default="", max_length=300)
    problem_statement: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    hints_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reference_patch: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    test_patch: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # JSON object of everything else the task row carried (tests to pass, difficulty, tags...).
    meta: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))


class Submission(SQLModel, table=True):
    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("benchmark", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    benchmark: str = Field(max_length=200)
    name: str = Field(max_length=300)
    model_name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    meta: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    imported_at: datetime = Field(default_factory=utcnow)


class Patch(SQLModel, table=True):
    __tablename__ = "patch"
    __table_args__ = (
        UniqueConstraint("submission_id", "task_id"),
        Index("ix_patch_task", "task_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    submission_id: int = Field(foreign_key="submission.id")
    # The patch as the submission published it (None when it was null).
    raw_patch: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # None when the raw text is itself the diff (most patches); otherwise the diff extracted from it.
    diff_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    patch_kind: str = Field(default="diff", max_length=16)
    verifier_status: str | None = Field(default=None, max_length=64)
    verifier_verdict: str = Field(default="unknown", max_length=16)
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_cost_usd: float | None = None
    output_cost_usd: float | None = None
    content_hash: str = Field(default="", max_length=64)
    norm_hash: str | None = Field(default=None, max_length=64)
    line_count: int = 0
    extra: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))


class Reviewer(SQLModel, table=True):
    __tablename__ = "reviewer"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class Verdict(SQLModel, table=True):
    """One human judgement. Never updated or deleted: a change is a new row that supersedes it."""

    __tablename__ = "verdict"
    __table_args__ = (Index("ix_verdict_patch_reviewer", "patch_id", "reviewer_id"),)
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=64, unique=True)
    patch_id: int = Field(foreign_key="patch.id")
    reviewer_id: int = Field(foreign_key="reviewer.id")
    verdict: str = Field(max_length=16)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tags: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    seconds_spent: float | None = None
    revealed_before: bool = False
    supersedes_id: int | None = Field(default=None, foreign_key="verdict.id", unique=True)
    source: str = Field(default="review", max_length=32)
    # The audit session the verdict was given in (no foreign key: adding one would rebuild this append-only
    # table on SQLite; the session code only writes ids of existing sessions).
    session_id: int | None = Field(default=None, index=True)


class Reveal(SQLModel, table=True):
    """The moment a reviewer was shown the verifier's verdict on a patch. Append-only."""

    __tablename__ = "reveal"
    id: int | None = Field(default=None, primary_key=True)
    patch_id: int = Field(foreign_key="patch.id")
    reviewer_id: int = Field(foreign_key="reviewer.id")
    verdict_id: int | None = Field(default=None, foreign_key="verdict.id")
    revealed_at: datetime = Field(default_factory=utcnow)


class ImportRecord(SQLModel, table=True):
    """A file already imported, by content fingerprint, so a repeat import is recognised at once."""

    __tablename__ = "import_record"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    fingerprint: str = Field(max_length=64, unique=True)
    source: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    rows_added: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class AuditSession(SQLModel, table=True):
    """A sampled audit: its specification (filters, strata, sizes, seed, overlap, reviewers) and its state."""

    __tablename__ = "audit_session"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    # JSON: filters, strata dimensions, size or per-stratum size, seed, overlap, blind, reviewers.
    spec: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    blind: bool = True
    overlap: int = 1
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    unblinded_at: datetime | None = None
    unblinded_by: str | None = Field(default=None, max_length=200)


class SessionItem(SQLModel, table=True):
    """A sampled patch, with its stratum and that stratum's population N_h and sample size n_h."""

    __tablename__ = "session_item"
    __table_args__ = (UniqueConstraint("session_id", "patch_id"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="audit_session.id")
    patch_id: int = Field(foreign_key="patch.id")
    # Canonical JSON of the stratum's values, e.g. {"model": "x", "verdict": "pass"}.
    stratum: str = Field(sa_column=Column(Text, nullable=False))
    stratum_population: int
    stratum_sample: int
    # The item's place in the session's shuffled order; reviewers' queues are permutations of it.
    position: int
    # A known-answer item mixed into reviewers' queues: not part of the sample (stratum '{"gold": "gold"}',
    # N_h = n_h = 0), never counted in the session's estimates.
    gold: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False, server_default=false()))


class SessionAssignment(SQLModel, table=True):
    """One of the K reviewer slots of a sampled patch: free, leased to a reviewer until an expiry, or done.

    A lease that has expired is free again. (item, reviewer) is unique, so a patch never gets the same reviewer
    twice; NULL reviewers (free slots) do not collide.
    """

    __tablename__ = "session_assignment"
    __table_args__ = (
        UniqueConstraint("session_item_id", "slot"),
        UniqueConstraint("session_item_id", "reviewer_id"),
        Index("ix_assignment_session_reviewer", "session_id", "reviewer_id"),
        Index("ix_assignment_session_done", "session_id", "done_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="audit_session.id")
    session_item_id: int = Field(foreign_key="session_item.id")
    patch_id: int = Field(foreign_key="patch.id")
    position: int
    slot: int
    reviewer_id: int | None = Field(default=None, foreign_key="reviewer.id")
    claimed_at: datetime | None = None
    lease_expires_at: datetime | None = None
    done_at: datetime | None = None
    verdict_id: int | None = Field(default=None, foreign_key="verdict.id")
    # A gold slot only this reviewer may claim (no foreign key: SQLite adds the column without a rebuild).
    reserved_for: int | None = None


class SessionEvent(SQLModel, table=True):
    """What happened to a session and who did it: created, closed, unblinded. Append-only."""

    __tablename__ = "session_event"
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="audit_session.id")
    kind: str = Field(max_length=32)
    actor: str = Field(default="", max_length=200)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    created_at: datetime = Field(default_factory=utcnow)


class GoldAnswer(SQLModel, table=True):
    """A lead's known answer for a patch. Append-only: a correction or a removal (WITHDRAWN) is a new row, and
    the patch's latest row (highest id) is its current gold answer."""

    __tablename__ = "gold_answer"
    __table_args__ = (Index("ix_gold_answer_patch", "patch_id"),)
    id: int | None = Field(default=None, primary_key=True)
    patch_id: int = Field(foreign_key="patch.id")
    answer: str = Field(max_length=16)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    marked_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class RubricRecord(SQLModel, table=True):
    """A rubric as it was used: its TOML text, by digest, so answers keep their meaning forever. Append-only."""

    __tablename__ = "rubric"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    digest: str = Field(max_length=64, unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class RubricAnswer(SQLModel, table=True):
    """A reviewer's answer to one rubric question, stored with the verdict it was given with (same transaction).

    Append-only: changed answers come with a new verdict row that supersedes the old one, so a reviewer's
    current answers are those of their current verdict. Task-level answers are about the patch's task.
    """

    __tablename__ = "rubric_answer"
    __table_args__ = (Index("ix_rubric_answer_verdict", "verdict_id"),)
    id: int | None = Field(default=None, primary_key=True)
    verdict_id: int = Field(foreign_key="verdict.id")
    rubric_id: int = Field(foreign_key="rubric.id")
    question: str = Field(max_length=40)
    value: str = Field(sa_column=Column(Text, nullable=False))


class ExternalLabel(SQLModel, table=True):
    """A published task-level label (OpenAI's Verified annotation, Agentless's Lite classification) as a named
    external rater's answer to a rubric question. Append-only; a re-import's row supersedes by a higher id."""

    __tablename__ = "external_label"
    __table_args__ = (Index("ix_external_label_rater_instance", "rater", "instance_id"),)
    id: int | None = Field(default=None, primary_key=True)
    rater: str = Field(max_length=64)
    rubric_id: int = Field(foreign_key="rubric.id")
    instance_id: str = Field(max_length=300)
    question: str = Field(max_length=40)
    value: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)

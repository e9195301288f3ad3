"""Schema 2: audit sessions, their sampled items, reviewer slots with leases, session events.

Frozen DDL (not read from the models), so that this revision means the same thing forever.
"""

import sqlalchemy as sa
from alembic import op

from grader.core.store.guards import install_append_only_guards

revision = "0002_audit_sessions"
down_revision = "0001_v1_baseline"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("unblinded_at", TIMESTAMP, nullable=True),
        sa.Column("unblinded_by", sa.String(200), nullable=True),
    )
    op.create_table(
        "session_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("audit_session.id"), nullable=False),
        sa.Column("patch_id", sa.Integer(), sa.ForeignKey("patch.id"), nullable=False),
        sa.Column("stratum", sa.Text(), nullable=False),
        sa.Column("stratum_population", sa.Integer(), nullable=False),
        sa.Column("stratum_sample", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("session_id", "patch_id"),
    )
    op.create_table(
        "session_assignment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("audit_session.id"), nullable=False),
        sa.Column("session_item_id", sa.Integer(), sa.ForeignKey("session_item.id"), nullable=False),
        sa.Column("patch_id", sa.Integer(), sa.ForeignKey("patch.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("reviewer.id"), nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("done_at", TIMESTAMP, nullable=True),
        sa.Column("verdict_id", sa.Integer(), sa.ForeignKey("verdict.id"), nullable=True),
        sa.UniqueConstraint("session_item_id", "slot"),
        sa.UniqueConstraint("session_item_id", "reviewer_id"),
    )
    op.create_index("ix_assignment_session_reviewer", "session_assignment", ["session_id", "reviewer_id"])
    op.create_index("ix_assignment_session_done", "session_assignment", ["session_id", "done_at"])
    op.create_table(
        "session_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("audit_session.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_verdict_session_id", "verdict", ["session_id"])
    # Re-asserts the verdict and reveal guards (schema 1 created them) and guards the new event table.
    install_append_only_guards(op.get_bind(), ("verdict", "reveal", "session_event"))


def downgrade() -> None:
    raise NotImplementedError("grader does not downgrade a schema; restore a backup instead")

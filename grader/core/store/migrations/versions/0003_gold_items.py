"""Schema 3: gold answers (append-only), gold items in sessions, gold slots reserved for one reviewer.

Frozen DDL (not read from the models), so that this revision means the same thing forever.
"""

import sqlalchemy as sa
from alembic import op

from grader.core.store.guards import install_append_only_guards

revision = "0003_gold_items"
down_revision = "0002_audit_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gold_answer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patch_id", sa.Integer(), sa.ForeignKey("patch.id"), nullable=False),
        sa.Column("answer", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("marked_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gold_answer_patch", "gold_answer", ["patch_id"])
    # Plain ADD COLUMN (no table rebuild on SQLite): existing items are sample items, existing slots unreserved.
    op.add_column("session_item", sa.Column("gold", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("session_assignment", sa.Column("reserved_for", sa.Integer(), nullable=True))
    install_append_only_guards(op.get_bind(), ("gold_answer",))


def downgrade() -> None:
    raise NotImplementedError("grader does not downgrade a schema; restore a backup instead")

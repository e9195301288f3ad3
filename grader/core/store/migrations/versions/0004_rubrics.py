"""Schema 4: rubrics as used (by digest), rubric answers stored with their verdict, published external labels.
All three append-only.

Frozen DDL (not read from the models), so that this revision means the same thing forever.
"""

import sqlalchemy as sa
from alembic import op

from grader.core.store.guards import install_append_only_guards

revision = "0004_rubrics"
down_revision = "0003_gold_items"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rubric",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rubric_answer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("verdict_id", sa.Integer(), sa.ForeignKey("verdict.id"), nullable=False),
        sa.Column("rubric_id", sa.Integer(), sa.ForeignKey("rubric.id"), nullable=False),
        sa.Column("question", sa.String(40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_index("ix_rubric_answer_verdict", "rubric_answer", ["verdict_id"])
    op.create_table(
        "external_label",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rater", sa.String(64), nullable=False),
        sa.Column("rubric_id", sa.Integer(), sa.ForeignKey("rubric.id"), nullable=False),
        sa.Column("instance_id", sa.String(300), nullable=False),
        sa.Column("question", sa.String(40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_external_label_rater_instance", "external_label", ["rater", "instance_id"])
    install_append_only_guards(op.get_bind(), ("rubric", "rubric_answer", "external_label"))


def downgrade() -> None:
    raise NotImplementedError("grader does not downgrade a schema; restore a backup instead")

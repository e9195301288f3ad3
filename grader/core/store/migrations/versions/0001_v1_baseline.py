"""Schema 1: the tables grader 0.1 created (task, submission, patch, reviewer, verdict, reveal, import_record).

A database written by schema 1 has no alembic_version table; grader.core.store.migrate stamps it at this revision
before upgrading. Nothing to do here.
"""

revision = "0001_v1_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

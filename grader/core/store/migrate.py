"""Schema upgrades in place: Alembic revisions shipped in grader/core/store/migrations, run inside one transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect, select, text

from grader.core.store.models import SCHEMA_VERSION, Meta

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The Alembic revision each grader schema version corresponds to.
REVISION_OF_VERSION = {1: "0001_v1_baseline", 2: "0002_audit_sessions", 3: "0003_gold_items", 4: "0004_rubrics"}
HEAD_REVISION = REVISION_OF_VERSION[SCHEMA_VERSION]


def _alembic_config(conn: Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def stamp_head(conn: Connection) -> None:
    """Record, in the caller's transaction, that a freshly created schema is at the newest revision."""
    from alembic import command

    command.stamp(_alembic_config(conn), HEAD_REVISION)


def upgrade_schema(conn: Connection) -> int:
    """Upgrade an older grader database to SCHEMA_VERSION in the caller's write transaction; returns the old version.

    Concurrent openers queue on the write lock (SQLite) or an advisory lock (PostgreSQL), and the second one
    finds the work done. A failure rolls everything back, leaving the old schema as it was.
    """
    from alembic import command

    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('grader-schema-upgrade'))"))
    found = int(conn.execute(select(Meta.value).where(Meta.key == "schema_version")).scalar_one())
    if found >= SCHEMA_VERSION:
        return found
    if found not in REVISION_OF_VERSION:
        raise RuntimeError(f"no migration path from schema {found}")
    config = _alembic_config(conn)
    if "alembic_version" not in set(inspect(conn).get_table_names()):
        command.stamp(config, REVISION_OF_VERSION[found])
    command.upgrade(config, HEAD_REVISION)
    conn.execute(Meta.__table__.update().where(Meta.key == "schema_version").values(value=str(SCHEMA_VERSION)))
    return found

"""Triggers that make the event tables append-only in the database itself (UPDATE and DELETE fail)."""

from __future__ import annotations

from sqlalchemy import Connection, text

APPEND_ONLY_TABLES = ("verdict", "reveal", "session_event", "gold_answer", "rubric", "rubric_answer", "external_label")


def install_append_only_guards(conn: Connection, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> None:
    """Triggers that make UPDATE and DELETE on event tables fail in the database itself (idempotent)."""
    if conn.dialect.name == "sqlite":
        for table in tables:
            for op in ("UPDATE", "DELETE"):
                conn.execute(
                    text(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END"
                    )
                )
    elif conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION grader_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
            )
        )
        for table in tables:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
            conn.execute(
                text(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION grader_append_only()"
                )
            )

"""A schema-1 database (built from the frozen v1 DDL) opens with the new code, upgraded in place, data kept."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.exc import DBAPIError

from grader.core.audit.assignment import claim_next
from grader.core.audit.gold import gold_answers, mark_gold
from grader.core.audit.sampling import SampleSpec
from grader.core.audit.session_verdicts import submit_session_verdict
from grader.core.audit.sessions import create_session, session_patches
from grader.core.store.db import SchemaError, make_engine, write_transaction
from grader.core.store.migrate import HEAD_REVISION, _alembic_config
from grader.core.store.models import SCHEMA_VERSION, Meta, Verdict
from grader.core.store.verdicts import record_verdict

DATA = Path(__file__).resolve().parent.parent / "data"


def _run_sql_file(engine: Engine, path: Path) -> None:
    sql = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("--"))
    raw = engine.raw_connection()  # the driver as is: no parameter parsing of '%' in the trigger function
    try:
        cursor = raw.cursor()
        for statement in (s.strip() for s in sql.split(";\n")):
            if statement:
                cursor.execute(statement)
        raw.commit()
    finally:
        raw.close()


def _fill_v1(raw: Engine) -> None:
    with raw.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO task (benchmark, instance_id, repo, problem_statement, hints_text, reference_patch, "
            "test_patch, meta) VALUES ('b', 'org__x-1', 'org/x', 'ps', '', '', '', '{}')"
        )
        conn.exec_driver_sql(
            "INSERT INTO submission (benchmark, name, source, meta, imported_at) "
            "VALUES ('b', 'alpha', '', '{}', '2024-01-01 00:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO patch (task_id, submission_id, raw_patch, patch_kind, verifier_verdict, content_hash, "
            "line_count, extra) VALUES (1, 1, 'diff', 'diff', 'pass', 'h', 1, '{}')"
        )
        conn.exec_driver_sql("INSERT INTO reviewer (name, created_at) VALUES ('ana', '2024-01-01 00:00:00')")
        conn.exec_driver_sql(
            "INSERT INTO verdict (uid, patch_id, reviewer_id, verdict, note, tags, created_at, revealed_before, "
            "source) VALUES ('u1', 1, 1, 'fail', 'kept', '', '2024-01-01 00:00:00', false, 'review')"
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def v1_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database at schema 1 holding one graded patch."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'v1.db'}"
        raw = create_engine(url)
        _run_sql_file(raw, DATA / "schema_v1_sqlite.sql")
        _fill_v1(raw)
        raw.dispose()
        yield url
        return
    base = request.getfixturevalue("pg_server")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    raw = create_engine(url)
    _run_sql_file(raw, DATA / "schema_v1_postgresql.sql")
    _fill_v1(raw)
    raw.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def test_v1_database_upgrades_in_place_and_keeps_its_data(v1_database: str) -> None:
    engine = make_engine(v1_database)
    try:
        with engine.connect() as conn:
            version = conn.execute(select(Meta.value).where(Meta.key == "schema_version")).scalar_one()
            tables = set(inspect(conn).get_table_names())
            verdicts = conn.execute(select(Verdict.__table__.c.note, Verdict.__table__.c.verdict)).all()
        assert version == str(SCHEMA_VERSION)
        assert {"audit_session", "session_item", "session_assignment", "session_event", "gold_answer"} <= tables
        assert verdicts == [("kept", "fail")]
        # The append-only guards survive the upgrade and cover the new event table.
        for statement in ("UPDATE verdict SET note = 'x'", "DELETE FROM verdict"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.exec_driver_sql(statement)
        # The new tables work: a session over the old patch, a verdict recorded in it.
        session = create_session(engine, "audit", SampleSpec(size=1, seed=3), created_by="lead")
        record_verdict(engine, patch_id=1, reviewer="ben", verdict="pass", session_id=session.id)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM session_event")
        mark_gold(engine, patch_id=1, answer="fail", marked_by="lead")
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql("UPDATE gold_answer SET answer = 'pass'")
        # Opening again is a no-op.
        engine.dispose()
        engine = make_engine(v1_database)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD_REVISION
    finally:
        engine.dispose()


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'future.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(Meta.__table__.update().where(Meta.key == "schema_version").values(value="99"))
    engine.dispose()
    before = (tmp_path / "future.db").read_bytes()
    with pytest.raises(SchemaError, match="newer"):
        make_engine(url)
    assert (tmp_path / "future.db").read_bytes() == before


def test_fresh_schema_matches_the_migrated_one(v1_database: str, tmp_path: Path) -> None:
    """The tables create_all makes for a new database and the ones the migration adds are the same."""
    migrated = make_engine(v1_database)
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        for engine in (migrated, fresh):
            from alembic.autogenerate import compare_metadata
            from alembic.migration import MigrationContext
            from sqlmodel import SQLModel

            with engine.connect() as conn:
                differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
            assert differences == [], differences
    finally:
        migrated.dispose()
        fresh.dispose()


def _upgrade_v1_to_v2(url: str) -> None:
    """Bring a schema-1 database to schema 2 exactly as grader 2 did (Alembic up to 0002), and add a session."""
    from alembic import command

    raw = create_engine(url)
    with write_transaction(raw) as conn:
        config = _alembic_config(conn)
        command.stamp(config, "0001_v1_baseline")
        command.upgrade(config, "0002_audit_sessions")
        conn.exec_driver_sql("UPDATE grader_meta SET value = '2' WHERE key = 'schema_version'")
        conn.exec_driver_sql(
            "INSERT INTO audit_session (name, spec, blind, overlap, created_by, created_at) "
            "VALUES ('old', '{\"size\": 1}', true, 1, 'lead', '2024-01-02 00:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO session_item (session_id, patch_id, stratum, stratum_population, stratum_sample, position) "
            "VALUES (1, 1, '{}', 1, 1, 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO session_assignment (session_id, session_item_id, patch_id, position, slot) "
            "VALUES (1, 1, 1, 0, 0)"
        )
    raw.dispose()


def test_v2_database_upgrades_to_gold_items_and_keeps_its_sessions(v1_database: str) -> None:
    _upgrade_v1_to_v2(v1_database)
    engine = make_engine(v1_database)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(Meta.value).where(Meta.key == "schema_version")).scalar_one() == str(
                SCHEMA_VERSION
            )
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD_REVISION
            assert conn.execute(text("SELECT gold FROM session_item")).scalar_one() in (False, 0)
            assert conn.execute(text("SELECT reserved_for FROM session_assignment")).scalar_one() is None
        # The old session is still a sample of one patch that anyone may claim and grade.
        assert [p.patch_id for p in session_patches(engine, 1)] == [1]
        assert claim_next(engine, 1, "cy") == 1
        submit_session_verdict(engine, session_id=1, patch_id=1, reviewer="cy", verdict="pass")
        mark_gold(engine, patch_id=1, answer="pass", marked_by="lead")
        with engine.connect() as conn:
            assert gold_answers(conn) == {1: "pass"}
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM gold_answer")
    finally:
        engine.dispose()


def test_v3_database_upgrades_to_rubrics_and_keeps_its_verdicts(v1_database: str) -> None:
    """Schema 3 (gold items) to 4 (rubrics): the verdicts stay, rubric answers go with new ones, append-only."""
    from alembic import command

    from grader.core.store.rubric_answers import GivenAnswers, current_answers, store_rubric

    raw = create_engine(v1_database)
    with write_transaction(raw) as conn:
        config = _alembic_config(conn)
        command.stamp(config, "0001_v1_baseline")
        command.upgrade(config, "0003_gold_items")
        conn.exec_driver_sql("UPDATE grader_meta SET value = '3' WHERE key = 'schema_version'")
    raw.dispose()
    engine = make_engine(v1_database)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(Meta.value).where(Meta.key == "schema_version")).scalar_one() == "4"
            assert {"rubric", "rubric_answer", "external_label"} <= set(inspect(conn).get_table_names())
            assert conn.execute(text("SELECT note FROM verdict")).scalar_one() == "kept"
        rubric_id = store_rubric(engine, name="r", digest="d" * 64, text='name = "r"')
        saved = record_verdict(
            engine, patch_id=1, reviewer="ana", verdict="pass", answers=GivenAnswers(rubric_id, {"q": "1"})
        )
        with engine.connect() as conn:
            assert current_answers(conn, 1, 1) == {"q": "1"}
        for statement in ("DELETE FROM rubric_answer", "UPDATE rubric SET name = 'x'", "DELETE FROM rubric"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.exec_driver_sql(statement)
        assert saved.supersedes_id is not None
    finally:
        engine.dispose()

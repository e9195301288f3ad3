"""The store: schema creation, SQLite pragmas, schema-version refusal, append-only verdicts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from grader.core.store.db import SchemaError, make_engine, resolve_db_url
from grader.core.store.models import Patch, Submission, Task
from grader.core.store.verdicts import insert_verdict, record_verdict


def _one_patch(engine: Engine) -> int:
    with engine.begin() as conn:
        task = conn.execute(Task.__table__.insert().values(benchmark="b", instance_id="o__r-1")).inserted_primary_key
        sub = conn.execute(Submission.__table__.insert().values(benchmark="b", name="m")).inserted_primary_key
        patch = conn.execute(
            Patch.__table__.insert().values(task_id=task[0], submission_id=sub[0], raw_patch="x", diff_text=None)
        ).inserted_primary_key
    return int(patch[0])


def test_sqlite_pragmas(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_verdicts_are_append_only(engine: Engine) -> None:
    patch_id = _one_patch(engine)
    saved = record_verdict(engine, patch_id=patch_id, reviewer="ana", verdict="pass")
    for statement in ("UPDATE verdict SET verdict = 'fail'", "DELETE FROM verdict"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT verdict FROM verdict WHERE id = :i"), {"i": saved.id}).scalar() == "pass"


def test_a_new_verdict_supersedes_the_previous(engine: Engine) -> None:
    patch_id = _one_patch(engine)
    first = record_verdict(engine, patch_id=patch_id, reviewer="ana", verdict="pass")
    second = record_verdict(engine, patch_id=patch_id, reviewer="ana", verdict="fail", note="missed a case")
    undo = record_verdict(engine, patch_id=patch_id, reviewer="ana", verdict="retracted")
    assert second.supersedes_id == first.id
    assert undo.supersedes_id == second.id
    other = record_verdict(engine, patch_id=patch_id, reviewer="ben", verdict="pass")
    assert other.supersedes_id is None


def test_bad_verdicts_are_refused(engine: Engine) -> None:
    from grader.core.store.verdicts import VerdictError

    patch_id = _one_patch(engine)
    with pytest.raises(VerdictError, match="unknown verdict"):
        record_verdict(engine, patch_id=patch_id, reviewer="ana", verdict="maybe")
    with pytest.raises(VerdictError, match="nothing to undo"):
        record_verdict(engine, patch_id=patch_id, reviewer="ana", verdict="retracted")
    with pytest.raises(VerdictError, match="must not contain"), engine.begin() as conn:
        insert_verdict(conn, patch_id=patch_id, reviewer="ana", verdict="pass", tags=["a;b"])


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    make_engine(url).dispose()
    raw = create_engine(url)
    with raw.begin() as conn:
        conn.execute(text("UPDATE grader_meta SET value = '99' WHERE key = 'schema_version'"))
    before = (tmp_path / "g.db").read_bytes()
    with pytest.raises(SchemaError, match="newer grader"):
        make_engine(url)
    raw.dispose()
    assert (tmp_path / "g.db").read_bytes() == before


def test_unknown_schema_and_foreign_databases_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    make_engine(url).dispose()
    raw = create_engine(url)
    with raw.begin() as conn:
        conn.execute(text("UPDATE grader_meta SET value = 'banana' WHERE key = 'schema_version'"))
    with pytest.raises(SchemaError, match="unknown schema"):
        make_engine(url)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    raw2 = create_engine(other)
    with raw2.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER)"))
    raw2.dispose()
    before = (tmp_path / "other.db").read_bytes()
    with pytest.raises(SchemaError, match="not a grader database"):
        make_engine(other)
    raw.dispose()
    # Someone else's database is not touched at all: not even switched to WAL (which rewrites its header).
    assert (tmp_path / "other.db").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("other")) == ["other.db"]
    with sqlite3.connect(tmp_path / "other.db") as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_resolve_db_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GRADER_DB", raising=False)
    assert resolve_db_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert resolve_db_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("GRADER_DB", "sqlite:///env.db")
    assert resolve_db_url(None) == "sqlite:///env.db"
    monkeypatch.delenv("GRADER_DB")
    assert resolve_db_url(None).endswith("grader.db")


def test_bulk_import_leaves_the_file_in_wal_with_or_without_other_readers(tmp_path: Path, data_dir: Path) -> None:
    from grader.core.importers.swebench import import_swebench

    url = f"sqlite:///{tmp_path / 'g.db'}"
    engine = make_engine(url)
    import_swebench(engine, data_dir / "subs" / "verified")  # alone: may use a rollback journal meanwhile
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    reader = make_engine(url)
    with reader.connect() as held:
        held.exec_driver_sql("SELECT count(*) FROM patch").scalar()
        import_swebench(engine, data_dir / "subs" / "lite")  # someone else has the file open: stays in WAL
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("SELECT count(*) FROM patch").scalar() == 12
    reader.dispose()
    engine.dispose()

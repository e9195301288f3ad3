"""Fixtures shared by every test: engines on a temp SQLite file and on PostgreSQL, and the shared data.

Outside CI, tests that need the shared SWE-bench data or PostgreSQL skip when these are missing; under CI
(`CI=true`) they fail instead, so a green CI run has really used both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from grader.core.store.db import make_engine

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} not available")


def shared_data_dir() -> Path | None:
    env = os.environ.get("GRADER_SHARED_DATA")
    candidate = Path(env) if env else REPO.parent / "shared" / "data"
    return candidate if (candidate / "swebench").is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data folder (GRADER_SHARED_DATA, default ../shared/data)."""
    found = shared_data_dir()
    if found is None:
        _missing("the shared data (GRADER_SHARED_DATA)")
    assert found is not None
    return found


def pg_base_url() -> str:
    return os.environ.get("GRADER_TEST_PG_URL", DEFAULT_PG_URL)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL URL, checked reachable."""
    url = pg_base_url()
    try:
        probe = create_engine(url)
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
        probe.dispose()
    except Exception as exc:
        _missing(f"PostgreSQL at {url} ({exc.__class__.__name__})")
    return url


def make_pg_schema_engine(base_url: str) -> tuple[Engine, str]:
    """An engine whose tables live in a fresh schema of its own, so tests never see each other's rows."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in base_url else "?"
    return make_engine(f"{base_url}{separator}options=-csearch_path%3D{schema}"), schema


def drop_pg_schema(base_url: str, schema: str) -> None:
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'grader.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(pg_server: str) -> Iterator[Engine]:
    engine, schema = make_pg_schema_engine(pg_server)
    yield engine
    engine.dispose()
    drop_pg_schema(pg_server, schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The store on each backend: every test using it runs on SQLite and on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)


@pytest.fixture
def sample_data() -> Path:
    return REPO / "sample_data"


@pytest.fixture
def data_dir() -> Path:
    """Small hand-written files for tests (tests/data)."""
    return REPO / "tests" / "data"

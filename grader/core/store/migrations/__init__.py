"""Alembic migrations of the grader schema, run programmatically by grader.core.store.migrate."""

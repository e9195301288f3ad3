"""Alembic environment: always run on the connection grader.core.store.migrate hands over, inside its transaction."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from grader.core.store import models


def run_migrations() -> None:
    _ = models  # registers the tables on SQLModel.metadata
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


# Alembic runs this file as a script with its context set up; a plain import (tests, tools) does nothing.
if hasattr(context, "config"):
    run_migrations()

"""The Typer app and the options every command shares."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy import Engine

from grader.core.db import SchemaError, make_engine, resolve_db_url

app = typer.Typer(
    name="grader",
    help="Grade AI-written code patches by hand, blind, and measure how often the automated verifier was wrong.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)
import_app = typer.Typer(help="Import benchmark output, task files and graded sets.", no_args_is_help=True)
app.add_typer(import_app, name="import")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///path, postgresql+psycopg://...) or a SQLite file path. "
        "Default: $GRADER_DB, else grader.db in your data directory.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


def open_engine(db: str | None, *, create: bool = True) -> Engine:
    """The engine for `--db`, or an exit with a clear message when the database cannot be used."""
    url = resolve_db_url(db)
    try:
        return make_engine(url, create=create)
    except SchemaError as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"cannot open the database {url}: {exc.__class__.__name__}: {exc}".splitlines()[0])


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"grader: {message}", err=True)
    raise typer.Exit(code)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()

"""The Typer app and the options every command shares."""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import typer
from sqlalchemy import Engine
from typer.core import TyperGroup

from grader.core.store.db import SchemaError, make_engine, resolve_db_url


class GraderGroup(TyperGroup):
    """The command group: a file the OS refuses (missing, a directory, no permission) is a one-line error."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # Typer exits quietly on a closed pipe
                raise
            fail(os_error_text(exc))


app = typer.Typer(
    name="grader",
    cls=GraderGroup,
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
    problem = _sqlite_path_problem(url)
    if problem:
        fail(f"cannot open the database {url}: {problem}")
    try:
        return make_engine(url, create=create)
    except SchemaError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot open the database {url}: {os_error_text(exc)}")
    except Exception as exc:
        fail(f"cannot open the database {url}: {exc.__class__.__name__}: {exc}".splitlines()[0])


def check_known_names(engine: Engine, *, benchmarks: Iterable[str] = (), models: Iterable[str] = ()) -> None:
    """Exit naming a benchmark or model (submission) the store does not hold: a filter on it would match nothing."""
    from sqlalchemy import select

    from grader.core.stats.data import load_model_names
    from grader.core.store.models import Submission

    wanted = set(benchmarks)
    if wanted:
        table = Submission.__table__
        with engine.connect() as conn:
            known = set(conn.execute(select(table.c.benchmark).distinct()).scalars())
        unknown = sorted(wanted - known)
        if unknown:  # benchmarks are few, so naming them helps (`verified` is `swe-bench-verified`)
            hint = f"its benchmarks: {', '.join(sorted(known))}" if known else "it holds no patches"
            fail(f"no benchmark named {', '.join(unknown)} in the store ({hint})")
    unknown = sorted(set(models) - set(load_model_names(engine)))
    if unknown:
        fail(f"no model named {', '.join(unknown)} in the store")


def _sqlite_path_problem(url: str) -> str | None:
    """Why a SQLite file cannot be at this URL's path, said before SQLite or mkdir says it less clearly."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    target = Path(path)
    if target.is_dir():
        return f"{target} is a directory, not a database file"
    for folder in target.parents:
        if folder.exists():
            return None if folder.is_dir() else f"{folder} is a file, not a directory"
    return None


def os_error_reason(exc: OSError) -> str:
    """The OS's reason in lower case, e.g. `permission denied`."""
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


def os_error_text(exc: OSError) -> str:
    """`path: reason` for an OSError, e.g. `out/x.csv: no such file or directory`."""
    return f"{exc.filename}: {os_error_reason(exc)}" if exc.filename is not None else os_error_reason(exc)


def check_input_file(path: Path, *, what: str = "", note: str = "") -> None:
    """Exit naming the file when `path` does not exist or is a directory; `what` names the option."""
    label = f"{what} {path}" if what else str(path)
    if path.is_dir():
        fail(f"{label}: is a directory, not a file{note}")
    if not path.exists():
        fail(f"{label}: no such file or directory{note}")


def check_output_file(path: Path) -> None:
    """Exit naming the file when `path` cannot be written: a directory, or its directory is missing."""
    if path.is_dir():
        fail(f"cannot write {path}: it is a directory")
    folder = path.parent
    if not folder.is_dir():
        problem = "is a file, not a directory" if folder.exists() else "does not exist"
        fail(f"cannot write {path}: {folder} {problem}")


def open_output_file(path: Path) -> TextIO:
    """`path` opened for writing text (CSV-safe newlines), or an exit naming the path and the problem."""
    check_output_file(path)
    try:
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        fail(f"cannot write {path}: {os_error_reason(exc)}")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"grader: {message}", err=True)
    raise typer.Exit(code)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()

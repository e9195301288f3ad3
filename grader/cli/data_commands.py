"""Commands that move data in and out: import, export, status."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from grader.cli.app import (
    DbOption,
    JsonOption,
    app,
    check_input_file,
    fail,
    import_app,
    open_engine,
    open_output_file,
)
from grader.cli.progress import ProgressBar
from grader.core.export.graded_set import write_csv, write_jsonl
from grader.core.importers.common import BadInput, ImportReport
from grader.core.store.verdicts import count_tasks, status_counts

NOTHING_IMPORTED = "\nnothing was imported"

SkipBad = Annotated[
    bool,
    typer.Option("--skip-bad", help="Import the good rows and list the bad ones instead of importing nothing."),
]


def _finish(report: ImportReport, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_json()))
    else:
        typer.echo(report.summary())


@import_app.command("swebench")
def import_swebench_command(
    predictions: Annotated[
        Path, typer.Argument(help="Predictions (JSONL or JSON array), or a directory of submissions.")
    ],
    results: Annotated[
        Path | None, typer.Option(help="Harness results: experiments results.json or a run report.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Name of the submission (default: its folder).")] = None,
    benchmark: Annotated[
        str | None, typer.Option(help="Benchmark name (default: from a verified/ or lite/ folder).")
    ] = None,
    skip_bad: SkipBad = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """SWE-bench predictions with their verifier verdicts (resolved → pass, unresolved → fail, ...)."""
    from grader.core.importers.swebench import import_swebench

    if results is not None:
        check_input_file(results, what="--results", note=NOTHING_IMPORTED)
    engine = open_engine(db)
    try:
        with ProgressBar("importing") as bar:
            report = import_swebench(
                engine,
                predictions,
                results=results,
                model=model,
                benchmark=benchmark,
                skip_bad=skip_bad,
                progress=bar,
            )
    except BadInput as exc:
        fail(f"{exc}{NOTHING_IMPORTED}")
    _finish(report, as_json)


@import_app.command("tasks")
def import_tasks_command(
    file: Annotated[Path, typer.Argument(help="Task rows as JSONL, JSON or CSV.")],
    benchmark: Annotated[
        str | None, typer.Option(help="Benchmark name (default: from the file name: verified, lite...).")
    ] = None,
    skip_bad: SkipBad = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """SWE-bench task rows (problem statement, reference patch, test patch...) for reviewers to read."""
    from grader.core.importers.tasks import import_tasks

    check_input_file(file, note=NOTHING_IMPORTED)
    engine = open_engine(db)
    try:
        with ProgressBar("importing") as bar:
            report = import_tasks(engine, file, benchmark=benchmark, skip_bad=skip_bad, progress=bar)
    except BadInput as exc:
        fail(f"{exc}{NOTHING_IMPORTED}")
    _finish(report, as_json)


@import_app.command("csv")
def import_csv_command(
    file: Annotated[Path, typer.Argument(help="A graded-set CSV, as `grader export` writes it.")],
    benchmark: Annotated[str | None, typer.Option(help="Benchmark for rows without a benchmark column.")] = None,
    skip_bad: SkipBad = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A graded set: patches, verifier verdicts and human verdicts."""
    from grader.core.importers.graded_csv import import_graded_csv

    check_input_file(file, note=NOTHING_IMPORTED)
    engine = open_engine(db)
    try:
        with ProgressBar("importing") as bar:
            report = import_graded_csv(engine, file, benchmark=benchmark, skip_bad=skip_bad, progress=bar)
    except BadInput as exc:
        fail(f"{exc}{NOTHING_IMPORTED}")
    _finish(report, as_json)


@app.command("export")
def export_command(
    format: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default: stdout).")] = None,
    no_patch: Annotated[bool, typer.Option("--no-patch", help="Leave out the model_patch column.")] = False,
    session: Annotated[
        str | None,
        typer.Option(
            "--session",
            help="Only this audit session's patches and verdicts, with disagreement and adjudication columns at "
            "the end; model names stay pseudonyms until the session is unblinded.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """The graded set: one row per patch and human verdict; ungraded patches have an empty human_verdict."""
    from grader.core.audit.sessions import SessionError, get_session

    if format not in ("csv", "jsonl"):
        fail(f"unknown format {format!r}: use csv or jsonl")
    engine = open_engine(db, create=False)
    chosen = None
    if session is not None:
        try:
            chosen = get_session(engine, session)
        except SessionError as exc:
            fail(str(exc))
    writer = write_csv if format == "csv" else write_jsonl
    if output is None:
        count = writer(engine, sys.stdout, include_patch=not no_patch, session=chosen)
    else:
        with open_output_file(output) as out:
            count = writer(engine, out, include_patch=not no_patch, session=chosen)
        typer.echo(f"wrote {count} rows to {output}", err=True)


@app.command("status")
def status_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Patches per benchmark, model and verifier verdict, and how many a human has graded."""
    engine = open_engine(db)
    rows = status_counts(engine)
    tasks, described = count_tasks(engine)
    if as_json:
        typer.echo(json.dumps({"tasks": tasks, "tasks_with_problem_statement": described, "rows": rows}))
        return
    if not rows and tasks:
        typer.echo(
            f"{tasks} tasks ({described} with a problem statement) but no patches yet. "
            "Import some: grader import swebench PATH"
        )
        return
    if not rows:
        typer.echo("The store is empty. Import something: grader import swebench PATH")
        return
    table: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        counts = table.setdefault((str(row["benchmark"]), str(row["model"])), {})
        counts[str(row["verifier_verdict"])] = int(row["patches"])  # type: ignore[call-overload]
        counts["graded"] = counts.get("graded", 0) + int(row["graded"])  # type: ignore[call-overload]
    verdicts = ("pass", "fail", "error", "unknown")
    header = ("benchmark", "model", *verdicts, "total", "graded")
    body = []
    for (bench, model), counts in table.items():
        total = sum(counts.get(v, 0) for v in verdicts)
        body.append((bench, model, *(str(counts.get(v, 0)) for v in verdicts), str(total), str(counts["graded"])))
    totals = [sum(int(r[i]) for r in body) for i in range(2, len(header))]
    body.append(("all", f"{len(table)} models", *(str(t) for t in totals)))
    widths = [max(len(str(r[i])) for r in (header, *body)) for i in range(len(header))]
    widths[1] = min(widths[1], 48)

    def fmt(cells: tuple[str, ...]) -> str:
        out = []
        for i, cell in enumerate(cells):
            text = cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…"
            out.append(text.ljust(widths[i]) if i < 2 else text.rjust(widths[i]))
        return "  ".join(out)

    typer.echo(fmt(header))
    typer.echo("  ".join("-" * w for w in widths))
    for row in body[:-1]:
        typer.echo(fmt(row))
    typer.echo("  ".join("-" * w for w in widths))
    typer.echo(fmt(body[-1]))
    typer.echo(f"\n{tasks} tasks, {described} with a problem statement")

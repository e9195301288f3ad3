"""`grader gold add|import|list|remove`: patches with a known answer, mixed into sessions to check reviewers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from grader.cli.app import DbOption, JsonOption, app, fail, open_engine, os_error_reason
from grader.cli.data_commands import SkipBad
from grader.cli.review_commands import reviewer_name

gold_app = typer.Typer(help="Gold items: patches a lead marked pass or fail, to measure reviewers' accuracy.")
app.add_typer(gold_app, name="gold")

ByOption = Annotated[
    str | None, typer.Option("--by", help="Who marks it (default: $GRADER_REVIEWER, else your OS user).")
]
TaskOption = Annotated[str | None, typer.Option("--task", help="The task id (with --model) instead of a patch id.")]
ModelOption = Annotated[str | None, typer.Option("--model", help="The model whose patch for --task is meant.")]
BenchmarkOption = Annotated[str | None, typer.Option("--benchmark", help="The benchmark, when the task is in several.")]


def _patch_id(engine: Engine, patch_id: int | None, task: str | None, model: str | None, benchmark: str | None) -> int:
    from grader.core.audit.gold import GoldError, resolve_patch

    if patch_id is not None:
        if task or model:
            fail("give a patch id or --task with --model, not both")
        return patch_id
    if not task or not model:
        fail("give a patch id, or --task and --model")
    assert task is not None and model is not None
    try:
        return resolve_patch(engine, task_id=task, model=model, benchmark=benchmark)
    except GoldError as exc:
        fail(str(exc))
    raise AssertionError("unreachable")


@gold_app.command("add")
def add_command(
    patch_id: Annotated[int | None, typer.Argument(help="The patch id (see `grader show`).")] = None,
    answer: Annotated[str, typer.Option("--answer", help="The known answer: pass or fail.")] = "",
    note: Annotated[str, typer.Option("--note", help="Why this is the answer.")] = "",
    task: TaskOption = None,
    model: ModelOption = None,
    benchmark: BenchmarkOption = None,
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Mark a patch gold with its known answer (a later mark supersedes an earlier one)."""
    from grader.core.audit.gold import GoldError, mark_gold

    if not answer.strip():
        fail("--answer is required: the known answer, pass or fail")
    engine = open_engine(db)
    target = _patch_id(engine, patch_id, task, model, benchmark)
    try:
        mark_gold(engine, patch_id=target, answer=answer, note=note, marked_by=reviewer_name(by))
    except GoldError as exc:
        fail(str(exc))
    typer.echo(f"patch {target} is gold: {answer.strip().lower()}")


@gold_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="CSV with columns task_id, model, answer [, benchmark, note].")],
    by: ByOption = None,
    skip_bad: SkipBad = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark every row's patch gold, all or nothing; a bad row is named by file and line (--skip-bad: listed)."""
    from grader.core.audit.gold import import_gold
    from grader.core.importers.common import BadInput

    engine = open_engine(db)
    try:
        report = import_gold(path, engine, marked_by=reviewer_name(by), skip_bad=skip_bad)
    except BadInput as exc:
        fail(f"{exc} (nothing was imported)")
    except OSError as exc:
        fail(f"cannot read {path}: {os_error_reason(exc)}")
    typer.echo(json.dumps(report.as_json()) if as_json else report.summary())


@gold_app.command("list")
def list_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every current gold item with its answer, who marked it and when."""
    from grader.core.audit.gold import list_gold

    entries = list_gold(open_engine(db, create=False))
    if as_json:
        typer.echo(json.dumps([e.as_json() for e in entries]))
        return
    if not entries:
        typer.echo("no gold items")
        return
    for e in entries:
        note = f"  {e.note}" if e.note else ""
        typer.echo(
            f"{e.patch_id:>7}  {e.answer:<4}  {e.benchmark}  {e.task_id}  {e.model}  "
            f"({e.marked_by}, {e.marked_at:%Y-%m-%d}){note}"
        )


@gold_app.command("remove")
def remove_command(
    patch_id: Annotated[int | None, typer.Argument(help="The patch id.")] = None,
    note: Annotated[str, typer.Option("--note", help="Why it is no longer gold.")] = "",
    task: TaskOption = None,
    model: ModelOption = None,
    benchmark: BenchmarkOption = None,
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """The patch is no longer gold (its marks stay in the history)."""
    from grader.core.audit.gold import GoldError, withdraw_gold

    engine = open_engine(db)
    target = _patch_id(engine, patch_id, task, model, benchmark)
    try:
        withdraw_gold(engine, patch_id=target, marked_by=reviewer_name(by), note=note)
    except GoldError as exc:
        fail(str(exc))
    typer.echo(f"patch {target} is no longer gold")


# --- the `reviewers` part of `grader stats` -------------------------------------------------------------


def reviewer_accuracy_json(
    db: str | None, session: str | None, session_summary: dict[str, object] | None, threshold: float
) -> list[dict[str, object]]:
    """Each reviewer's accuracy on gold items, as `grader stats --json` prints it under `reviewers`."""
    from grader.core.stats.gold_accuracy import reviewer_accuracies

    if not 0 < threshold <= 1:
        fail("--gold-threshold must be above 0 and at most 1")
    session_id = None
    if session_summary is not None:
        session_id = int(session_summary["id"])  # type: ignore[call-overload]
    elif session is not None and session.isdigit():
        session_id = int(session)
    engine = open_engine(db, create=False)
    return [row.as_json() for row in reviewer_accuracies(engine, session_id=session_id, threshold=threshold)]


def _rate_text(rate: dict[str, object]) -> str:
    if rate["value"] is None:
        return "—"
    return (
        f"{float(rate['value']):.0%} of {rate['n']} "  # type: ignore[arg-type]
        f"[{float(rate['ci_low']):.0%}, {float(rate['ci_high']):.0%}]"  # type: ignore[arg-type]
    )


def reviewers_text(rows: list[dict[str, object]], threshold: float) -> str:
    """The text table of reviewers' accuracy on gold items (95% Wilson intervals)."""
    if not rows:
        return "\nReviewers on gold items: no verdicts on gold items (grader gold add/import)."
    lines = [
        f"\nReviewers on gold items (unsure counts as wrong; flagged below {threshold:.0%}; 95% Wilson intervals)",
        f"{'reviewer':<20} {'accuracy':<24} {'first third':<24} last third",
    ]
    for row in rows:
        drift = row["drift"]
        accuracy = row["accuracy"]
        lines.append(
            f"{str(row['reviewer'])[:20]:<20} {_rate_text(accuracy):<24} "  # type: ignore[arg-type]
            f"{_rate_text(drift['first_third']):<24} {_rate_text(drift['last_third'])}"  # type: ignore[index]
        )
        if row["flagged"]:
            lines.append(f"  ! {row['reason']}")
    return "\n".join(lines)

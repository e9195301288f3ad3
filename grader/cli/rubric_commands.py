"""`grader rubric list|show` and `grader import labels`: label schemas, and published labels as an external rater."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from grader.cli.app import DbOption, JsonOption, app, check_input_file, fail, import_app, open_engine

rubric_app = typer.Typer(help="Rubrics: the questions reviewers answer beside each verdict.", no_args_is_help=True)
app.add_typer(rubric_app, name="rubric")


def load_rubric_or_fail(name_or_path: str):  # type: ignore[no-untyped-def]
    """The rubric named (built-in) or at a path, or an exit with the one-line error (file, line, problem)."""
    from grader.core.importers.rubrics import RubricError, load_rubric

    try:
        return load_rubric(name_or_path)
    except RubricError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{name_or_path}: {exc.strerror or exc}")


@rubric_app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """The built-in rubrics."""
    from grader.core.importers.rubrics import builtin_rubric_names, load_rubric

    rubrics = [load_rubric(name) for name in builtin_rubric_names()]
    if as_json:
        out = [{"name": r.name, "title": r.title, "source": r.source, "questions": len(r.questions)} for r in rubrics]
        typer.echo(json.dumps({"rubrics": out}))
        return
    for rubric in rubrics:
        typer.echo(f"{rubric.name:20} {len(rubric.questions)} questions  {rubric.title} ({rubric.source})")


@rubric_app.command("show")
def show_command(
    rubric: Annotated[str, typer.Argument(help="A built-in rubric's name or a rubric TOML file.")],
    as_json: JsonOption = False,
) -> None:
    """A rubric's questions with their options and keys (checks a TOML file: errors name the line)."""
    loaded = load_rubric_or_fail(rubric)
    if as_json:
        questions = [
            {
                "id": q.id,
                "prompt": q.prompt,
                "kind": q.kind,
                "level": q.level,
                "required": q.required,
                "phase": q.phase,
                "ensemble": q.ensemble,
                "options": [
                    {"key": k, "value": o.value, "label": o.label} for k, o in zip(q.keys(), q.options, strict=True)
                ],
            }
            for q in loaded.questions
        ]
        typer.echo(json.dumps({"name": loaded.name, "digest": loaded.digest, "questions": questions}))
        return
    typer.echo(f"{loaded.name}: {loaded.title}\n  source: {loaded.source}\n  digest: {loaded.digest[:16]}")
    for q in loaded.questions:
        flags = ", ".join(
            [q.kind, f"{q.level}-level", "required" if q.required else "optional", f"{q.phase} the verdict"]
        )
        typer.echo(f"\n{q.id} ({flags})\n  {q.prompt}")
        for key, option in zip(q.keys(), q.options, strict=True):
            typer.echo(f"  {key}  {option.value}: {option.label}")


@import_app.command("labels")
def import_labels_command(
    path: Annotated[Path, typer.Argument(help="A published label file (CSV in its published layout).")],
    rater: Annotated[
        str, typer.Option("--as", help="Whose labels: openai-verified or agentless-lite (the external rater's name).")
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Published task-level labels as a named external rater (compare with `grader stats --against RATER`)."""
    from grader.core.importers.common import BadInput
    from grader.core.importers.labels import RATERS, import_labels

    if rater not in RATERS:
        fail(f"--as takes {' or '.join(RATERS)}, not {rater!r}")
    check_input_file(path, note="\nnothing was imported")
    engine = open_engine(db)
    try:
        report = import_labels(engine, path, rater=rater)
    except BadInput as exc:
        fail(f"{exc}\nnothing was imported")
    typer.echo(json.dumps(report.as_json()) if as_json else report.summary())

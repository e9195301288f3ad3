"""`grader review` and `grader demo`: the review screen on a store, or on the sample data in a throwaway one."""

from __future__ import annotations

import getpass
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from grader.cli.app import DbOption, app, check_known_names, fail, open_engine
from grader.core.audit.review import QueueFilter, parse_rubric

ENV_REVIEWER = "GRADER_REVIEWER"
ENV_TAGS = "GRADER_TAGS"
ENV_SAMPLE_DATA = "GRADER_SAMPLE_DATA"

ReviewerOption = Annotated[
    str | None,
    typer.Option("--reviewer", help="Your name on the verdicts (default: $GRADER_REVIEWER, else your OS user)."),
]
TagsOption = Annotated[
    str | None,
    typer.Option(
        "--tags", help="Rubric tags offered, comma-separated (default: $GRADER_TAGS, else the built-in rubric)."
    ),
]


def reviewer_name(option: str | None) -> str:
    name = option or os.environ.get(ENV_REVIEWER) or getpass.getuser()
    if not name.strip():
        fail("no reviewer name: pass --reviewer or set GRADER_REVIEWER")
    return name.strip()


def _rubric(option: str | None) -> tuple[str, ...]:
    text = option if option is not None else os.environ.get(ENV_TAGS, "")
    return parse_rubric(text) if text else ()


def _run_app(
    engine: object,
    reviewer: str,
    blind: bool,
    filters: QueueFilter,
    rubric: tuple[str, ...],
    session: object | None = None,
    adjudicate: bool = False,
    review_rubric: object | None = None,
) -> None:
    from grader.tui.app import GraderApp

    app = GraderApp(
        engine,  # type: ignore[arg-type]
        reviewer=reviewer,
        blind=blind,
        filters=filters,
        rubric=rubric,
        session=session,  # type: ignore[arg-type]
        adjudicate=adjudicate,
        review_rubric=review_rubric,  # type: ignore[arg-type]
    )
    app.run()


@app.command("review")
def review_command(
    reviewer: ReviewerOption = None,
    blind: Annotated[
        bool, typer.Option("--blind/--no-blind", help="Hide the model and the verifier until you commit.")
    ] = True,
    model: Annotated[list[str] | None, typer.Option("--model", help="Only this model (repeatable).")] = None,
    benchmark: Annotated[
        list[str] | None, typer.Option("--benchmark", help="Only this benchmark (repeatable).")
    ] = None,
    verdict: Annotated[
        list[str] | None, typer.Option("--verdict", help="Only patches with this verifier verdict (repeatable).")
    ] = None,
    tags: TagsOption = None,
    session: Annotated[
        str | None,
        typer.Option("--session", help="Grade the patches an audit session leases to you (its blinding applies)."),
    ] = None,
    adjudicate: Annotated[
        bool,
        typer.Option("--adjudicate", help="Settle the session's disagreements (needs --session; a third person)."),
    ] = False,
    rubric: Annotated[
        str | None,
        typer.Option("--rubric", help="Questions to answer with each verdict: a built-in name or a TOML file."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Grade patches: one key per verdict, blind by default; the verifier's verdict is revealed after yours."""
    if adjudicate and session is None:
        fail("--adjudicate needs --session NAME")
    name = reviewer_name(reviewer)
    engine = open_engine(db)
    info = None
    if session is not None:
        from grader.core.audit.sessions import SessionError, get_session

        try:
            info = get_session(engine, session)
        except SessionError as exc:
            fail(str(exc))
        assert info is not None
        if not info.is_open:
            fail(f"session {info.name} is closed")
        allowed = info.spec.reviewers
        if allowed and not adjudicate and name not in allowed:  # an adjudicator need not be on it
            fail(f"{name} is not a reviewer of session {info.name} ({', '.join(allowed)})")
    verdicts = tuple(v.lower() for v in verdict or ())
    bad = [v for v in verdicts if v not in ("pass", "fail", "error", "unknown")]
    if bad:
        fail(f"--verdict takes pass, fail, error or unknown, not {', '.join(bad)}")
    check_known_names(engine, benchmarks=benchmark or (), models=model or ())
    filters = QueueFilter(models=tuple(model or ()), benchmarks=tuple(benchmark or ()), verifier_verdicts=verdicts)
    asked = rubric_to_ask(engine, rubric, info.id if info is not None else None, info.name if info else None)
    _run_app(engine, name, blind, filters, _rubric(tags), info, adjudicate, asked)


def rubric_to_ask(engine: object, option: str | None, session_id: int | None, session_name: str | None) -> object:
    """The rubric to ask: the session's (a different --rubric is refused), else --rubric, else none."""
    from grader.cli.rubric_commands import load_rubric_or_fail
    from grader.core.audit.rubric_review import prepare_rubric, session_rubric

    asked = session_rubric(engine, session_id) if session_id is not None else None  # type: ignore[arg-type]
    if option is None:
        return asked
    chosen = load_rubric_or_fail(option)
    if asked is not None and asked.rubric.digest != chosen.digest:
        fail(f"session {session_name} asks rubric {asked.rubric.name}; --rubric {option} is a different one")
    return asked or prepare_rubric(engine, chosen)  # type: ignore[arg-type]


def sample_data_dir() -> Path:
    env = os.environ.get(ENV_SAMPLE_DATA)
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "sample_data")
    for candidate in candidates:
        if (candidate / "tasks.jsonl").is_file():
            return candidate
    fail(
        "the sample data was not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); run from a checkout (pip install -e .) or set GRADER_SAMPLE_DATA"
    )
    raise AssertionError  # unreachable


def load_demo(db_url: str, sample: Path) -> object:
    """A fresh store at `db_url` holding the sample data (tasks, three submissions, a graded set)."""
    from grader.core.importers.graded_csv import import_graded_csv
    from grader.core.importers.swebench import import_swebench
    from grader.core.importers.tasks import import_tasks
    from grader.core.store.db import make_engine

    engine = make_engine(db_url)
    import_tasks(engine, sample / "tasks.jsonl")
    import_swebench(engine, sample / "submissions")
    if (sample / "graded.csv").is_file():
        import_graded_csv(engine, sample / "graded.csv")
    return engine


@app.command("demo")
def demo_command(
    reviewer: ReviewerOption = None,
    blind: Annotated[bool, typer.Option("--blind/--no-blind", help="Blind review (the default).")] = True,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the throwaway database and print its path.")] = False,
    rubric: Annotated[
        str | None, typer.Option("--rubric", help="Also answer a rubric's questions (built-in name or TOML file).")
    ] = None,
) -> None:
    """Load sample_data/ into a throwaway database and open the review screen on it."""
    sample = sample_data_dir()
    folder = Path(tempfile.mkdtemp(prefix="grader-demo-"))
    try:
        engine = load_demo(f"sqlite:///{folder / 'demo.db'}", sample)
        asked = rubric_to_ask(engine, rubric, None, None)
        _run_app(engine, reviewer_name(reviewer), blind, QueueFilter(), (), review_rubric=asked)
        engine.dispose()  # type: ignore[attr-defined]
    finally:
        if keep:
            typer.echo(f"demo database kept at {folder / 'demo.db'}")
        else:
            shutil.rmtree(folder, ignore_errors=True)

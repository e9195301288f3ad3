"""`grader report`: the audit report as one self-contained HTML file (or Markdown), built from `stats --json`."""

from __future__ import annotations

import io
import json
import shlex
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Annotated, Any

import typer

from grader.cli.app import DbOption, app, fail, open_engine, open_output_file
from grader.cli.stats_text import CONVENTIONS

RUBRIC_METHODS = (
    "Rubric answers: an item is an audited patch; a task-level answer belongs to every audited patch of the task. "
    "Several reviewers' answers become one by the question's rule (strict majority; the highest level for "
    "OpenAI's severity scales; the lower median for difficulty). Shares are of the answered items, with Wilson 95% "
    "intervals (design-weighted in a session). Agreement between reviewers: Krippendorff's alpha (ordinal metric "
    "for ordinal scales) and Cohen's kappa per pair (quadratic weights for ordinal scales). See docs/rubrics.md."
)


def stats_json(**options: Any) -> dict[str, Any]:
    """Exactly the object `grader stats --json` prints for these options (the report's only source of numbers)."""
    from grader.cli.stats_commands import stats_command

    out = io.StringIO()
    with redirect_stdout(out):
        stats_command(as_json=True, **options)
    return json.loads(out.getvalue())


@app.command("report")
def report_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write (audit.html, audit.md).")],
    session: Annotated[
        str | None, typer.Option("--session", help="One audit session (its design; pseudonyms until unblinded).")
    ] = None,
    model: Annotated[list[str] | None, typer.Option("--model", help="Only this model; repeatable.")] = None,
    benchmark: Annotated[str | None, typer.Option("--benchmark", help="Only this benchmark.")] = None,
    rubric_questions: Annotated[
        bool, typer.Option("--rubric-questions", help="Add the rubric answer shares and agreement per question.")
    ] = False,
    where: Annotated[
        str | None, typer.Option("--where", help="Also the pass rates without the items a rubric answer drops.")
    ] = None,
    report_format: Annotated[str, typer.Option("--format", help="html (default) or md.")] = "html",
    title: Annotated[str, typer.Option("--title", help="The report's title.")] = "Verifier audit",
    db: DbOption = None,
) -> None:
    """A report to publish: what was audited, the corrected leaderboard, false accepts and rejects, agreement,
    rubric answers, reviewers on gold, methods, and how to reproduce it. Every number is `stats --json`'s."""
    from grader import __version__
    from grader.core.export.report import ReportContext, build_report
    from grader.core.export.report_html import render_html
    from grader.core.export.report_inputs import inputs_digest
    from grader.core.export.report_md import render_markdown

    if report_format not in ("html", "md"):
        fail(f"--format takes html or md, not {report_format!r}")
    stats = stats_json(model=model, benchmark=benchmark, session=session, where=where, db=db)
    engine = open_engine(db, create=False)
    session_id = stats["session"]["id"] if "session" in stats else None
    context = ReportContext(
        title=title,
        scope=f"audit session {stats['session']['name']}" if session_id is not None else "every graded patch",
        benchmarks=_benchmarks(engine, benchmark),
        command=shlex.join(["grader", *sys.argv[1:]]),
        version=__version__,
        inputs_digest=inputs_digest(engine, models=model or (), benchmark=benchmark, session_id=session_id),
        methods=[CONVENTIONS, RUBRIC_METHODS] if rubric_questions else [CONVENTIONS],
        rubric_questions=rubric_questions,
    )
    report = build_report(stats, context)
    text = render_html(report, version=__version__) if report_format == "html" else render_markdown(report)
    with open_output_file(output) as out:
        out.write(text)
    typer.echo(f"wrote {output} ({len(report.sections)} sections)")


def _benchmarks(engine: Any, benchmark: str | None) -> list[str]:
    if benchmark is not None:
        return [benchmark]
    from sqlalchemy import select

    from grader.core.store.models import Submission

    table = Submission.__table__
    with engine.connect() as conn:
        return sorted(str(b) for b in conn.execute(select(table.c.benchmark).distinct()).scalars())

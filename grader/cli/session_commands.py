"""`grader session create|list|show|close|unblind`: sampled, blinded audits graded by several reviewers."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from grader.cli.app import DbOption, JsonOption, app, check_known_names, fail, open_engine
from grader.cli.review_commands import reviewer_name
from grader.cli.rubric_commands import load_rubric_or_fail

session_app = typer.Typer(help="Audit sessions: a seeded stratified sample, K reviewers per patch, blind.")
app.add_typer(session_app, name="session")

ActorOption = Annotated[
    str | None, typer.Option("--by", help="Who does this (default: $GRADER_REVIEWER, else your OS user).")
]


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(part.strip() for value in values or () for part in value.split(",") if part.strip())


@session_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="A unique name for the session.")],
    benchmark: Annotated[list[str] | None, typer.Option("--benchmark", help="Only this benchmark; repeatable.")] = None,
    model: Annotated[list[str] | None, typer.Option("--model", help="Only this model; repeatable.")] = None,
    size: Annotated[int | None, typer.Option("--size", help="Sample size, allocated proportionally.")] = None,
    per_stratum: Annotated[int | None, typer.Option("--per-stratum", help="Items per stratum.")] = None,
    strata: Annotated[str, typer.Option("--strata", help="From model, verdict, repo, tag.")] = "model,verdict",
    seed: Annotated[int, typer.Option("--seed", help="Same spec + seed = same sample.")] = 0,
    reviewers: Annotated[str | None, typer.Option("--reviewers", help="a,b,c: only these may grade.")] = None,
    overlap: Annotated[int, typer.Option("--overlap", help="Distinct reviewers per patch.")] = 1,
    blind: Annotated[bool, typer.Option("--blind/--no-blind", help="Model names hidden until unblinded.")] = True,
    gold_share: Annotated[
        float,
        typer.Option("--gold-share", help="Share of each reviewer's queue that is gold items (needs --reviewers)."),
    ] = 0.0,
    rubric: Annotated[
        str | None,
        typer.Option("--rubric", help="Questions reviewers answer with each verdict: a built-in name or a TOML file."),
    ] = None,
    by: ActorOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draw the sample and open the session for grading."""
    from grader.core.audit.sampling import SampleSpec, SamplingError
    from grader.core.audit.sessions import SessionError, create_session, session_report

    spec = SampleSpec(
        benchmarks=_split(benchmark),
        models=_split(model),
        strata=_split([strata]),
        size=size,
        per_stratum=per_stratum,
        seed=seed,
        overlap=overlap,
        blind=blind,
        reviewers=_split([reviewers] if reviewers else None),
        gold_share=gold_share,
    )
    asked = load_rubric_or_fail(rubric) if rubric is not None else None  # a bad file fails before any write
    engine = open_engine(db)
    check_known_names(engine, benchmarks=spec.benchmarks, models=spec.models)
    try:
        info = create_session(engine, name, spec, created_by=reviewer_name(by))
    except (SamplingError, SessionError) as exc:
        fail(str(exc))
    if asked is not None:
        from grader.core.audit.rubric_review import attach_rubric

        attach_rubric(engine, info.id, asked, actor=reviewer_name(by))
    report = session_report(engine, info)
    if asked is not None:
        report["rubric"] = {"name": asked.name, "digest": asked.digest}
    if as_json:
        typer.echo(json.dumps(report))
        return
    progress = report["progress"]
    typer.echo(
        f"session {name!r}: {progress['items']} patches in {len(report['strata'])} strata, "  # type: ignore[index]
        f"{overlap} reviewer(s) each ({progress['slots']} verdicts to give), seed {seed}"  # type: ignore[index]
    )
    if asked is not None:
        typer.echo(f"reviewers answer rubric {asked.name} ({len(asked.questions)} questions) with each verdict")
    if gold_share:
        gold: dict[str, int] = report["gold"]  # type: ignore[assignment]
        if gold:
            typer.echo("gold items per reviewer: " + ", ".join(f"{r} {n}" for r, n in gold.items()))
        else:
            typer.echo("warning: no gold item matches the session's filters outside its sample", err=True)


@session_app.command("list")
def list_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every session with its state and progress."""
    from grader.core.audit.assignment import session_progress
    from grader.core.audit.sessions import list_sessions

    engine = open_engine(db, create=False)
    rows = []
    for info in list_sessions(engine):
        progress = session_progress(engine, info.id)
        state = "closed" if info.closed_at else "open"
        rows.append(
            {
                "name": info.name,
                "id": info.id,
                "state": state,
                "blind": info.blind,
                "unblinded": info.unblinded_at is not None,
                "items": progress.items,
                "overlap": info.overlap,
                "done": progress.done,
                "slots": progress.slots,
            }
        )
    if as_json:
        typer.echo(json.dumps({"sessions": rows}))
        return
    if not rows:
        typer.echo("No sessions. Create one: grader session create NAME --size 200")
        return
    for row in rows:
        blindness = "blind" if row["blind"] and not row["unblinded"] else "unblinded" if row["blind"] else "open-label"
        typer.echo(
            f"{row['name']}  ({row['state']}, {blindness})  {row['items']} patches x {row['overlap']}  "
            f"{row['done']}/{row['slots']} verdicts"
        )


@session_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="Session name (or id).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The session's design, strata (population N and sample n), progress, disagreements and patches."""
    from grader.core.audit.sessions import SessionError, get_session, session_report

    engine = open_engine(db, create=False)
    try:
        report = session_report(engine, get_session(engine, name))
    except SessionError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report))
        return
    progress, disagreements = report["progress"], report["disagreements"]
    state = "closed" if report["closed_at"] else "open"
    hidden = "model names hidden" if report["models_hidden"] else "model names shown"
    typer.echo(f"session {report['name']!r} ({state}, {hidden}); spec {json.dumps(report['spec'])}")
    typer.echo(
        f"{progress['done']}/{progress['slots']} verdicts given, {progress['leased']} leased now; "  # type: ignore[index]
        f"{disagreements['count']} disagreements, {disagreements['resolved']} adjudicated"  # type: ignore[index]
    )
    typer.echo("\nstratum  population N  sample n")
    for stratum in report["strata"]:  # type: ignore[attr-defined]
        label = ", ".join(f"{k}={v}" for k, v in stratum["stratum"].items())
        typer.echo(f"{label}  {stratum['population']}  {stratum['sample']}")
    split = [p for p in report["patches"] if p["disagreement"]]  # type: ignore[attr-defined]
    if split:
        typer.echo("\ndisagreements")
        for patch in split:
            votes = ", ".join(f"{r}: {v}" for r, v in patch["verdicts"].items())
            typer.echo(f"{patch['task_id']}  {patch['model']}  {votes}  → {patch['adjudicated'] or 'not adjudicated'}")


@session_app.command("close")
def close_command(
    name: Annotated[str, typer.Argument()], by: ActorOption = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """No more claims or verdicts in the session (recorded with who and when)."""
    from grader.core.audit.sessions import SessionError, close_session

    actor = reviewer_name(by)
    try:
        info = close_session(open_engine(db, create=False), name, actor=actor)
    except SessionError as exc:
        fail(str(exc))
    if as_json:
        closed_at = info.closed_at.isoformat() if info.closed_at else None
        typer.echo(json.dumps({"name": info.name, "id": info.id, "closed_at": closed_at, "closed_by": actor}))
        return
    typer.echo(f"session {name!r} closed")


@session_app.command("unblind")
def unblind_command(
    name: Annotated[str, typer.Argument()], by: ActorOption = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Show model names in this session's stats, export and listing from now on (recorded with who and when)."""
    from grader.core.audit.sessions import SessionError, unblind_session

    try:
        info = unblind_session(open_engine(db, create=False), name, actor=reviewer_name(by))
    except SessionError as exc:
        fail(str(exc))
    if as_json:
        unblinded_at = info.unblinded_at.isoformat() if info.unblinded_at else None
        out = {"name": info.name, "id": info.id, "unblinded_at": unblinded_at, "unblinded_by": info.unblinded_by}
        typer.echo(json.dumps(out))
        return
    typer.echo(f"session {name!r} unblinded by {info.unblinded_by} at {info.unblinded_at}")

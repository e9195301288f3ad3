"""`grader stats` and `grader plan`: the statistics of the graded set, as tables or one JSON object."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from grader.cli.app import DbOption, JsonOption, app, check_known_names, fail, open_engine
from grader.cli.rubric_stats_text import add_rubric_figures, rubric_text
from grader.cli.stats_text import CONVENTIONS, render_report, table

ModelOption = Annotated[
    list[str] | None, typer.Option("--model", help="Only this model (submission name); repeat for several.")
]
BenchmarkOption = Annotated[str | None, typer.Option("--benchmark", help="Only this benchmark.")]


def _load(
    db: str | None, models: list[str] | None, benchmark: str | None, session: str | None
) -> tuple[Any, Any, dict[str, Any] | None, Any]:
    """The records and model names; with a session, only its verdicts, pseudonyms while it is blind, and the
    session's recorded design (the scope its corrected estimates are computed in)."""
    from grader.core.audit.sessions import find_session, model_display_names
    from grader.core.stats.data import load_model_names

    engine = open_engine(db, create=False)
    if benchmark is not None:
        check_known_names(engine, benchmarks=[benchmark])
    info = None
    session_id = None
    if session is not None:
        with engine.connect() as conn:
            info = find_session(conn, session)
        if info is None and not session.isdigit():
            fail(f"no session named {session!r}")
        # A bare number that names no session still filters verdicts by that session id.
        session_id = info.id if info is not None else int(session)
    records = _records(engine, models, benchmark, session_id)
    names = load_model_names(engine, benchmark=benchmark)
    if models:
        unknown = sorted(set(models) - set(names))
        if unknown:
            fail(f"no model named {', '.join(unknown)} in the store")
        names = [n for n in names if n in models]
    summary = None
    scope = None
    if info is not None:
        from grader.core.audit.adjudication import session_cases
        from grader.core.stats.session import SessionScope, load_session_design

        design = load_session_design(engine, info.id)

        from grader.core.audit.sessions import session_patches

        sampled = {patch.patch_id for patch in session_patches(engine, info.id)}  # gold items are not
        split = [case for case in session_cases(engine, info.id) if case.disagreement and case.patch_id in sampled]
        summary = {
            "name": info.name,
            "id": info.id,
            "models_hidden": info.models_hidden,
            "unblinded_at": info.unblinded_at.isoformat() if info.unblinded_at else None,
            "unblinded_by": info.unblinded_by,
            "disagreements": len(split),
            "adjudicated": sum(1 for case in split if case.resolved),
        }
        shown_models = frozenset(models) if models else None
        if info.models_hidden:
            shown = model_display_names(engine, info)
            for record in records:
                record.model = shown.get(record.model, "Model ?")
            names = sorted({shown.get(name, "Model ?") for name in names})
            design = design.renamed(shown)
            if shown_models is not None:
                shown_models = frozenset(shown.get(name, "Model ?") for name in shown_models)
        scope = SessionScope(design, shown_models, benchmark)
    return records, names, summary, scope


def _records(engine: Any, models: list[str] | None, benchmark: str | None, session_id: int | None) -> Any:
    from grader.core.stats.data import load_stat_records

    return load_stat_records(engine, models=models or (), benchmark=benchmark, session_id=session_id)


@app.command(
    "stats", help=f"Agreement between the verifier and the humans, error rates, corrected pass rates.\n\n{CONVENTIONS}"
)
def stats_command(
    by: Annotated[
        str | None, typer.Option("--by", help="Also break the figures down by model, repo, tag, session or reviewer.")
    ] = None,
    model: ModelOption = None,
    benchmark: BenchmarkOption = None,
    session: Annotated[
        str | None,
        typer.Option(
            "--session",
            help="Only verdicts given in this audit session (name or id); model names stay pseudonyms until "
            "the session is unblinded.",
        ),
    ] = None,
    gold_threshold: Annotated[
        float,
        typer.Option("--gold-threshold", help="Flag a reviewer whose accuracy on gold items is below this."),
    ] = 0.8,
    where: Annotated[
        str | None,
        typer.Option(
            "--where",
            help='Also the corrected pass rates without the items a rubric answer drops, e.g. "underspecified>=2".',
        ),
    ] = None,
    against: Annotated[
        str | None, typer.Option("--against", help="Agreement of the reviewers' task answers with a published rater.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    from grader.cli.gold_commands import reviewer_accuracy_json, reviewers_text
    from grader.core.stats.report import GROUPINGS, compute_report

    if by is not None and by not in GROUPINGS:
        fail(f"unknown --by {by!r}: use one of {', '.join(GROUPINGS)}")
    records, names, session_summary, scope = _load(db, model, benchmark, session)
    report = compute_report(records, model_names=names, by=by, session=scope)
    report["filters"] = {"model": model or None, "benchmark": benchmark, "session": session}
    if session_summary is not None:
        report["session"] = session_summary
    report["reviewers"] = reviewer_accuracy_json(db, session, session_summary, gold_threshold)
    report["verifier_consistency"] = _verifier_consistency(db, benchmark)
    add_rubric_figures(report, db, records, model, benchmark, session_summary, where, against)
    if as_json:
        typer.echo(json.dumps(report, allow_nan=False))
        return
    if not records:
        typer.echo("No patches match. Import something: grader import swebench PATH")
        return
    if session_summary is not None:
        hidden = (
            "model names are pseudonyms until `grader session unblind`"
            if session_summary["models_hidden"]
            else ("model names shown")
        )
        typer.echo(
            f"Session {session_summary['name']!r}: {session_summary['disagreements']} disagreements, "
            f"{session_summary['adjudicated']} adjudicated; {hidden}\n"
        )
    typer.echo(render_report(report))
    typer.echo(reviewers_text(report["reviewers"], gold_threshold))
    if rubric := rubric_text(report):
        typer.echo(rubric)
    consistency = report["verifier_consistency"]
    if consistency["comparable_groups"]:
        typer.echo(
            f"\nVerifier self-consistency: {consistency['inconsistent_groups']} of {consistency['comparable_groups']} "
            f"groups of identical patches got different verdicts ({consistency['inconsistent_rate']:.2%}); "
            "details: grader verifier-check"
        )


def _verifier_consistency(db: str | None, benchmark: str | None) -> dict[str, Any]:
    """Counts only (no model names, so blind sessions stay blind): identical patches with different verdicts."""
    from grader.core.patches.hash_backfill import backfill_norm_hashes
    from grader.core.stats.verifier_check import consistency_report, load_groups

    engine = open_engine(db, create=False)
    backfill_norm_hashes(engine)
    report = consistency_report(load_groups(engine, [benchmark] if benchmark else []))
    return {key: value for key, value in report.items() if key not in ("groups", "by_harness", "by_benchmark")}


@app.command("plan")
def plan_command(
    half_width: Annotated[
        float, typer.Option("--half-width", help="Target half-width of each model's 95% interval (0.05 = ±5 points).")
    ] = 0.05,
    model: ModelOption = None,
    benchmark: BenchmarkOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """How many more audited items per stratum (model x verifier verdict, Neyman allocation) would bring each
    model's corrected pass-rate interval to the half-width. Planning shares are (passes + 1) / (audited + 2)."""
    from grader.core.stats.columns import StatColumns, tallies_by_model
    from grader.core.stats.estimates import plan_audit

    if not 0 < half_width < 1:
        fail("--half-width must be between 0 and 1, e.g. 0.05")
    records, names, _, _ = _load(db, model, benchmark, None)
    tallies = tallies_by_model(StatColumns.from_records(records), names)
    plans = {name: plan_audit(tally.stratum_list(), half_width) for name, tally in tallies.items()}
    if as_json:
        out = {
            "half_width": half_width,
            "by_model": {
                name: {
                    "current_half_width": plan.current_half_width,
                    "planned_half_width": plan.planned_half_width,
                    "additional": plan.additional,
                    "strata": [
                        {
                            "verifier": p.stratum.verifier,
                            "N": p.stratum.population,
                            "audited": p.stratum.audited,
                            "target": p.target_audited,
                            "additional": p.additional,
                        }
                        for p in plan.strata
                    ],
                }
                for name, plan in plans.items()
            },
        }
        typer.echo(json.dumps(out, allow_nan=False))
        return
    rows = []
    for name, plan in plans.items():
        current = f"±{plan.current_half_width * 100:.1f}" if plan.current_half_width is not None else "—"
        if not plan.strata:
            rows.append((name, "—", "—", current, "— (no patches with a verifier verdict)"))
            continue
        for p in plan.strata:
            rows.append(
                (
                    name,
                    f"verifier {p.stratum.verifier}",
                    f"{p.stratum.audited}/{p.stratum.population}",
                    current,
                    f"+{p.additional} (to {p.target_audited})",
                )
            )
            name, current = "", ""
    typer.echo(f"Audit plan for a 95% half-width of ±{half_width * 100:.1f} points per model (Neyman allocation)")
    typer.echo(table(("model", "stratum", "audited/N", "now", "audit more"), rows))
    total = sum(plan.additional for plan in plans.values())
    typer.echo(f"\n{total} more audited items in all.")

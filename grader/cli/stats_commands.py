"""`grader stats` and `grader plan`: the statistics of the graded set, as tables or one JSON object."""

from __future__ import annotations

import json
import textwrap
from typing import Annotated, Any

import typer

from grader.cli.app import DbOption, JsonOption, app, check_known_names, fail, open_engine
from grader.core.stats.agreement import Z_95

CONVENTIONS = (
    "Conventions: the verifier's verdict is pass or fail (harness errors count as fail; patches without one are "
    "left out and counted). An item's human label is its adjudicated verdict, else the strict majority of its "
    "reviewers' current pass/fail verdicts (unsure is not a vote; a tie leaves it unlabelled); n counts labelled "
    "items and cost sums over them. Tables: rows = verifier, columns = human. Intervals are 95% (Wilson for "
    "rates). Corrected pass rates cover every patch matching the filters, stratified by model x verifier "
    "verdict; items graded outside an audit session are treated as a simple random sample of their stratum. "
    "With --session, they use the session's own recorded design (its strata and N_h, its sampled items "
    "labelled from its verdicts); a group cutting across its strata is estimated as a domain. "
    "See docs/statistics.md."
)
BAR_WIDTH = 30

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


# --- rendering ----------------------------------------------------------------------------------------------


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def rate_text(rate: dict[str, Any]) -> str:
    if rate["value"] is None:
        return f"— ({rate['reason']})"
    interval = f"[{rate['ci_low'] * 100:.1f}, {rate['ci_high'] * 100:.1f}]"
    return f"{percent(rate['value'])} {interval}  ({rate['count']}/{rate['n']})"


def coefficient_text(coefficient: dict[str, Any]) -> str:
    if coefficient["value"] is None:
        return f"— ({coefficient['reason']})"
    return (
        f"{coefficient['value']:.3f}  SE {coefficient['se']:.3f}  "
        f"[{coefficient['ci_low']:.3f}, {coefficient['ci_high']:.3f}]"
    )


def short_coefficient(coefficient: dict[str, Any]) -> str:
    return "—" if coefficient["value"] is None else f"{coefficient['value']:.2f}"


def p_value_text(value: float | None, reason: str | None) -> str:
    if value is None:
        return f"— ({reason})"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def number_text(value: float | None, reason: str | None, digits: int = 3) -> str:
    return f"— ({reason})" if value is None else f"{value:.{digits}f}"


def population_text(population: dict[str, Any]) -> str:
    if population["estimate"] is None:
        return f"— ({population['reason']})"
    if population.get("method") == "domain":
        text = f"{percent(population['estimate'])} of ≈{population['N_domain']:.0f} (domain of N = {population['N']})"
    else:
        text = f"{percent(population['estimate'])} of N = {population['N']}"
    if population["se"] is None:
        return f"{text}  ({population['reason']})"
    return f"{text}  [{clip(population['ci_low']) * 100:.1f}, {clip(population['ci_high']) * 100:.1f}]"


def n_text(summary: dict[str, Any]) -> str:
    return f"{summary['n']}{' (small n)' if summary['small_sample'] else ''}"


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        lines.append("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def render_summary(title: str, summary: dict[str, Any]) -> str:
    t = summary["table"]
    human = summary["human_agreement"]
    lines = [
        f"{title}: n = {n_text(summary)} labelled of {summary['n_items']} items "
        f"({summary['n_unlabelled']} unlabelled, {summary['n_unknown_verifier']} without a verifier verdict)",
        "",
        table(
            ("verifier \\ human", "pass", "fail"),
            [
                ("pass", str(t["auto_pass_human_pass"]), str(t["auto_pass_human_fail"])),
                ("fail", str(t["auto_fail_human_pass"]), str(t["auto_fail_human_fail"])),
            ],
        ),
        "",
    ]
    figures = [
        ("verifier pass rate", rate_text(summary["auto_pass_rate"])),
        ("human pass rate", rate_text(summary["human_pass_rate"])),
        ("false accepts (share of n)", rate_text(summary["false_accept_rate"])),
        ("false accepts | verifier pass", rate_text(summary["false_accept_given_auto_pass"])),
        ("false rejects (share of n)", rate_text(summary["false_reject_rate"])),
        ("false rejects | verifier fail", rate_text(summary["false_reject_given_auto_fail"])),
        ("percent agreement", rate_text(summary["percent_agreement"])),
        ("Cohen's kappa", coefficient_text(summary["cohen_kappa"])),
        ("Gwet's AC1", coefficient_text(summary["gwet_ac1"])),
        ("McNemar exact p", p_value_text(summary["mcnemar_p"], summary.get("mcnemar_p_reason"))),
        (
            "humans: Krippendorff's alpha",
            number_text(human["krippendorff_alpha"], human.get("krippendorff_alpha_reason")),
        ),
        ("humans: Fleiss' kappa", number_text(human["fleiss_kappa"], human.get("fleiss_kappa_reason"))),
        ("humans: percent agreement", percent_or_reason(human["percent_agreement"], human)),
        ("total cost (labelled)", money(summary["total_cost"], summary.get("total_cost_reason"))),
        (
            "cost per human-approved patch",
            money(summary["cost_per_human_pass"], summary.get("cost_per_human_pass_reason")),
        ),
        ("corrected pass rate (population)", population_text(summary["population"])),
    ]
    width = max(len(label) for label, _ in figures)
    lines.extend(f"  {label.ljust(width)}  {value}" for label, value in figures)
    lines.append(f"  ({human['n_raters']} raters; {human['n_items_multi_rated']} items with two or more ratings)")
    return "\n".join(lines)


def percent_or_reason(value: float | None, holder: dict[str, Any]) -> str:
    return f"— ({holder.get('percent_agreement_reason')})" if value is None else percent(value)


def money(value: float | None, reason: str | None) -> str:
    return f"— ({reason})" if value is None else f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def group_table(groups: dict[str, dict[str, Any]], label: str) -> str:
    rows = []
    for key, s in groups.items():
        rows.append(
            (
                key,
                n_text(s),
                percent(s["auto_pass_rate"]["value"]),
                percent(s["human_pass_rate"]["value"]),
                percent(s["false_accept_given_auto_pass"]["value"]),
                percent(s["false_reject_given_auto_fail"]["value"]),
                short_coefficient(s["cohen_kappa"]),
                short_coefficient(s["gwet_ac1"]),
                population_text(s["population"]) if s["population"]["N"] is not None else "—",
            )
        )
    header = (label, "n", "verifier pass", "human pass", "FA|v.pass", "FR|v.fail", "kappa", "AC1", "corrected")
    return table(header, rows)


def bar(value: float, char: str) -> str:
    filled = round(clip(value) * BAR_WIDTH)
    return char * filled + "·" * (BAR_WIDTH - filled)


def render_leaderboard(rows: list[dict[str, Any]]) -> str:
    lines = ["Leaderboard: verifier pass rate (█) vs corrected human pass rate (▓), ranked by the corrected rate", ""]
    width = max((len(r["model"]) for r in rows), default=5)
    for row in rows:
        verifier = row["verifier_pass_rate"]
        corrected = row["corrected_pass_rate"]
        rank_v = row["rank_verifier"] or "—"
        rank_c = row["rank_corrected"] or "—"
        v_text = percent(verifier["value"])
        lines.append(
            f"{row['model'].ljust(width)}  {bar(verifier['value'] or 0.0, '█')}  {v_text:>6}  verifier (#{rank_v})"
        )
        if corrected["estimate"] is None:
            c_text = f"— ({corrected['reason']})"
            c_bar = " " * BAR_WIDTH
        else:
            c_bar = bar(corrected["estimate"], "▓")
            c_text = percent(corrected["estimate"])
            if corrected["se"] is not None:
                c_text += f" ±{Z_95 * corrected['se'] * 100:.1f}"
        lines.append(f"{''.ljust(width)}  {c_bar}  {c_text}  corrected (#{rank_c})")
        versus = row.get("vs_next")
        if versus:
            if versus["distinguishable"] is None:
                verdict = f"vs {versus['model']}: — ({versus['reason']})"
            else:
                word = "distinguishable" if versus["distinguishable"] else "not distinguishable"
                verdict = f"vs {versus['model']}: {versus['difference'] * 100:+.1f} points, {word}"
            lines.append(f"{''.ljust(width)}  {verdict}")
    return "\n".join(lines)


def render_report(report: dict[str, Any]) -> str:
    parts = [render_summary("Overall", report["overall"]), "", "Per model", group_table(report["by_model"], "model")]
    if "by" in report:
        parts += ["", f"By {report['by']['dimension']}", group_table(report["by"]["groups"], report["by"]["dimension"])]
    parts += ["", render_leaderboard(report["leaderboard"]), "", wrap(CONVENTIONS)]
    return "\n".join(parts)


def wrap(text: str, width: int = 100) -> str:
    return textwrap.fill(text, width)

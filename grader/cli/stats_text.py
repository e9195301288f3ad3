"""The statistics report as terminal text: tables, rates with their intervals, the leaderboard with bars."""

from __future__ import annotations

import textwrap
from typing import Any

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

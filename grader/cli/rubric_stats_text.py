"""The rubric figures of `grader stats` (--where, --against, per-question shares and agreement): computed
through grader.core.stats.rubric_scope and rendered as terminal text."""

from __future__ import annotations

from typing import Any

from grader.cli.app import fail, open_engine
from grader.cli.stats_text import percent, table


def add_rubric_figures(
    report: dict[str, Any],
    db: str | None,
    records: Any,
    models: list[str] | None,
    benchmark: str | None,
    session: dict[str, Any] | None,
    where: str | None,
    against: str | None,
) -> None:
    """Add "rubric" (and "where", "against" when asked) to the statistics report, in place."""
    from grader.core.importers.rubrics import RubricError
    from grader.core.stats.rubric_filter import FilterError
    from grader.core.stats.rubric_scope import rubric_figures

    engine = open_engine(db, create=False)
    shown = None
    if session is not None and session.get("models_hidden"):
        from grader.core.audit.sessions import get_session, model_display_names

        shown = model_display_names(engine, get_session(engine, session["id"]))
    try:
        report.update(
            rubric_figures(
                engine,
                records=records,
                models=models or (),
                benchmark=benchmark,
                session_id=session["id"] if session is not None else None,
                shown_names=shown,
                where=where,
                against=against,
            )
        )
    except (FilterError, RubricError) as exc:
        fail(str(exc))


def _share(rate: dict[str, Any]) -> str:
    if rate.get("value") is None:
        return "—"
    interval = f"[{rate['ci_low'] * 100:.0f}, {rate['ci_high'] * 100:.0f}]"
    return f"{percent(rate['value'])} {interval} ({rate['count']}/{rate['n']})"


def _estimate(estimate: dict[str, Any]) -> str:
    if estimate.get("estimate") is None:
        return f"— ({estimate.get('reason', 'undefined')})"
    if estimate.get("ci_low") is None:
        return f"{percent(estimate['estimate'])} ({estimate.get('reason', 'CI n/a')})"
    return f"{percent(estimate['estimate'])} [{estimate['ci_low'] * 100:.1f}, {estimate['ci_high'] * 100:.1f}]"


def _value(figure: dict[str, Any], digits: int = 3) -> str:
    value = figure.get("value")
    return f"— ({figure.get('reason', 'undefined')})" if value is None else f"{value:.{digits}f}"


def rubric_text(report: dict[str, Any]) -> str:
    """The rubric sections as text (empty when there is nothing to say)."""
    parts: list[str] = []
    for name, rubric in report.get("rubric", {}).items():
        parts.append(f"\nRubric {name}: {rubric['title']}")
        for question in rubric["questions"]:
            if question["kind"] == "text":
                parts.append(f"  {question['id']} (free text): answered on {question['answered_items']} items")
                continue
            agreement = question["agreement"]
            alpha = agreement["krippendorff_alpha"]
            parts.append(
                f"  {question['id']} ({question['kind']}, {question['level']}): {question['answered_items']} items"
                f" answered; alpha ({alpha.get('metric', '')}) {_value(alpha)}"
            )
            rows = [(f"{o['value']} {o['label']}"[:40], _share(o["overall"])) for o in question["options"]]
            parts.append(table(("answer", "share of answered items [95% CI]"), rows))
    where = report.get("where")
    if where is not None:
        parts.append(
            f"\nWithout the {where['drops']} ({where['method']} estimate; audited items dropped "
            f"{where['audited']['dropped']}, kept {where['audited']['kept']}, unknown {where['audited']['unknown']})"
        )
        rows = [("overall", _estimate(where["overall"]))]
        rows += [(model, _estimate(est)) for model, est in where["by_model"].items()]
        parts.append(table(("model", "corrected pass rate of what is kept"), rows))
    against = report.get("against")
    if against is not None:
        parts.append(f"\nAgreement with {against['rater']} on the tasks both rated")
        if against.get("reason"):
            parts.append(f"  — ({against['reason']})")
        for question_id, figures in against.get("questions", {}).items():
            kappa = figures["weighted_kappa"]
            parts.append(
                f"  {question_id}: {figures['tasks_both_rated']} tasks; kappa ({kappa['weights']}) {_value(kappa)}; "
                f"alpha {_value(figures['krippendorff_alpha'])}"
            )
            labels = figures["confusion"]["labels"]
            rows = [
                (f"ours {label}", *(str(c) for c in row))
                for label, row in zip(labels, figures["confusion"]["table"], strict=True)
            ]
            parts.append(table(("reviewers \\ published", *labels), rows))
    return "\n".join(parts)

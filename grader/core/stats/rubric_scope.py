"""The rubric figures `grader stats` and `grader report` add to the statistics: loaded for one scope (filters or
a session) and computed by rubric_stats and rubric_filter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

from grader.core.importers.rubrics import load_rubric
from grader.core.stats.data import ItemRecord
from grader.core.stats.rubric_data import (
    external_raters,
    instance_ids,
    load_audited_items,
    load_external_labels,
    load_rubric_answers,
    session_unit_patches,
)
from grader.core.stats.rubric_filter import FilterError, parse_filter, session_where_report, where_report
from grader.core.stats.rubric_stats import against_rater, rubric_report
from grader.core.stats.session import load_session_design


def rubric_figures(
    engine: Engine,
    *,
    records: Sequence[ItemRecord] = (),
    models: Sequence[str] = (),
    benchmark: str | None = None,
    session_id: int | None = None,
    shown_names: Mapping[str, str] | None = None,
    where: str | None = None,
    against: str | None = None,
) -> dict[str, Any]:
    """{"rubric": ..., and with `where` a "where" block, with `against` an "against" block}.

    `shown_names` maps model names to the names shown (pseudonyms while a session is blind); `records` are the
    statistics' records (every patch in scope, with its verdicts), needed by `where` outside a session.
    A FilterError or RubricError says what is wrong with `where` or `against`.
    """
    answers = load_rubric_answers(engine, models=models, benchmark=benchmark, session_id=session_id)
    items = load_audited_items(engine, models=models, benchmark=benchmark, session_id=session_id)
    design = None
    unit_patches: list[int] = []
    if session_id is not None:
        design = load_session_design(engine, session_id)
        unit_patches = session_unit_patches(engine, session_id)
        if len(unit_patches) != len(design.units):
            design = None  # the design's units are not the items listed here: no design-weighted shares
        elif shown_names:
            design = design.renamed(shown_names)
    out: dict[str, Any] = {
        "rubric": rubric_report(answers, items, design=design, unit_patches=unit_patches, model_names=shown_names)
    }
    raters = set(external_raters(engine))
    labels: dict[str, dict[str, dict[str, str]]] = {}
    rater_rubrics = {}
    for rater in raters:
        rubric_name, rater_labels = load_external_labels(engine, rater)
        if rubric_name is not None:
            labels[rater] = rater_labels
            rater_rubrics[rater] = answers[rubric_name].rubric if rubric_name in answers else load_rubric(rubric_name)
    if against is not None:
        if against not in raters:
            known = ", ".join(sorted(raters)) or "none imported"
            raise FilterError(f"no labels of {against!r} in the store ({known}); import them: grader import labels")
        out["against"] = against_rater(against, answers.get(rater_rubrics[against].name), labels[against], items)
    if where is not None:
        rule = parse_filter(where, {name: a.rubric for name, a in answers.items()}, rater_rubrics)
        instance_of = (
            instance_ids(engine, models=models, benchmark=benchmark)
            if any(clause.rater is not None for clause in rule.clauses)
            else {item.patch_id: item.instance_id for item in items}
        )
        if session_id is not None and design is not None:
            out["where"] = session_where_report(rule, design, unit_patches, instance_of, items, answers, labels)
        else:
            out["where"] = where_report(rule, records, instance_of, items, answers, labels)
    return out

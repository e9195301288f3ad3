"""Statistics per rubric question: answer shares per model and overall, agreement between reviewers, and
agreement with a published external rater.

Shares count audited items (patches with a current verdict in scope) carrying an answer; each share has its
Wilson 95% interval. In a session, each share also gets a design-weighted `population` estimate by the same
stratified method as the session's corrected pass rate (grader.core.stats.session.design_estimate, with the
item's label "has this answer"). Agreement: Krippendorff's alpha (ordinal metric for ordinal scales, nominal
otherwise) over items (patch-level) or tasks (task-level) with two or more answers, and Cohen's kappa per pair
of reviewers (quadratic-weighted for ordinal scales). See docs/rubrics.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from grader.core.importers.rubrics import Question
from grader.core.stats.agreement import rate
from grader.core.stats.rubric_agreement import cohen_kappa_table, krippendorff_alpha, pairwise_kappas
from grader.core.stats.rubric_data import AuditedItem, RubricAnswers, ensemble
from grader.core.stats.session import SessionDesign, SessionUnit, design_estimate, population_json


def _matches(question: Question, answer: str, option: str) -> bool:
    if question.kind == "multi":
        return option in json.loads(answer)
    return answer == option


def question_shares(
    question: Question,
    answers: RubricAnswers,
    items: Sequence[AuditedItem],
    *,
    design: SessionDesign | None = None,
    unit_patches: Sequence[int] = (),
    model_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Per option: the share of answered items with it, overall and per model (Wilson), and in a session the
    design-weighted population estimate. `unit_patches` gives the patch id of each of `design.units`."""
    shown = model_names or {}
    item_answers = {item.patch_id: answers.item_answer(question, item) for item in items}
    answered = [item for item in items if item_answers[item.patch_id] is not None]
    models = sorted({shown.get(item.model, item.model) for item in items})
    out: dict[str, Any] = {
        "id": question.id,
        "prompt": question.prompt,
        "kind": question.kind,
        "level": question.level,
        "ensemble": question.ensemble,
        "answered_items": len(answered),
        "options": [],
    }
    if question.level == "task":
        out["answered_tasks"] = len({item.instance_id for item in answered})
    for option in question.options:
        row: dict[str, Any] = {"value": option.value, "label": option.label}
        hits = [item for item in answered if _matches(question, item_answers[item.patch_id] or "", option.value)]
        row["overall"] = rate(len(hits), len(answered), "no answered items").as_json()
        row["by_model"] = {}
        for model in models:
            mine = [item for item in answered if shown.get(item.model, item.model) == model]
            count = sum(1 for item in hits if shown.get(item.model, item.model) == model)
            row["by_model"][model] = rate(count, len(mine), "no answered items").as_json()
        if design is not None:
            row["population"] = _design_shares(question, answers, design, unit_patches, items, option.value, models)
        out["options"].append(row)
    return out


def _design_shares(
    question: Question,
    answers: RubricAnswers,
    design: SessionDesign,
    unit_patches: Sequence[int],
    items: Sequence[AuditedItem],
    option: str,
    models: Sequence[str],
) -> dict[str, Any]:
    """The share of the session's frame with this answer, by the session's stratified design: each sampled unit
    labelled 1 (has it), 0 (answered otherwise) or unlabelled (no answer)."""
    by_patch = {item.patch_id: item for item in items}
    units: list[SessionUnit] = []
    for unit, patch_id in zip(design.units, unit_patches, strict=True):
        item = by_patch.get(patch_id)
        answer = answers.item_answer(question, item) if item is not None else None
        label = None if answer is None else int(_matches(question, answer, option))
        units.append(replace(unit, label=label))
    labelled = replace(design, units=tuple(units))
    out = {"overall": population_json(labelled, design_estimate(labelled, domain="the session"))}
    out["by_model"] = {
        model: population_json(labelled, design_estimate(labelled, models={model}, domain=f"model {model}"))
        for model in models
    }
    return out


def question_agreement(question: Question, answers: RubricAnswers, items: Sequence[AuditedItem]) -> dict[str, Any]:
    """Between reviewers: alpha over units with two or more answers, kappa per pair of reviewers."""
    if question.kind in ("text", "multi"):
        reason = "free text" if question.kind == "text" else "multi-select: see each option's share"
        return {"krippendorff_alpha": {"value": None, "reason": f"not computed for {reason}"}, "pairs": []}
    units: dict[Any, dict[str, str]] = {}
    for item in items:
        key = item.instance_id if question.level == "task" else item.patch_id
        if key not in units:
            units[key] = dict(answers.reviewer_answers(question, item))
    values = [o.value for o in question.options]
    if question.ordinal:
        alpha = krippendorff_alpha(
            [[question.rank(v) for v in unit.values()] for unit in units.values()],
            metric="ordinal",
            domain=range(len(values)),
        )
    else:
        alpha = krippendorff_alpha([list(unit.values()) for unit in units.values()], metric="nominal", domain=values)
    weights = "quadratic" if question.ordinal else "none"
    return {
        "unit": "task" if question.level == "task" else "item",
        "krippendorff_alpha": alpha.as_json(),
        "kappa_weights": weights,
        "pairs": pairwise_kappas(units, values, weights=weights),
    }


def rubric_report(
    answers: Mapping[str, RubricAnswers],
    items: Sequence[AuditedItem],
    *,
    design: SessionDesign | None = None,
    unit_patches: Sequence[int] = (),
    model_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`stats --json`'s "rubric" object: per rubric, per question, the shares and the agreement."""
    out: dict[str, Any] = {}
    for name, rubric_answers in sorted(answers.items()):
        rubric = rubric_answers.rubric
        questions = []
        for question in rubric.questions:
            if question.kind == "text":
                texts = sum(1 for item in items if rubric_answers.reviewer_answers(question, item))
                questions.append({"id": question.id, "kind": "text", "level": question.level, "answered_items": texts})
                continue
            entry = question_shares(
                question, rubric_answers, items, design=design, unit_patches=unit_patches, model_names=model_names
            )
            entry["agreement"] = question_agreement(question, rubric_answers, items)
            questions.append(entry)
        out[name] = {"title": rubric.title, "source": rubric.source, "digest": rubric.digest, "questions": questions}
    return out


def against_rater(
    rater: str,
    rubric_answers: RubricAnswers | None,
    labels: Mapping[str, Mapping[str, str]],
    items: Sequence[AuditedItem],
) -> dict[str, Any]:
    """The reviewers' task-level answers (one per task, by the question's ensemble rule) against a published
    rater's labels, on the tasks both rated: weighted kappa, alpha and the confusion table per question."""
    out: dict[str, Any] = {"rater": rater, "questions": {}}
    if rubric_answers is None:
        out["reason"] = "no reviewer answered this rater's rubric in scope"
        return out
    rubric = rubric_answers.rubric
    out["rubric"] = rubric.name
    tasks = sorted({item.instance_id for item in items})
    for question in rubric.questions:
        published = labels.get(question.id)
        if question.kind in ("text", "multi") or question.level != "task" or not published:
            continue
        by_task = rubric_answers.by_task.get(question.id, {})
        pairs = []
        for task in tasks:
            ours = ensemble(question, list(by_task.get(task, {}).values()))
            theirs = published.get(task)
            if ours is not None and theirs is not None:
                pairs.append((ours, theirs))
        values = [o.value for o in question.options]
        weights = "quadratic" if question.ordinal else "none"
        kappa = cohen_kappa_table(pairs, values, weights=weights)
        if question.ordinal:
            alpha = krippendorff_alpha(
                [[question.rank(a), question.rank(b)] for a, b in pairs], metric="ordinal", domain=range(len(values))
            )
        else:
            alpha = krippendorff_alpha([[a, b] for a, b in pairs], metric="nominal", domain=values)
        out["questions"][question.id] = {
            "tasks_both_rated": len(pairs),
            "weighted_kappa": kappa.as_json(),
            "krippendorff_alpha": alpha.as_json(),
            "confusion": {"rows": "reviewers", "columns": rater, "labels": values, "table": kappa.as_json()["table"]},
        }
    return out

"""`--where`: the corrected pass rate recomputed without the items a rubric answer removes.

`--where "underspecified>=2"` drops the items whose task the reviewers rated underspecified 2 or more (as the
SWE-bench Verified filter dropped tasks), and estimates the pass rate of what remains. Clauses join with `or`
(drop if any holds) or `and` (drop if all hold); `RATER:question` reads a published rater's label instead of
the reviewers' answers (`openai-verified:underspecified>=2`). Ordinal scales compare by their order; other
questions take `==` and `!=` (for multi-select: the item's answer contains the option).

When every patch's fate is known (clauses on published labels that cover every task), the population itself
is restricted and the usual stratified estimator runs on what is left. Otherwise whether an unaudited patch
would be dropped is unknown, so what remains is a domain of the design: `domain_pass_rate` (a ratio estimator
over the same strata); audited items without an answer to a clause are treated as missing at random.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grader.core.importers.rubrics import Question, Rubric
from grader.core.stats.data import ItemRecord
from grader.core.stats.estimates import DomainStratum, Stratum, corrected_pass_rate, domain_pass_rate
from grader.core.stats.rubric_data import AuditedItem, RubricAnswers
from grader.core.stats.session import SessionDesign
from grader.core.stats.tally import BINARY_VERIFIER, item_facts

CLAUSE = re.compile(r"^\s*(?:([a-z0-9][a-z0-9_-]*):)?([a-z][a-z0-9_]*)\s*(>=|<=|==|!=|=|>|<)\s*([^\s]+)\s*$")
COMPARE: dict[str, Callable[[int, int], bool]] = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


class FilterError(ValueError):
    """A `--where` expression that cannot be read; says which clause and why."""


@dataclass(frozen=True, slots=True)
class Clause:
    rater: str | None
    question: Question
    operator: str
    value: str

    def holds(self, answer: str | None) -> bool | None:
        if answer is None:
            return None
        if self.question.kind == "multi":
            inside = self.value in json.loads(answer)
            return inside if self.operator == "==" else not inside
        if self.question.ordinal:
            return COMPARE[self.operator](self.question.rank(answer), self.question.rank(self.value))
        return (answer == self.value) if self.operator == "==" else (answer != self.value)


@dataclass(frozen=True, slots=True)
class Filter:
    expression: str
    clauses: tuple[Clause, ...]
    joiner: str  # "or" or "and"

    @property
    def published_only(self) -> bool:
        return all(clause.rater is not None for clause in self.clauses)

    def drops(self, statuses: Sequence[bool | None]) -> bool | None:
        """True: the item is dropped; False: kept; None: unknown (an answer is missing)."""
        if self.joiner == "or":
            return True if any(s is True for s in statuses) else (False if all(s is False for s in statuses) else None)
        return False if any(s is False for s in statuses) else (True if all(s is True for s in statuses) else None)


def parse_filter(expression: str, rubrics: Mapping[str, Rubric], rater_rubrics: Mapping[str, Rubric]) -> Filter:
    """The expression's clauses resolved against the rubrics answered in scope and the raters' rubrics."""
    words = re.split(r"\s+(or|and)\s+", expression.strip())
    joiners = set(words[1::2])
    if len(joiners) > 1:
        raise FilterError("use either `or` or `and` between clauses, not both")
    clauses = []
    for text in words[0::2]:
        found = CLAUSE.match(text)
        if found is None:
            raise FilterError(f"{text!r}: expected QUESTION OP VALUE, e.g. underspecified>=2")
        rater, question_id, operator, value = found.groups()
        operator = "==" if operator == "=" else operator
        if rater is not None:
            if rater not in rater_rubrics:
                raise FilterError(f"{text!r}: no labels of {rater!r} in the store (grader import labels)")
            candidates = [rater_rubrics[rater]]
        else:
            candidates = list(rubrics.values())
        matching = [r.question(question_id) for r in candidates if any(q.id == question_id for q in r.questions)]
        if not matching:
            raise FilterError(f"{text!r}: no question {question_id!r} in the rubrics answered here")
        if len(matching) > 1:
            raise FilterError(f"{text!r}: {question_id!r} is a question of several rubrics")
        question = matching[0]
        if question.kind == "text":
            raise FilterError(f"{text!r}: {question_id} is free text")
        if value not in [o.value for o in question.options]:
            allowed = ", ".join(o.value for o in question.options)
            raise FilterError(f"{text!r}: {value!r} is not an option of {question_id} ({allowed})")
        if not question.ordinal and operator not in ("==", "!="):
            raise FilterError(f"{text!r}: {question_id} is not ordinal: use == or !=")
        clauses.append(Clause(rater, question, operator, value))
    return Filter(expression.strip(), tuple(clauses), joiners.pop() if joiners else "or")


def item_status(
    rule: Filter,
    item: AuditedItem | None,
    instance_id: str,
    answers: Mapping[str, RubricAnswers],
    labels: Mapping[str, Mapping[str, Mapping[str, str]]],
) -> bool | None:
    statuses: list[bool | None] = []
    for clause in rule.clauses:
        if clause.rater is not None:
            statuses.append(clause.holds(labels.get(clause.rater, {}).get(clause.question.id, {}).get(instance_id)))
            continue
        rubric_answers = next((a for a in answers.values() if clause.question in a.rubric.questions), None)
        answer = rubric_answers.item_answer(clause.question, item) if rubric_answers and item else None
        statuses.append(clause.holds(answer))
    return rule.drops(statuses)


def where_report(
    rule: Filter,
    records: Sequence[ItemRecord],
    instance_of: Mapping[int, str],
    items: Sequence[AuditedItem],
    answers: Mapping[str, RubricAnswers],
    labels: Mapping[str, Mapping[str, Mapping[str, str]]],
    *,
    model_names: Sequence[str] = (),
) -> dict[str, Any]:
    """Corrected pass rates overall and per model of what the filter keeps (model x verifier strata)."""
    by_patch = {item.patch_id: item for item in items}
    cells: dict[tuple[str, str], list[int]] = {}  # N_h, N_h kept, n_h known, pass known, a_h kept, b_h kept
    counts = {"dropped": 0, "kept": 0, "unknown": 0}
    every_known = True
    for record in records:
        verifier = record.verifier_verdict
        if verifier not in BINARY_VERIFIER:
            continue
        key = (record.model, "pass" if BINARY_VERIFIER[verifier] else "fail")
        cell = cells.setdefault(key, [0, 0, 0, 0, 0, 0])
        status = item_status(rule, by_patch.get(record.patch_id), instance_of.get(record.patch_id, ""), answers, labels)
        every_known = every_known and status is not None
        label = item_facts(verifier, record.verdicts).label
        cell[0] += 1
        cell[1] += status is False
        if label is None:
            continue
        counts["unknown" if status is None else "dropped" if status else "kept"] += 1
        if status is None:
            continue
        cell[2] += 1
        cell[3] += label
        if status is False:
            cell[4] += 1
            cell[5] += label

    def estimate(models: set[str] | None, domain: str) -> dict[str, Any]:
        chosen = {k: c for k, c in cells.items() if models is None or k[0] in models}
        if every_known:
            strata = [Stratum(m, v, c[1], c[4], c[5]) for (m, v), c in sorted(chosen.items())]
            return corrected_pass_rate(strata).as_json()
        crossing = [DomainStratum(Stratum(m, v, c[0], c[2], c[3]), c[4], c[5]) for (m, v), c in sorted(chosen.items())]
        return domain_pass_rate(crossing, domain).as_json()

    names = sorted({m for m, _ in cells} | set(model_names))
    return {
        "expression": rule.expression,
        "drops": f"items where {rule.expression}",
        "method": "restricted population" if every_known else "domain",
        "audited": counts,
        "overall": estimate(None, "the kept items"),
        "by_model": {name: estimate({name}, f"{name}'s kept items") for name in names},
    }


def session_where_report(
    rule: Filter,
    design: SessionDesign,
    unit_patches: Sequence[int],
    instance_of: Mapping[int, str],
    items: Sequence[AuditedItem],
    answers: Mapping[str, RubricAnswers],
    labels: Mapping[str, Mapping[str, Mapping[str, str]]],
) -> dict[str, Any]:
    """The same within a session's recorded design: what the filter keeps is a domain of the session's strata."""
    by_patch = {item.patch_id: item for item in items}
    counts = {"dropped": 0, "kept": 0, "unknown": 0}
    per_key: dict[str, list[int]] = {key: [0, 0, 0, 0] for key in design.populations}
    statuses: list[tuple[Any, bool | None]] = []
    for unit, patch_id in zip(design.units, unit_patches, strict=True):
        status = item_status(rule, by_patch.get(patch_id), instance_of.get(patch_id, ""), answers, labels)
        statuses.append((unit, status))
        if unit.label is not None:
            counts["unknown" if status is None else "dropped" if status else "kept"] += 1

    def estimate(model: str | None, domain: str) -> dict[str, Any]:
        cells = {key: [0, 0, 0, 0] for key in per_key}  # n_h (known), pass_h, a_h, b_h
        for unit, status in statuses:
            if unit.label is None or status is None:
                continue
            cell = cells.setdefault(unit.stratum, [0, 0, 0, 0])
            cell[0] += 1
            cell[1] += unit.label
            if status is False and unit.verifier in BINARY_VERIFIER and (model is None or unit.model == model):
                cell[2] += 1
                cell[3] += unit.label
        crossing = []
        for key, (audited, passes, kept, kept_passes) in sorted(cells.items()):
            values = json.loads(key)
            if "verdict" in values and values["verdict"] not in BINARY_VERIFIER:
                continue
            if model is not None and "model" in values and values["model"] != model:
                continue
            pairs = tuple(sorted((str(d), str(v)) for d, v in values.items()))
            stratum = Stratum(
                str(values.get("model", "")),
                str(values.get("verdict", "")),
                design.populations.get(key, 0),
                audited,
                passes,
                pairs,
            )
            crossing.append(DomainStratum(stratum, kept, kept_passes))
        return domain_pass_rate(crossing, domain).as_json()

    models = sorted({unit.model for unit in design.units})
    return {
        "expression": rule.expression,
        "drops": f"items where {rule.expression}",
        "method": "domain",
        "design": {"session": design.name, "strata": list(design.dimensions)},
        "audited": counts,
        "overall": estimate(None, "the kept items"),
        "by_model": {model: estimate(model, f"{model}'s kept items") for model in models},
    }

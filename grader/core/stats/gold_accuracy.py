"""Each reviewer's accuracy on gold items, overall and as drift (first third against last third).

Accuracy compares a reviewer's current verdict on a gold patch (pass, fail or unsure; retractions and
adjudications left out) with the current gold answer: unsure is not correct and counts in n. Verdicts given
outside any session count too (a lead may mark a patch gold after it was graded); `session_id` restricts to the
verdicts given in one session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from grader.core.audit.gold import current_gold_query
from grader.core.stats.agreement import Rate, rate
from grader.core.store.models import ADJUDICATION_SOURCE, RETRACTED, Reviewer
from grader.core.store.verdicts import current_verdicts_query

DEFAULT_GOLD_THRESHOLD = 0.8


@dataclass(frozen=True, slots=True)
class GoldVerdict:
    """One reviewer's current verdict on a gold item, in time order."""

    reviewer: str
    verdict: str
    answer: str
    created_at: datetime

    @property
    def correct(self) -> bool:
        return self.verdict == self.answer


@dataclass(frozen=True, slots=True)
class ReviewerAccuracy:
    reviewer: str
    accuracy: Rate
    first_third: Rate
    last_third: Rate
    threshold: float
    flagged: bool
    reason: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "reviewer": self.reviewer,
            "accuracy": self.accuracy.as_json(),
            "drift": {"first_third": self.first_third.as_json(), "last_third": self.last_third.as_json()},
            "threshold": self.threshold,
            "flagged": self.flagged,
            "reason": self.reason,
        }


def accuracy_of(reviewer: str, verdicts: Sequence[GoldVerdict], threshold: float) -> ReviewerAccuracy:
    """Accuracy over all of the reviewer's gold verdicts (time order), and over the first and last third.

    A third is n // 3 verdicts (the middle ones, and the remainder, are in neither); with fewer than 3 gold
    verdicts there is no drift to show.
    """
    correct = [v.correct for v in verdicts]
    third = len(correct) // 3
    too_few = "fewer than 3 gold verdicts"
    first = rate(sum(correct[:third]), third, too_few)
    last = rate(sum(correct[len(correct) - third :]), third, too_few)
    overall = rate(sum(correct), len(correct), "no gold verdicts")
    flagged = overall.value is not None and overall.value < threshold
    reason = None
    if flagged:
        assert overall.value is not None and overall.ci_high is not None
        reason = f"accuracy {overall.value:.2f} on {overall.n} gold item(s) is below the threshold {threshold:.2f}" + (
            f" (95% interval up to {overall.ci_high:.2f}: could be chance)"
            if overall.ci_high >= threshold
            else f" (95% interval up to {overall.ci_high:.2f}: clearly below)"
        )
    return ReviewerAccuracy(reviewer, overall, first, last, threshold, flagged, reason)


def gold_verdicts(engine: Engine, *, session_id: int | None = None) -> dict[str, list[GoldVerdict]]:
    """reviewer -> their current verdicts on gold items, oldest first (given in the session, if one is named)."""
    current = current_verdicts_query().subquery()
    r = Reviewer.__table__
    gold = current_gold_query().subquery()
    query = (
        select(r.c.name, current.c.verdict, gold.c.answer, current.c.created_at)
        .select_from(current.join(r, r.c.id == current.c.reviewer_id).join(gold, gold.c.patch_id == current.c.patch_id))
        .where(current.c.verdict != RETRACTED, current.c.source != ADJUDICATION_SOURCE)
        .order_by(r.c.name, current.c.created_at, current.c.id)
    )
    if session_id is not None:
        query = query.where(current.c.session_id == session_id)
    out: dict[str, list[GoldVerdict]] = {}
    with engine.connect() as conn:
        for name, verdict, answer, created_at in conn.execute(query):
            out.setdefault(str(name), []).append(GoldVerdict(str(name), str(verdict), str(answer), created_at))
    return out


def reviewer_accuracies(
    engine: Engine, *, session_id: int | None = None, threshold: float = DEFAULT_GOLD_THRESHOLD
) -> list[ReviewerAccuracy]:
    """Each reviewer with at least one gold verdict, by name."""
    by_reviewer: Mapping[str, list[GoldVerdict]] = gold_verdicts(engine, session_id=session_id)
    return [accuracy_of(name, by_reviewer[name], threshold) for name in sorted(by_reviewer)]

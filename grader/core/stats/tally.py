"""Per-group tallies of a graded set: human labels, additive counts, and the JSON summary of a group.

Conventions (docs/statistics.md): the verifier's verdict is binary (error counts as fail, unknown is left out
and counted); an item's human label is its adjudicated verdict, else the strict majority of its reviewers'
current pass/fail verdicts (unsure is not a vote; a tie or no vote leaves it unlabelled); the 2x2 table has
the verifier in rows and the human in columns. Every summary is JSON-ready and never holds NaN or inf.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from grader.core.stats.agreement import (
    RATING_SUM_FIELDS,
    add_rating,
    cohen_kappa,
    gwet_ac1,
    human_agreement,
    mcnemar_exact_p,
    rate,
)
from grader.core.stats.data import HumanVerdict, ItemRecord
from grader.core.stats.estimates import Stratum, corrected_pass_rate
from grader.core.store.models import ADJUDICATION_SOURCE

# Verifier verdicts as statistics see them: harness errors fail, as the benchmark counts them.
BINARY_VERIFIER = {"pass": 1, "fail": 0, "error": 0}
SMALL_SAMPLE = 30
TABLE_KEYS = ("auto_pass_human_pass", "auto_pass_human_fail", "auto_fail_human_pass", "auto_fail_human_fail")


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What one item contributes to a tally: binary verifier verdict, human label (1 pass, 0 fail, None) and votes."""

    verifier: int | None
    label: int | None
    pass_votes: int
    fail_votes: int
    raters: tuple[str, ...]


def item_facts(verifier_verdict: str, verdicts: Iterable[HumanVerdict]) -> ItemFacts:
    """The item's facts from its current verdicts (oldest first): the latest pass/fail adjudication wins."""
    adjudicated: int | None = None
    pass_votes = fail_votes = 0
    raters: list[str] = []
    for v in verdicts:
        if v.source == ADJUDICATION_SOURCE:
            if v.verdict == "pass" or v.verdict == "fail":
                adjudicated = 1 if v.verdict == "pass" else 0
        elif v.verdict == "pass":
            pass_votes += 1
            raters.append(v.reviewer)
        elif v.verdict == "fail":
            fail_votes += 1
            raters.append(v.reviewer)
    if adjudicated is not None:
        label: int | None = adjudicated
    elif pass_votes > fail_votes:
        label = 1
    elif fail_votes > pass_votes:
        label = 0
    else:
        label = None
    return ItemFacts(BINARY_VERIFIER.get(verifier_verdict), label, pass_votes, fail_votes, tuple(raters))


class GroupTally:
    """Additive counts of a group of items; `add(..., sign=-1)` removes an item, so updates are O(1).

    `with_population` groups (the whole set, a model, a repo) hold every patch of the group and so also
    give the corrected pass rate; groups of graded items only (tag, session, reviewer) do not.
    """

    __slots__ = (
        "cost_missing",
        "cost_total",
        "input_tokens",
        "n_items",
        "n_unknown_verifier",
        "n_unlabelled",
        "output_tokens",
        "population_reason",
        "rater_items",
        "rating_sums",
        "strata",
        "table",
    )

    def __init__(self, population_reason: str | None = None) -> None:
        self.population_reason = population_reason  # None: this group has a population
        self.n_items = 0
        self.n_unknown_verifier = 0
        self.n_unlabelled = 0
        self.table = [0, 0, 0, 0]
        self.cost_total = 0.0
        self.cost_missing = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.strata: dict[tuple[str, int], list[int]] = {}  # (model, verifier) -> [N, audited, human passes]
        self.rater_items: dict[str, int] = {}  # reviewer -> items with their pass/fail vote
        self.rating_sums: dict[int, list[int]] = {}  # raters per item -> rating sums (see agreement.py)

    def add(self, record: ItemRecord, facts: ItemFacts, sign: int = 1) -> None:
        self.n_items += sign
        verifier, label = facts.verifier, facts.label
        if verifier is None:
            self.n_unknown_verifier += sign
        else:
            stratum = None
            if self.population_reason is None:
                key = (record.model, verifier)
                stratum = self.strata.get(key)
                if stratum is None:
                    stratum = self.strata[key] = [0, 0, 0]
                stratum[0] += sign
            if label is None:
                self.n_unlabelled += sign
            else:
                self.table[2 - 2 * verifier + 1 - label] += sign
                if stratum is not None:
                    stratum[1] += sign
                    stratum[2] += sign * label
                cost = record.cost_usd
                if cost is None:
                    self.cost_missing += sign
                else:
                    self.cost_total += sign * cost
                self.input_tokens += sign * (record.input_tokens or 0)
                self.output_tokens += sign * (record.output_tokens or 0)
        votes = facts.pass_votes + facts.fail_votes
        if votes:
            for reviewer in facts.raters:
                count = self.rater_items.get(reviewer, 0) + sign
                if count:
                    self.rater_items[reviewer] = count
                else:
                    del self.rater_items[reviewer]
            sums = self.rating_sums.get(votes)
            if sums is None:
                sums = self.rating_sums[votes] = [0] * RATING_SUM_FIELDS
            add_rating(sums, facts.pass_votes, facts.fail_votes, sign)

    def merge(self, other: GroupTally) -> None:
        """Add another tally's items (of a disjoint set) to this one."""
        self.n_items += other.n_items
        self.n_unknown_verifier += other.n_unknown_verifier
        self.n_unlabelled += other.n_unlabelled
        self.table = [a + b for a, b in zip(self.table, other.table, strict=True)]
        self.cost_total += other.cost_total
        self.cost_missing += other.cost_missing
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        for key, counts in other.strata.items():
            mine = self.strata.setdefault(key, [0, 0, 0])
            for i, value in enumerate(counts):
                mine[i] += value
        for reviewer, count in other.rater_items.items():
            self.rater_items[reviewer] = self.rater_items.get(reviewer, 0) + count
        for votes, sums in other.rating_sums.items():
            mine = self.rating_sums.setdefault(votes, [0] * RATING_SUM_FIELDS)
            for i, value in enumerate(sums):
                mine[i] += value

    def stratum_list(self) -> list[Stratum]:
        return [
            Stratum(model, "pass" if verifier else "fail", counts[0], counts[1], counts[2])
            for (model, verifier), counts in sorted(self.strata.items(), key=lambda kv: (kv[0][0], -kv[0][1]))
            if counts[0] > 0
        ]

    def summary(self) -> dict[str, Any]:
        """The group's figures in the `grader stats --json` shape (see docs/statistics.md)."""
        pass_pass, pass_fail, fail_pass, fail_fail = self.table
        n = pass_pass + pass_fail + fail_pass + fail_fail
        human_passes = pass_pass + fail_pass
        out: dict[str, Any] = {
            "n": n,
            "n_items": self.n_items,
            "n_unlabelled": self.n_unlabelled,
            "n_unknown_verifier": self.n_unknown_verifier,
            "small_sample": n < SMALL_SAMPLE,
            "table": dict(zip(TABLE_KEYS, self.table, strict=True)),
            "auto_pass_rate": rate(pass_pass + pass_fail, n).as_json(),
            "human_pass_rate": rate(human_passes, n).as_json(),
            "false_accept_rate": rate(pass_fail, n).as_json(),
            "false_accept_given_auto_pass": rate(pass_fail, pass_pass + pass_fail, "no verifier passes").as_json(),
            "false_reject_rate": rate(fail_pass, n).as_json(),
            "false_reject_given_auto_fail": rate(fail_pass, fail_pass + fail_fail, "no verifier fails").as_json(),
            "percent_agreement": rate(pass_pass + fail_fail, n).as_json(),
            "cohen_kappa": cohen_kappa(*self.table).as_json(),
            "gwet_ac1": gwet_ac1(*self.table).as_json(),
        }
        if n:
            out["mcnemar_p"] = mcnemar_exact_p(pass_fail, fail_pass)
        else:
            out["mcnemar_p"] = None
            out["mcnemar_p_reason"] = "no labelled items"
        out["human_agreement"] = human_agreement(self.rating_sums, len(self.rater_items)).as_json()
        out.update(self._cost_summary(n, human_passes))
        out["population"] = self.population_summary()
        return out

    def _cost_summary(self, n: int, human_passes: int) -> dict[str, Any]:
        priced = n - self.cost_missing
        out: dict[str, Any] = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "n_without_cost": self.cost_missing,
            "total_cost": self.cost_total if priced else None,
        }
        if not priced:
            out["total_cost_reason"] = "no labelled items" if n == 0 else "no cost recorded"
        if not priced:
            out["cost_per_human_pass"] = None
            out["cost_per_human_pass_reason"] = out["total_cost_reason"]
        elif human_passes == 0:
            out["cost_per_human_pass"] = None
            out["cost_per_human_pass_reason"] = "no human-approved patches"
        else:
            out["cost_per_human_pass"] = self.cost_total / human_passes
        return out

    def population_summary(self) -> dict[str, Any]:
        if self.population_reason is not None:
            return {
                "N": None,
                "estimate": None,
                "se": None,
                "ci_low": None,
                "ci_high": None,
                "reason": self.population_reason,
            }
        return corrected_pass_rate(self.stratum_list()).as_json()

    def verifier_population_rate(self) -> dict[str, Any]:
        """The verifier's pass rate over every patch of the group with a verifier verdict (the leaderboard's)."""
        passes = sum(c[0] for (_, verifier), c in self.strata.items() if verifier == 1)
        total = sum(c[0] for c in self.strata.values())
        return rate(passes, total, "no patches with a verifier verdict").as_json()

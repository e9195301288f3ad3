"""A columnar (numpy) form of the stat records, and group tallies computed from it in one vectorised pass.

This is the fast path for a full recomputation; `GroupTally.add` in stats.py is the per-item path used by
the live panel. Both give identical tallies (a test checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grader.core.stats.agreement import RATING_SUM_FIELDS
from grader.core.stats.data import ItemRecord
from grader.core.stats.tally import GroupTally

VERDICT_CODES = {"fail": 0, "pass": 1, "unsure": 2}
VERIFIER_CODES = {"pass": 1, "fail": 0, "error": 0}


@dataclass(slots=True)
class StatColumns:
    """One row per item and one per current verdict (verdict rows oldest first)."""

    models: list[str]
    repos: list[str]
    reviewers: list[str]
    model_index: np.ndarray  # per item
    repo_index: np.ndarray
    verifier: np.ndarray  # 1 pass, 0 fail (error included), -1 unknown
    cost: np.ndarray  # 0 where unknown
    has_cost: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    verdict_item: np.ndarray  # per verdict row
    verdict_reviewer: np.ndarray
    verdict_code: np.ndarray  # 0 fail, 1 pass, 2 unsure
    verdict_adjudication: np.ndarray

    @property
    def n_items(self) -> int:
        return len(self.verifier)

    @classmethod
    def from_records(cls, records: Sequence[ItemRecord]) -> StatColumns:
        models: dict[str, int] = {}
        repos: dict[str, int] = {}
        reviewers: dict[str, int] = {}
        model_of = [models.setdefault(r.model, len(models)) for r in records]
        repo_of = [repos.setdefault(r.repo, len(repos)) for r in records]
        costs = [r.cost_usd for r in records]
        verdict_item: list[int] = []
        verdict_reviewer: list[int] = []
        verdict_code: list[int] = []
        verdict_adjudication: list[bool] = []
        for index, record in enumerate(records):
            for v in record.verdicts:
                code = VERDICT_CODES.get(v.verdict)
                if code is None:
                    continue
                verdict_item.append(index)
                verdict_reviewer.append(reviewers.setdefault(v.reviewer, len(reviewers)))
                verdict_code.append(code)
                verdict_adjudication.append(v.source == "adjudication")
        return cls(
            models=list(models),
            repos=list(repos),
            reviewers=list(reviewers),
            model_index=np.array(model_of, dtype=np.int64),
            repo_index=np.array(repo_of, dtype=np.int64),
            verifier=np.array([VERIFIER_CODES.get(r.verifier_verdict, -1) for r in records], dtype=np.int64),
            cost=np.array([c or 0.0 for c in costs], dtype=np.float64),
            has_cost=np.array([c is not None for c in costs], dtype=bool),
            input_tokens=np.array([r.input_tokens or 0 for r in records], dtype=np.int64),
            output_tokens=np.array([r.output_tokens or 0 for r in records], dtype=np.int64),
            verdict_item=np.array(verdict_item, dtype=np.int64),
            verdict_reviewer=np.array(verdict_reviewer, dtype=np.int64),
            verdict_code=np.array(verdict_code, dtype=np.int64),
            verdict_adjudication=np.array(verdict_adjudication, dtype=bool),
        )


def item_votes_and_labels(columns: StatColumns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pass votes, fail votes, label) per item; label 1 pass, 0 fail, -1 unlabelled (see stats.item_facts)."""
    n = columns.n_items
    votes = ~columns.verdict_adjudication
    pass_votes = np.bincount(columns.verdict_item[votes & (columns.verdict_code == 1)], minlength=n)
    fail_votes = np.bincount(columns.verdict_item[votes & (columns.verdict_code == 0)], minlength=n)
    label = np.where(pass_votes > fail_votes, 1, np.where(fail_votes > pass_votes, 0, -1))
    decisive = columns.verdict_adjudication & (columns.verdict_code < 2)
    if decisive.any():
        # The latest adjudication wins: rows are oldest first, so take each item's last one.
        items = columns.verdict_item[decisive][::-1]
        codes = columns.verdict_code[decisive][::-1]
        adjudicated, first = np.unique(items, return_index=True)
        label[adjudicated] = codes[first]
    return pass_votes, fail_votes, label


def group_tallies(
    columns: StatColumns, group_index: np.ndarray, n_groups: int, *, population: bool = True
) -> list[GroupTally]:
    """One `GroupTally` per group (items carry their group in `group_index`), in one vectorised pass."""
    pass_votes, fail_votes, label = item_votes_and_labels(columns)
    g = group_index
    known = columns.verifier >= 0
    labelled = known & (label >= 0)
    n_items = np.bincount(g, minlength=n_groups)
    unknown = np.bincount(g[~known], minlength=n_groups)
    unlabelled = np.bincount(g[known & (label < 0)], minlength=n_groups)
    cell = 3 - 2 * columns.verifier - label  # 0 pass/pass, 1 pass/fail, 2 fail/pass, 3 fail/fail
    table = np.bincount(g[labelled] * 4 + cell[labelled], minlength=4 * n_groups).reshape(n_groups, 4)
    priced = labelled & columns.has_cost
    cost_total = np.bincount(g[priced], weights=columns.cost[priced], minlength=n_groups)
    cost_missing = np.bincount(g[labelled & ~columns.has_cost], minlength=n_groups)
    input_tokens = np.bincount(g[labelled], weights=columns.input_tokens[labelled], minlength=n_groups)
    output_tokens = np.bincount(g[labelled], weights=columns.output_tokens[labelled], minlength=n_groups)

    n_models = max(1, len(columns.models))
    stratum_key = (g * n_models + columns.model_index) * 2 + columns.verifier
    size = n_groups * n_models * 2
    stratum_size = np.bincount(stratum_key[known], minlength=size)
    stratum_audited = np.bincount(stratum_key[labelled], minlength=size)
    stratum_pass = np.bincount(stratum_key[labelled & (label == 1)], minlength=size)

    n_reviewers = max(1, len(columns.reviewers))
    is_vote = ~columns.verdict_adjudication & (columns.verdict_code < 2)
    rater_key = g[columns.verdict_item[is_vote]] * n_reviewers + columns.verdict_reviewer[is_vote]
    rater_counts = np.bincount(rater_key, minlength=n_groups * n_reviewers).reshape(n_groups, n_reviewers)

    raters = pass_votes + fail_votes
    rated = raters > 0
    width = int(raters.max()) + 1 if len(raters) else 1
    sum_key = g[rated] * width + raters[rated]
    p, f = pass_votes[rated], fail_votes[rated]
    weights = (None, p * (p - 1), f * (f - 1), p * f, p, f)
    rating_sums = np.stack(
        [np.bincount(sum_key, weights=w, minlength=n_groups * width).round().astype(np.int64) for w in weights]
    ).T.reshape(n_groups, width, RATING_SUM_FIELDS)

    tallies = []
    for group in range(n_groups):
        tally = GroupTally()
        if not population:
            tally.population_reason = "no population for this grouping"
        tally.n_items = int(n_items[group])
        tally.n_unknown_verifier = int(unknown[group])
        tally.n_unlabelled = int(unlabelled[group])
        tally.table = [int(x) for x in table[group]]
        tally.cost_total = float(cost_total[group])
        tally.cost_missing = int(cost_missing[group])
        tally.input_tokens = round(float(input_tokens[group]))
        tally.output_tokens = round(float(output_tokens[group]))
        if population:
            base = group * n_models * 2
            for offset in np.flatnonzero(stratum_size[base : base + n_models * 2]):
                key = base + int(offset)
                tally.strata[(columns.models[int(offset) // 2], int(offset) % 2)] = [
                    int(stratum_size[key]),
                    int(stratum_audited[key]),
                    int(stratum_pass[key]),
                ]
        for reviewer in np.flatnonzero(rater_counts[group]):
            tally.rater_items[columns.reviewers[int(reviewer)]] = int(rater_counts[group, reviewer])
        for votes in np.flatnonzero(rating_sums[group, :, 0]):
            tally.rating_sums[int(votes)] = [int(x) for x in rating_sums[group, votes]]
        tallies.append(tally)
    return tallies


def tallies_by_model(columns: StatColumns, model_names: Sequence[str] = ()) -> dict[str, GroupTally]:
    """{model: GroupTally}, sorted by name; every name in `model_names` appears, even without items."""
    tallies = dict(zip(columns.models, group_tallies(columns, columns.model_index, len(columns.models)), strict=True))
    for name in model_names:
        tallies.setdefault(name, GroupTally())
    return dict(sorted(tallies.items()))


def tallies_by_repo(columns: StatColumns) -> dict[str, GroupTally]:
    tallies = group_tallies(columns, columns.repo_index, len(columns.repos))
    return dict(sorted(zip([r or "(no repo)" for r in columns.repos], tallies, strict=True)))

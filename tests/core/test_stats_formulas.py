"""Every figure of the statistics engine against statsmodels, scikit-learn, krippendorff and Gwet's formulas."""

from __future__ import annotations

import json
import math

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa
from statsmodels.stats.proportion import proportion_confint

from grader.core.stats.agreement import (
    RATING_SUM_FIELDS,
    add_rating,
    cohen_kappa,
    gwet_ac1,
    human_agreement,
    mcnemar_exact_p,
    rate,
    wilson_interval,
)
from grader.core.stats.columns import StatColumns, tallies_by_model, tallies_by_repo
from grader.core.stats.data import HumanVerdict, ItemRecord
from grader.core.stats.estimates import Stratum, corrected_pass_rate, difference, plan_audit
from grader.core.stats.report import LiveStats, compute_report, merged, tally_by, tally_by_model
from grader.core.stats.tally import GroupTally

TOLERANCE = 1e-9
# The reference libraries warn (and give NaN) on the degenerate inputs we check them on.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=0, abs_tol=TOLERANCE)


# --- Wilson ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 5, 17, 100, 4321])
def test_wilson_matches_statsmodels_including_zero_and_all(n: int) -> None:
    for count in sorted({0, 1, n // 3, n // 2, n - 1, n}):
        if count < 0:
            continue
        low, high = wilson_interval(count, n)
        ref_low, ref_high = proportion_confint(count, n, alpha=0.05, method="wilson")
        assert close(low, ref_low) and close(high, ref_high), (count, n)
    assert wilson_interval(0, n)[0] == 0.0 and wilson_interval(n, n)[1] == 1.0


def test_rate_with_no_items_is_null_with_a_reason() -> None:
    empty = rate(0, 0, "no verifier passes").as_json()
    assert empty["value"] is None and empty["ci_low"] is None and empty["reason"] == "no verifier passes"


# --- verifier vs human: kappa, AC1, McNemar -------------------------------------------------------------------


def random_tables(count: int, seed: int = 7) -> list[tuple[int, int, int, int]]:
    rng = np.random.default_rng(seed)
    tables = [tuple(int(x) for x in rng.integers(0, 60, size=4)) for _ in range(count)]
    # Lopsided ones too: nearly everything passes, where kappa and AC1 part ways.
    tables += [(950, 30, 15, 5), (5, 0, 1, 0), (1, 0, 0, 1), (0, 3, 4, 0), (200, 1, 1, 0), (1, 1, 1, 1)]
    return [t for t in tables if sum(t) > 0]


def labels_from_table(table: tuple[int, int, int, int]) -> tuple[list[int], list[int]]:
    verifier, human = [], []
    for (v, h), count in zip(((1, 1), (1, 0), (0, 1), (0, 0)), table, strict=True):
        verifier += [v] * count
        human += [h] * count
    return verifier, human


@pytest.mark.parametrize("table", random_tables(40))
def test_cohen_kappa_matches_sklearn_and_statsmodels(table: tuple[int, int, int, int]) -> None:
    result = cohen_kappa(*table)
    verifier, human = labels_from_table(table)
    if len(set(verifier) | set(human)) == 1:
        assert result.value is None and result.reason == "kappa undefined: no variation"
        return
    reference = cohens_kappa(np.array(table, dtype=float).reshape(2, 2))
    assert close(result.value, cohen_kappa_score(verifier, human))
    assert close(result.value, reference.kappa)
    assert close(result.se, reference.std_kappa)
    assert close(result.ci_low, reference.kappa_low) and close(result.ci_high, reference.kappa_upp)


def test_kappa_degenerate_cases() -> None:
    assert cohen_kappa(0, 0, 0, 0).reason == "no labelled items"
    assert cohen_kappa(12, 0, 0, 0).reason == "kappa undefined: no variation"
    assert cohen_kappa(0, 0, 0, 9).reason == "kappa undefined: no variation"
    # Perfect agreement with variation: kappa 1 and a standard error of exactly 0.
    perfect = cohen_kappa(5, 0, 0, 7)
    assert perfect.value == 1.0 and perfect.se == 0.0


def gwet_reference(table: tuple[int, int, int, int]) -> tuple[float, float]:
    """Gwet (2008), two raters, q categories, f = 0, written with matrices."""
    p = np.array(table, dtype=float).reshape(2, 2) / sum(table)
    q = 2
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2
    pa = np.trace(p)
    pe = (pi * (1 - pi)).sum() / (q - 1)
    ac1 = (pa - pe) / (1 - pe)
    second = (np.diag(p) * (1 - pi)).sum() / (q - 1) - pa * pe
    third = (p * (1 - (pi[:, None] + pi[None, :]) / 2) ** 2).sum() / (q - 1) ** 2 - pe**2
    variance = (pa * (1 - pa) - 4 * (1 - ac1) * second + 4 * (1 - ac1) ** 2 * third) / (sum(table) * (1 - pe) ** 2)
    return float(ac1), float(math.sqrt(max(variance, 0.0)))


def gwet_multirater_ac1(table: tuple[int, int, int, int]) -> float:
    """AC1 by Gwet's r-rater formula (per-item counts), which for two raters must give the same value."""
    verifier, human = labels_from_table(table)
    counts = np.array([[v + h, 2 - v - h] for v, h in zip(verifier, human, strict=True)], dtype=float)
    raters = 2
    pa = (counts * (counts - 1)).sum(axis=1).mean() / (raters * (raters - 1))
    pi = (counts / raters).mean(axis=0)
    pe = (pi * (1 - pi)).sum()
    return float((pa - pe) / (1 - pe))


@pytest.mark.parametrize("table", random_tables(40, seed=11))
def test_gwet_ac1_matches_gwet_2008(table: tuple[int, int, int, int]) -> None:
    result = gwet_ac1(*table)
    ac1, se = gwet_reference(table)
    assert close(result.value, ac1) and close(result.value, gwet_multirater_ac1(table))
    assert close(result.se, se)
    assert close(result.ci_low, ac1 - 1.959963984540054 * se)


def test_ac1_stays_defined_where_kappa_collapses() -> None:
    assert cohen_kappa(40, 0, 0, 0).value is None
    everything_passes = gwet_ac1(40, 0, 0, 0)
    assert everything_passes.value == 1.0 and everything_passes.se == 0.0
    assert gwet_ac1(0, 0, 0, 0).reason == "no labelled items"


@pytest.mark.parametrize(
    ("pass_fail", "fail_pass"), [(0, 0), (1, 0), (0, 7), (3, 3), (5, 12), (40, 2), (300, 260), (20000, 19500)]
)
def test_mcnemar_exact_matches_statsmodels(pass_fail: int, fail_pass: int) -> None:
    reference = mcnemar(np.array([[10, pass_fail], [fail_pass, 10]]), exact=True).pvalue
    assert close(mcnemar_exact_p(pass_fail, fail_pass), float(reference))
    assert mcnemar_exact_p(0, 0) == 1.0


# --- between humans -------------------------------------------------------------------------------------------


def rating_sums_of(matrix: np.ndarray) -> dict[int, list[int]]:
    """matrix: raters x items of 1 pass / 0 fail / nan missing."""
    sums: dict[int, list[int]] = {}
    for column in matrix.T:
        votes = column[~np.isnan(column)]
        if len(votes):
            add_rating(sums.setdefault(len(votes), [0] * RATING_SUM_FIELDS), int(votes.sum()), int((votes == 0).sum()))
    return sums


def random_ratings(seed: int, raters: int, items: int, missing: float, agreement: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.random(items) < 0.7
    agree = rng.random((raters, items)) < agreement
    matrix = np.where(agree, truth, ~truth).astype(float)
    matrix[rng.random((raters, items)) < missing] = np.nan
    return matrix


@pytest.mark.parametrize(
    ("seed", "raters", "items", "missing", "agreement"),
    [(1, 2, 50, 0.0, 0.8), (2, 3, 200, 0.0, 0.9), (3, 4, 120, 0.3, 0.75), (4, 5, 80, 0.5, 0.6), (5, 3, 30, 0.2, 0.5)],
)
def test_human_agreement_matches_krippendorff_and_statsmodels(
    seed: int, raters: int, items: int, missing: float, agreement: float
) -> None:
    matrix = random_ratings(seed, raters, items, missing, agreement)
    result = human_agreement(rating_sums_of(matrix), raters)
    assert close(result.krippendorff_alpha, krippendorff.alpha(matrix, level_of_measurement="nominal"))
    complete = matrix[:, ~np.isnan(matrix).any(axis=0)]
    if complete.shape[1]:
        counts = np.stack([(complete == 1).sum(axis=0), (complete == 0).sum(axis=0)], axis=1)
        assert close(result.fleiss_kappa, fleiss_kappa(counts, method="fleiss"))
        assert result.n_items_complete == complete.shape[1]
    else:
        assert result.fleiss_kappa is None and result.fleiss_kappa_reason == "no item rated by every rater"
    shares = []
    for column in matrix.T:
        votes = column[~np.isnan(column)]
        m = len(votes)
        if m >= 2:
            p = votes.sum()
            shares.append((p * (p - 1) + (m - p) * (m - p - 1)) / (m * (m - 1)))
    assert close(result.percent_agreement, float(np.mean(shares)))


def test_human_agreement_degenerate_cases() -> None:
    one_rater = human_agreement(rating_sums_of(np.array([[1.0, 0.0, 1.0]])), 1)
    assert one_rater.krippendorff_alpha is None and one_rater.krippendorff_alpha_reason == "fewer than two raters"
    all_pass = np.ones((3, 10))
    result = human_agreement(rating_sums_of(all_pass), 3)
    assert result.fleiss_kappa is None and result.fleiss_kappa_reason == "kappa undefined: no variation"
    assert result.krippendorff_alpha is None and result.krippendorff_alpha_reason == "alpha undefined: no variation"
    assert result.percent_agreement == 1.0
    with pytest.raises(ValueError):
        krippendorff.alpha(all_pass, level_of_measurement="nominal")
    assert math.isnan(fleiss_kappa(np.array([[3, 0]] * 10), method="fleiss"))
    lonely = np.array([[1.0, np.nan], [np.nan, 0.0]])
    assert human_agreement(rating_sums_of(lonely), 2).percent_agreement_reason == "no item has two or more ratings"


# --- corrected pass rates -------------------------------------------------------------------------------------


def stratified_reference(strata: list[Stratum]) -> tuple[float, float]:
    sizes = np.array([s.population for s in strata], dtype=float)
    audited = np.array([s.audited for s in strata], dtype=float)
    shares = np.array([s.human_pass for s in strata]) / audited
    weights = sizes / sizes.sum()
    variance = (weights**2 * (1 - audited / sizes) * shares * (1 - shares) / (audited - 1)).sum()
    return float((weights * shares).sum()), float(math.sqrt(variance))


def test_corrected_pass_rate_matches_the_stratified_formula() -> None:
    rng = np.random.default_rng(3)
    for _ in range(30):
        strata = []
        for model in range(3):
            for verifier in ("pass", "fail"):
                size = int(rng.integers(5, 500))
                audited = int(rng.integers(2, size + 1))
                strata.append(Stratum(f"m{model}", verifier, size, audited, int(rng.integers(0, audited + 1))))
        result = corrected_pass_rate(strata)
        estimate, se = stratified_reference(strata)
        assert close(result.estimate, estimate) and close(result.se, se)
        assert close(result.ci_low, estimate - 1.959963984540054 * se)
        # The design-weighted Rogan–Gladen figure is algebraically the same estimate.
        if result.rogan_gladen is not None:
            assert close(result.rogan_gladen, estimate)


def test_corrected_pass_rate_degenerate_cases() -> None:
    unaudited = corrected_pass_rate([Stratum("a", "pass", 10, 4, 3), Stratum("a", "fail", 20, 0, 0)])
    assert unaudited.estimate is None and unaudited.reason == "stratum a / verifier fail has 20 patches, none audited"
    single = corrected_pass_rate([Stratum("a", "pass", 10, 4, 3), Stratum("a", "fail", 20, 1, 1)])
    assert single.estimate is not None and single.se is None
    assert single.reason == "CI n/a: stratum a / verifier fail has one audited item of 20"
    census = corrected_pass_rate([Stratum("a", "pass", 3, 3, 2), Stratum("a", "fail", 1, 1, 0)])
    assert census.se == 0.0 and close(census.estimate, 0.5)
    assert corrected_pass_rate([]).reason == "no patches with a verifier verdict"
    gap = difference(0.6, 0.01, 0.5, 0.02)
    assert gap.distinguishable and close(gap.difference, 0.1)


def test_plan_reaches_the_half_width() -> None:
    strata = [Stratum("a", "pass", 4000, 30, 20), Stratum("a", "fail", 6000, 30, 5)]
    plan = plan_audit(strata, 0.03)
    assert plan.planned_half_width <= 0.03 + 1e-12
    assert plan.additional > 0
    # Neyman: allocation proportional to N_h S_h.
    targets = [p.target_audited for p in plan.strata]
    shares = [(21 / 32) * (11 / 32), (6 / 32) * (26 / 32)]
    expected_ratio = 4000 * math.sqrt(shares[0]) / (6000 * math.sqrt(shares[1]))
    assert abs(targets[0] / targets[1] - expected_ratio) < 0.02
    tiny = plan_audit([Stratum("b", "pass", 5, 1, 1), Stratum("b", "fail", 3, 0, 0)], 0.01)
    assert [p.target_audited for p in tiny.strata] == [5, 3] and tiny.planned_half_width == 0.0


# --- whole reports from records ---------------------------------------------------------------------------------


def synthetic_records(seed: int, items: int = 600, models: int = 3) -> list[ItemRecord]:
    rng = np.random.default_rng(seed)
    reviewers = ["ana", "bo", "cy", "dee"]
    records = []
    for index in range(items):
        verdicts = []
        for reviewer in reviewers:
            if rng.random() < 0.55:
                verdicts.append(
                    HumanVerdict(
                        reviewer,
                        str(rng.choice(["pass", "pass", "fail", "unsure"])),
                        "review",
                        int(rng.choice([1, 2])) if rng.random() < 0.7 else None,
                        (str(rng.choice(["style", "tests", "scope"])),) if rng.random() < 0.5 else (),
                    )
                )
        if rng.random() < 0.05:
            verdicts.append(HumanVerdict("judge", str(rng.choice(["pass", "fail", "unsure"])), "adjudication"))
        records.append(
            ItemRecord(
                patch_id=index + 1,
                model=f"model-{index % models}",
                benchmark="verified",
                repo=f"org/repo{index % 5}",
                verifier_verdict=str(rng.choice(["pass", "fail", "error", "unknown"], p=[0.45, 0.35, 0.1, 0.1])),
                input_tokens=int(rng.integers(100, 5000)),
                output_tokens=int(rng.integers(10, 900)),
                input_cost_usd=float(rng.random()) if rng.random() < 0.9 else None,
                output_cost_usd=float(rng.random() / 10) if rng.random() < 0.9 else None,
                verdicts=verdicts,
            )
        )
    return records


def reference_label(record: ItemRecord) -> int | None:
    adjudicated = [v for v in record.verdicts if v.source == "adjudication" and v.verdict in ("pass", "fail")]
    if adjudicated:
        return int(adjudicated[-1].verdict == "pass")
    votes = [v.verdict for v in record.verdicts if v.source != "adjudication"]
    passes, fails = votes.count("pass"), votes.count("fail")
    return None if passes == fails else int(passes > fails)


def check_summary_against_references(summary: dict, records: list[ItemRecord]) -> None:
    verifier, human, costs = [], [], []
    for record in records:
        label = reference_label(record)
        if record.verifier_verdict == "unknown" or label is None:
            continue
        verifier.append(int(record.verifier_verdict == "pass"))
        human.append(label)
        costs.append(record.cost_usd)
    n = len(human)
    assert summary["n"] == n and summary["n_items"] == len(records)
    table = summary["table"]
    cells = [(1, 1), (1, 0), (0, 1), (0, 0)]
    counts = [sum(1 for v, h in zip(verifier, human, strict=True) if (v, h) == c) for c in cells]
    assert list(table.values()) == counts
    pass_fail, fail_pass = counts[1], counts[2]
    for name, count, denominator in [
        ("auto_pass_rate", counts[0] + counts[1], n),
        ("human_pass_rate", counts[0] + counts[2], n),
        ("false_accept_rate", pass_fail, n),
        ("false_accept_given_auto_pass", pass_fail, counts[0] + counts[1]),
        ("false_reject_rate", fail_pass, n),
        ("false_reject_given_auto_fail", fail_pass, counts[2] + counts[3]),
        ("percent_agreement", counts[0] + counts[3], n),
    ]:
        low, high = proportion_confint(count, denominator, alpha=0.05, method="wilson")
        figure = summary[name]
        assert figure["count"] == count and figure["n"] == denominator
        assert close(figure["value"], count / denominator) and close(figure["ci_low"], low)
        assert close(figure["ci_high"], high)
    reference = cohens_kappa(np.array(counts, dtype=float).reshape(2, 2))
    assert close(summary["cohen_kappa"]["value"], cohen_kappa_score(verifier, human))
    assert close(summary["cohen_kappa"]["se"], reference.std_kappa)
    assert close(summary["gwet_ac1"]["se"], gwet_reference(tuple(counts))[1])
    assert close(summary["mcnemar_p"], mcnemar(np.array(counts).reshape(2, 2), exact=True).pvalue)
    priced = [c for c in costs if c is not None]
    assert close(summary["total_cost"], math.fsum(priced))
    assert close(summary["cost_per_human_pass"], math.fsum(priced) / sum(human))

    raters = sorted({v.reviewer for r in records for v in r.verdicts if v.source != "adjudication"})
    matrix = np.full((len(raters), len(records)), np.nan)
    for column, record in enumerate(records):
        for v in record.verdicts:
            if v.source != "adjudication" and v.verdict in ("pass", "fail"):
                matrix[raters.index(v.reviewer), column] = float(v.verdict == "pass")
    agreement = summary["human_agreement"]
    assert close(agreement["krippendorff_alpha"], krippendorff.alpha(matrix, level_of_measurement="nominal"))
    complete = matrix[:, ~np.isnan(matrix).any(axis=0)]
    if complete.shape[1]:
        counts_per_item = np.stack([(complete == 1).sum(axis=0), (complete == 0).sum(axis=0)], axis=1)
        assert close(agreement["fleiss_kappa"], fleiss_kappa(counts_per_item, method="fleiss"))

    population = summary["population"]
    strata = []
    for model in sorted({r.model for r in records}):
        for verifier_name, members in (("pass", ("pass",)), ("fail", ("fail", "error"))):
            group = [r for r in records if r.model == model and r.verifier_verdict in members]
            labels = [reference_label(r) for r in group]
            labelled = [x for x in labels if x is not None]
            if group:
                strata.append(Stratum(model, verifier_name, len(group), len(labelled), sum(labelled)))
    estimate, se = stratified_reference(strata)
    assert population["N"] == sum(s.population for s in strata)
    assert close(population["estimate"], estimate) and close(population["se"], se)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_report_figures_match_the_reference_libraries(seed: int) -> None:
    records = synthetic_records(seed)
    report = compute_report(records)
    check_summary_against_references(report["overall"], records)
    for model, summary in report["by_model"].items():
        check_summary_against_references(summary, [r for r in records if r.model == model])
    json.dumps(report, allow_nan=False)


def tally_state(tally: GroupTally) -> dict:
    return {
        "n_items": tally.n_items,
        "unknown": tally.n_unknown_verifier,
        "unlabelled": tally.n_unlabelled,
        "table": tally.table,
        "cost": round(tally.cost_total, 9),
        "cost_missing": tally.cost_missing,
        "tokens": (tally.input_tokens, tally.output_tokens),
        "strata": tally.strata,
        "raters": tally.rater_items,
        "sums": tally.rating_sums,
    }


def test_vectorised_tallies_equal_the_per_item_tallies() -> None:
    records = synthetic_records(4)
    columns = StatColumns.from_records(records)
    vectorised = tallies_by_model(columns)
    per_item = tally_by_model(records)
    assert {k: tally_state(t) for k, t in vectorised.items()} == {k: tally_state(t) for k, t in per_item.items()}
    repo_vectorised = tallies_by_repo(columns)
    repo_per_item = tally_by(records, "repo")
    assert {k: tally_state(t) for k, t in repo_vectorised.items()} == {
        k: tally_state(t) for k, t in repo_per_item.items()
    }


def test_live_stats_equal_a_full_recomputation_after_each_verdict() -> None:
    records = synthetic_records(5, items=300)
    live = LiveStats(records)
    rng = np.random.default_rng(9)
    for step in range(200):
        record = records[int(rng.integers(0, len(records)))]
        reviewer = str(rng.choice(["ana", "bo", "eve", "judge"]))
        current = [v.reviewer for v in live.verdicts_of(record.patch_id)]
        choices = ["pass", "fail", "unsure"] + (["retracted"] if reviewer in current else [])
        source = "adjudication" if reviewer == "judge" else "review"
        summary = live.apply_verdict(record.patch_id, reviewer, str(rng.choice(choices)), source=source)
        if step % 40 == 39:
            updated = [
                ItemRecord(
                    r.patch_id,
                    r.model,
                    r.benchmark,
                    r.repo,
                    r.verifier_verdict,
                    r.input_tokens,
                    r.output_tokens,
                    r.input_cost_usd,
                    r.output_cost_usd,
                    live.verdicts_of(r.patch_id),
                )
                for r in records
            ]
            full = compute_report(updated)
            assert json.dumps(summary, sort_keys=True) == json.dumps(full["overall"], sort_keys=True) or _near(
                summary, full["overall"]
            )
            assert _near(live.summary(model="model-1"), full["by_model"]["model-1"])
    assert records[0].verdicts == synthetic_records(5, items=300)[0].verdicts  # the caller's records are untouched


def _near(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_near(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_near(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def test_degenerate_reports_hold_no_nan_and_give_reasons() -> None:
    empty = compute_report([], model_names=["lonely"])
    json.dumps(empty, allow_nan=False)
    lonely = empty["by_model"]["lonely"]
    assert lonely["n"] == 0 and lonely["cohen_kappa"]["reason"] == "no labelled items"
    assert lonely["mcnemar_p"] is None and lonely["mcnemar_p_reason"] == "no labelled items"
    assert lonely["cost_per_human_pass"] is None and "cost_per_human_pass_reason" in lonely
    assert lonely["population"]["reason"] == "no patches with a verifier verdict"
    assert lonely["human_agreement"]["fleiss_kappa_reason"] == "fewer than two raters"
    # Everything passes for everyone: kappa is undefined, AC1 is 1, McNemar is 1.0.
    passing = [
        ItemRecord(i, "m", "b", "r", "pass", verdicts=[HumanVerdict("ana", "pass"), HumanVerdict("bo", "pass")])
        for i in range(5)
    ]
    summary = compute_report(passing)["overall"]
    json.dumps(summary, allow_nan=False)
    assert summary["cohen_kappa"]["reason"] == "kappa undefined: no variation"
    assert summary["gwet_ac1"]["value"] == 1.0 and summary["gwet_ac1"]["se"] == 0.0
    assert summary["mcnemar_p"] == 1.0 and summary["small_sample"] is True
    assert summary["false_accept_given_auto_pass"]["value"] == 0.0
    assert summary["false_reject_given_auto_fail"]["reason"] == "no verifier fails"
    assert summary["auto_pass_rate"]["ci_high"] == 1.0
    assert summary["human_agreement"]["krippendorff_alpha_reason"] == "alpha undefined: no variation"
    assert summary["population"]["se"] == 0.0  # a census
    assert summary["total_cost"] is None and summary["total_cost_reason"] == "no cost recorded"


def test_labels_follow_adjudication_then_strict_majority() -> None:
    def label_of(*verdicts: HumanVerdict) -> dict:
        return compute_report([ItemRecord(1, "m", "b", "r", "pass", verdicts=list(verdicts))])["overall"]["table"]

    tie = label_of(HumanVerdict("a", "pass"), HumanVerdict("b", "fail"), HumanVerdict("c", "unsure"))
    assert sum(tie.values()) == 0
    majority = label_of(HumanVerdict("a", "fail"), HumanVerdict("b", "fail"), HumanVerdict("c", "pass"))
    assert majority["auto_pass_human_fail"] == 1
    adjudicated = label_of(
        HumanVerdict("a", "fail"),
        HumanVerdict("b", "fail"),
        HumanVerdict("j", "fail", "adjudication"),
        HumanVerdict("k", "pass", "adjudication"),
    )
    assert adjudicated["auto_pass_human_pass"] == 1
    unsure_adjudication = label_of(HumanVerdict("a", "fail"), HumanVerdict("j", "unsure", "adjudication"))
    assert unsure_adjudication["auto_pass_human_fail"] == 1


def test_groupings_by_tag_session_and_reviewer() -> None:
    records = synthetic_records(6, items=200)
    for dimension in ("tag", "session", "reviewer"):
        report = compute_report(records, by=dimension)
        groups = report["by"]["groups"]
        assert groups and all(g["population"]["N"] is None and g["population"]["reason"] for g in groups.values())
        json.dumps(report, allow_nan=False)
    by_reviewer = compute_report(records, by="reviewer")["by"]["groups"]
    ana = [r for r in records if any(v.reviewer == "ana" and v.verdict in ("pass", "fail") for v in r.verdicts)]
    ana_labelled = [r for r in ana if r.verifier_verdict != "unknown"]
    assert by_reviewer["ana"]["n"] == len(ana_labelled)
    assert by_reviewer["ana"]["human_agreement"]["n_raters"] == 1
    assert "no session" in compute_report(records, by="session")["by"]["groups"]
    overall = merged(tally_by_model(records).values()).summary()
    assert overall["n"] == compute_report(records)["overall"]["n"]


def test_a_sample_with_no_spread_gets_no_interval_rather_than_a_zero_width_one() -> None:
    # 2 of 5 verifier-pass patches audited, both human fail; the verifier-fail stratum is a census.
    unanimous = [Stratum("m", "pass", 5, 2, 0), Stratum("m", "fail", 2, 2, 0)]
    result = corrected_pass_rate(unanimous)
    assert result.estimate == 0.0
    assert result.se is None and result.ci_low is None and result.ci_high is None
    assert result.reason is not None and "all audited items agree" in result.reason
    # A full census has no sampling error: its zero width is the truth, and stays.
    census = corrected_pass_rate([Stratum("m", "pass", 2, 2, 0), Stratum("m", "fail", 2, 2, 1)])
    assert (census.se, census.ci_low, census.ci_high, census.reason) == (0.0, 0.25, 0.25, None)
    # One stratum with spread is enough for an interval.
    spread = corrected_pass_rate([Stratum("m", "pass", 5, 3, 1), Stratum("m", "fail", 5, 2, 0)])
    assert spread.se is not None and spread.se > 0 and spread.reason is None

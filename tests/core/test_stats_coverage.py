"""Interval coverage by simulation, with fixed seeds: 2,000 stratified audits of populations with known truth."""

from __future__ import annotations

import numpy as np

from grader.core.stats.agreement import rate
from grader.core.stats.estimates import Stratum, corrected_pass_rate

SIMULATIONS = 2000
# A synthetic leaderboard: (model, verifier verdict, patches, human passes among them, audited per audit).
POPULATION = (
    ("alpha", "pass", 1200, 1010, 70),
    ("alpha", "fail", 800, 150, 60),
    ("beta", "pass", 900, 620, 60),
    ("beta", "fail", 1100, 330, 70),
    ("gamma", "pass", 400, 300, 40),
    ("gamma", "fail", 1600, 560, 80),
)


def simulate_corrected(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    truth = sum(passes for *_, passes, _ in POPULATION) / sum(size for *_, size, _, _ in POPULATION)
    # Each audit draws a simple random sample without replacement in each stratum: its pass count is hypergeometric.
    drawn = np.stack(
        [rng.hypergeometric(passes, size - passes, audited, SIMULATIONS) for _, _, size, passes, audited in POPULATION],
        axis=1,
    )
    estimates, lows, highs = np.empty(SIMULATIONS), np.empty(SIMULATIONS), np.empty(SIMULATIONS)
    ses = np.empty(SIMULATIONS)
    for run in range(SIMULATIONS):
        result = corrected_pass_rate(
            [
                Stratum(model, verifier, size, audited, int(drawn[run, i]))
                for i, (model, verifier, size, _, audited) in enumerate(POPULATION)
            ]
        )
        assert result.estimate is not None and result.se is not None
        estimates[run], ses[run] = result.estimate, result.se
        lows[run], highs[run] = result.ci_low, result.ci_high
    covered = (lows <= truth) & (truth <= highs)
    return covered, estimates, ses, truth


def test_corrected_pass_rate_intervals_cover_the_truth() -> None:
    covered, estimates, ses, truth = simulate_corrected(seed=20240501)
    assert 0.93 <= covered.mean() <= 0.97, covered.mean()
    assert abs(estimates.mean() - truth) <= ses.mean()
    # Tighter: unbiased to within three Monte Carlo standard errors.
    assert abs(estimates.mean() - truth) <= 3 * estimates.std(ddof=1) / np.sqrt(SIMULATIONS)


def test_corrected_pass_rate_per_model_intervals_cover_the_truth() -> None:
    rng = np.random.default_rng(7)
    for model in ("alpha", "beta", "gamma"):
        strata = [row for row in POPULATION if row[0] == model]
        truth = sum(row[3] for row in strata) / sum(row[2] for row in strata)
        drawn = np.stack([rng.hypergeometric(p, n - p, a, SIMULATIONS) for _, _, n, p, a in strata], axis=1)
        hits = 0
        for run in range(SIMULATIONS):
            result = corrected_pass_rate(
                [Stratum(m, v, n, a, int(drawn[run, i])) for i, (m, v, n, _, a) in enumerate(strata)]
            )
            assert result.ci_low is not None and result.ci_high is not None
            hits += result.ci_low <= truth <= result.ci_high
        assert 0.93 <= hits / SIMULATIONS <= 0.97, (model, hits / SIMULATIONS)


def test_wilson_intervals_of_the_false_accept_rate_cover_the_truth() -> None:
    rng = np.random.default_rng(99)
    # Audited items fall in the 2x2 table (verifier pass/human pass, pass/fail, fail/pass, fail/fail).
    cells = np.array([0.50, 0.12, 0.08, 0.30])
    labelled = 400
    tables = rng.multinomial(labelled, cells, size=SIMULATIONS)
    for name, count_of, n_of, truth in (
        ("share of all", lambda t: t[1], lambda t: labelled, cells[1]),
        ("given a verifier pass", lambda t: t[1], lambda t: t[0] + t[1], cells[1] / (cells[0] + cells[1])),
    ):
        hits, values, halves = 0, [], []
        for table in tables:
            figure = rate(int(count_of(table)), int(n_of(table)))
            assert figure.value is not None and figure.ci_low is not None and figure.ci_high is not None
            hits += figure.ci_low <= truth <= figure.ci_high
            values.append(figure.value)
            halves.append((figure.ci_high - figure.ci_low) / 2)
        coverage = hits / SIMULATIONS
        assert 0.93 <= coverage <= 0.97, (name, coverage)
        standard_error = np.mean(halves) / 1.959963984540054
        assert abs(np.mean(values) - truth) <= standard_error, name

"""Corrected pass rates of an audit session from its own recorded design: hand computation on both backends,
the domain estimator, and interval coverage by simulation over many seeded session draws."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy import Engine

from grader.core.audit.adjudication import record_adjudication
from grader.core.audit.sampling import Candidate, SampleSpec, draw_sample, stratum_key
from grader.core.audit.sessions import create_session, session_patches, stratum_sizes
from grader.core.audit.synthetic import add_synthetic_patches
from grader.core.stats.agreement import Z_95
from grader.core.stats.data import load_model_names, load_stat_records
from grader.core.stats.estimates import DomainStratum, Stratum, corrected_pass_rate, domain_pass_rate
from grader.core.stats.report import compute_report
from grader.core.stats.session import (
    SessionDesign,
    SessionScope,
    SessionUnit,
    design_estimate,
    load_session_design,
)
from grader.core.store.db import write_transaction
from grader.core.store.verdicts import insert_verdict


def _human(patch_id: int) -> str:
    return "pass" if (patch_id * 7) % 5 < 3 else "fail"


def _hand_estimate(strata: dict[str, tuple[int, int, int]]) -> tuple[float, float | None]:
    """sum_h W_h p_h and its FPC standard error, from {stratum: (N_h, labelled n_h, passes)}."""
    total = sum(n_pop for n_pop, _, _ in strata.values())
    estimate = sum(n_pop / total * passes / n for n_pop, n, passes in strata.values())
    variance = 0.0
    for n_pop, n, passes in strata.values():
        p = passes / n
        if n < n_pop:
            if n == 1:
                return estimate, None
            variance += (n_pop / total) ** 2 * (1 - n / n_pop) * p * (1 - p) / (n - 1)
    return estimate, math.sqrt(variance)


def test_session_estimate_uses_the_recorded_strata(engine: Engine) -> None:
    add_synthetic_patches(engine, 240, models=3, seed=3)
    spec = SampleSpec(per_stratum=4, seed=5, strata=("model", "verdict", "repo"), overlap=2)
    session = create_session(engine, "design", spec)
    patches = session_patches(engine, session.id)
    labels: dict[int, str | None] = {}
    with write_transaction(engine) as conn:
        for patch in patches:
            pid, position = patch.patch_id, patch.position
            verdict = _human(pid)
            insert_verdict(conn, patch_id=pid, reviewer="ana", verdict=verdict, session_id=session.id)
            labels[pid] = verdict
            if position % 9 == 0:  # a second reviewer disagrees: a tie, unlabelled unless adjudicated
                other = "fail" if verdict == "pass" else "pass"
                insert_verdict(conn, patch_id=pid, reviewer="ben", verdict=other, session_id=session.id)
                labels[pid] = None
            elif position % 9 == 1:  # a second reviewer agrees
                insert_verdict(conn, patch_id=pid, reviewer="ben", verdict=verdict, session_id=session.id)
            # A verdict outside the session never counts for the session's estimates.
            outside = "fail" if verdict == "pass" else "pass"
            insert_verdict(conn, patch_id=pid, reviewer="zed", verdict=outside)
            insert_verdict(conn, patch_id=pid, reviewer="yan", verdict=outside)
    for patch in patches:
        if patch.position % 18 == 0:
            pid = patch.patch_id
            record_adjudication(engine, session_id=session.id, patch_id=pid, adjudicator="cy", verdict="fail")
            labels[patch.patch_id] = "fail"

    recorded = {stratum: population for stratum, population, _ in stratum_sizes(engine, session.id)}
    assert len(recorded) > 30  # the design really is model x verdict x repo
    by_stratum: dict[str, list[int]] = {}
    for patch in patches:
        label = labels[patch.patch_id]
        if label is not None:
            counts = by_stratum.setdefault(patch.stratum, [0, 0])
            counts[0] += 1
            counts[1] += label == "pass"
    strata = {k: (recorded[k], *by_stratum[k]) for k in recorded}
    expected, expected_se = _hand_estimate(strata)

    design = load_session_design(engine, session.id)
    records = load_stat_records(engine, session_id=session.id)
    report = compute_report(records, model_names=load_model_names(engine), session=SessionScope(design))
    population = report["overall"]["population"]
    assert population["N"] == 240 and population["design"]["strata"] == ["model", "verdict", "repo"]
    assert population["estimate"] == pytest.approx(expected, abs=1e-12)
    if expected_se is None:
        assert population["se"] is None and population["reason"].startswith("CI n/a")
    else:
        assert population["se"] == pytest.approx(expected_se, abs=1e-12)
        assert population["ci_low"] == pytest.approx(expected - Z_95 * expected_se, abs=1e-12)
    assert population["n_audited"] == sum(1 for v in labels.values() if v is not None)
    assert "method" not in population  # every group is a union of strata: the plain stratified estimator
    # The store-wide (model x verifier) estimate would differ: it also counts the verdicts outside the session.
    assert compute_report(records)["overall"]["population"]["strata"][0].get("stratum") is None

    # Per model: the strata restricted to that model.
    for model, summary in report["by_model"].items():
        mine = {k: v for k, v in strata.items() if json.loads(k)["model"] == model}
        estimate, se = _hand_estimate(mine)
        assert summary["population"]["N"] == sum(v[0] for v in mine.values())
        assert summary["population"]["estimate"] == pytest.approx(estimate, abs=1e-12)
        assert summary["population"]["se"] == (None if se is None else pytest.approx(se, abs=1e-12))
        leader = next(row for row in report["leaderboard"] if row["model"] == model)
        assert leader["corrected_pass_rate"] == summary["population"]


def test_per_model_is_a_domain_estimate_when_model_is_not_a_stratum(engine: Engine) -> None:
    add_synthetic_patches(engine, 200, models=4, seed=8)
    session = create_session(engine, "by-verdict", SampleSpec(size=80, seed=1, strata=("verdict",)))
    with write_transaction(engine) as conn:
        for patch in session_patches(engine, session.id):
            insert_verdict(
                conn, patch_id=patch.patch_id, reviewer="ana", verdict=_human(patch.patch_id), session_id=session.id
            )
    design = load_session_design(engine, session.id)
    scope = SessionScope(design)
    overall = scope.population()
    assert "method" not in overall and overall["N"] == 200  # verdict strata: the whole set is a union of them
    model = "model-2"
    got = scope.population(model=model)
    assert got["method"] == "domain"
    # Hand computation of the ratio estimator: sum_h N_h/n_h b_h / sum_h N_h/n_h a_h.
    numerator = denominator = 0.0
    for stratum, population, sample in stratum_sizes(engine, session.id):
        units = [u for u in design.units if u.stratum == stratum]
        assert len(units) == sample
        mine = [u for u in units if u.model == model]
        numerator += population / sample * sum(u.label or 0 for u in mine)
        denominator += population / sample * len(mine)
    assert got["estimate"] == pytest.approx(numerator / denominator, abs=1e-12)
    assert got["N_domain"] == pytest.approx(denominator, abs=1e-9)
    assert got["se"] is not None and got["se"] > 0


def test_a_stratum_that_drew_nothing_makes_the_estimate_undefined(engine: Engine) -> None:
    add_synthetic_patches(engine, 120, models=3, seed=1)
    session = create_session(engine, "tiny", SampleSpec(size=3, seed=4, strata=("model", "verdict", "repo")))
    with write_transaction(engine) as conn:
        for patch in session_patches(engine, session.id):
            insert_verdict(conn, patch_id=patch.patch_id, reviewer="ana", verdict="pass", session_id=session.id)
    population = SessionScope(load_session_design(engine, session.id)).population()
    assert population["estimate"] is None and "none audited" in population["reason"]
    assert population["N"] == 120


def test_domain_estimator_equals_the_stratified_one_on_whole_strata() -> None:
    strata = [Stratum("m", "pass", 300, 20, 15), Stratum("m", "fail", 700, 30, 6), Stratum("m", "error", 50, 50, 4)]
    plain = corrected_pass_rate(strata)
    domain = domain_pass_rate([DomainStratum(s, s.audited, s.human_pass) for s in strata], "m")
    assert domain.estimate == pytest.approx(plain.estimate, abs=1e-15)
    assert domain.se == pytest.approx(plain.se, abs=1e-15)
    assert domain.domain_size == pytest.approx(1050)
    assert domain_pass_rate([DomainStratum(strata[0], 0, 0)], "x").reason == "no audited item of x"


# --- coverage by simulation -------------------------------------------------------------------------------

SIMULATIONS = 1500
MODELS = ("m0", "m1", "m2", "m3")
REPOS = ("r0", "r1", "r2", "r3")
SPEC = SampleSpec(size=400, strata=("verdict", "repo"))  # not the default, and not stratified by model


def _population() -> tuple[list[Candidate], dict[int, int], dict[int, str]]:
    """A frame of 2,000 patches with fixed human labels whose pass rate depends on model, verdict and repo."""
    rng = np.random.default_rng(20240611)
    candidates, labels, models = [], {}, {}
    for n in range(2000):
        model, repo = MODELS[n % 4], REPOS[(n // 4) % 4]
        verdict = "pass" if rng.random() < 0.3 + 0.1 * (n % 4) else "fail"
        chance = (0.85 if verdict == "pass" else 0.2) - 0.08 * (n % 4) + 0.05 * ((n // 4) % 4)
        labels[n] = int(rng.random() < chance)
        models[n] = model
        key = stratum_key({"verdict": verdict, "repo": repo})
        candidates.append(Candidate(n, "bench", f"{repo}__task-{n // 4:04d}", model, key))
    candidates.sort(key=lambda c: c.sort_key)
    return candidates, labels, models


def _design(candidates: list[Candidate], labels: dict[int, int], seed: int) -> SessionDesign:
    """What load_session_design returns for a session drawn with this seed and fully graded."""
    drawn = draw_sample(candidates, replace(SPEC, seed=seed))
    units = tuple(
        SessionUnit(d.candidate.stratum, d.candidate.model, "", "bench", "pass", labels[d.candidate.patch_id])
        for d in drawn
    )
    populations = {d.candidate.stratum: d.stratum_population for d in drawn}
    return SessionDesign("sim", SPEC.strata, (), populations, units)


def test_session_intervals_cover_the_truth() -> None:
    candidates, labels, models = _population()
    truth = {None: np.mean(list(labels.values()))}
    for model in MODELS:
        truth[model] = np.mean([labels[n] for n in labels if models[n] == model])
    results: dict[str | None, list[tuple[float, float, float, float]]] = {key: [] for key in truth}
    for seed in range(SIMULATIONS):
        design = _design(candidates, labels, seed)
        for model in truth:
            got = design_estimate(design, models=None if model is None else {model})
            assert got.estimate is not None and got.se is not None and got.ci_low is not None
            assert got.ci_high is not None
            assert got.domain == (model is not None)
            results[model].append((got.estimate, got.se, got.ci_low, got.ci_high))
    for model, rows in results.items():
        estimates, ses, lows, highs = (np.array(column) for column in zip(*rows, strict=True))
        covered = ((lows <= truth[model]) & (truth[model] <= highs)).mean()
        assert 0.93 <= covered <= 0.97, (model, covered)
        assert abs(estimates.mean() - truth[model]) <= ses.mean(), model

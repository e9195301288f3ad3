"""Statistics per rubric question: shares, agreement checked against krippendorff and scikit-learn to 1e-9, the
Verified filter (`--where`) by hand, and agreement with OpenAI's published ensemble on a fixture in its layout."""

from __future__ import annotations

import random
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from grader.core.importers.labels import import_labels
from grader.core.stats.data import load_stat_records
from grader.core.stats.rubric_scope import rubric_figures

from .rubric_store import build_store, grade, stored

LABELS = Path(__file__).resolve().parent.parent / "data" / "labels"


def _question(figures: dict, rubric: str, question: str) -> dict:
    return next(q for q in figures["rubric"][rubric]["questions"] if q["id"] == question)


def test_agreement_matches_krippendorff_and_scikit_learn(sqlite_engine: Engine) -> None:
    rng = random.Random(7)
    tasks = 40
    ids = build_store(sqlite_engine, tasks, {"m1": ["pass"] * tasks})
    _, rubric_id = stored(sqlite_engine, "patchdiff")
    reviewers = ["ana", "ben", "cy"]
    levels = ["incorrect", "unsure", "correct"]
    matrix = np.full((3, tasks), np.nan)
    for n in range(tasks):
        truth = rng.randrange(3)
        for r, reviewer in enumerate(reviewers):
            if rng.random() < 0.25:
                continue  # this reviewer did not grade the patch
            level = truth if rng.random() < 0.7 else rng.randrange(3)
            matrix[r, n] = level
            grade(
                sqlite_engine, ids[("m1", n)], reviewer, "pass", rubric_id, divergent="yes", correctness=levels[level]
            )
    figures = rubric_figures(sqlite_engine)
    question = _question(figures, "patchdiff", "correctness")
    alpha = question["agreement"]["krippendorff_alpha"]
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal", value_domain=[0, 1, 2])
    assert alpha["metric"] == "ordinal"
    assert alpha["value"] == pytest.approx(expected, abs=1e-9)
    for pair in question["agreement"]["pairs"]:
        a, b = (reviewers.index(name) for name in pair["raters"])
        both = ~np.isnan(matrix[a]) & ~np.isnan(matrix[b])
        reference = cohen_kappa_score(matrix[a][both], matrix[b][both], labels=[0, 1, 2], weights="quadratic")
        assert pair["value"] == pytest.approx(reference, abs=1e-9)
        assert pair["n"] == int(both.sum())
    # A nominal question: alpha with the nominal metric.
    divergent = _question(figures, "patchdiff", "divergent")
    assert divergent["agreement"]["krippendorff_alpha"]["reason"] == "alpha undefined: every value is the same"


def test_shares_per_model_and_overall(sqlite_engine: Engine) -> None:
    ids = build_store(sqlite_engine, 4, {"m1": ["pass"] * 4, "m2": ["fail"] * 4})
    _, rubric_id = stored(sqlite_engine, "verifier-audit")
    for n, label in enumerate(["correct", "cheated", "correct", "incorrect"]):
        grade(sqlite_engine, ids[("m1", n)], "ana", "pass", rubric_id, label=label, reason="r")
    grade(sqlite_engine, ids[("m2", 0)], "ana", "fail", rubric_id, label="incorrect", reason="r")
    question = _question(rubric_figures(sqlite_engine), "verifier-audit", "label")
    shares = {o["value"]: o for o in question["options"]}
    assert shares["correct"]["overall"]["count"] == 2 and shares["correct"]["overall"]["n"] == 5
    assert shares["cheated"]["by_model"]["m1"]["value"] == pytest.approx(0.25)
    assert shares["incorrect"]["by_model"]["m2"]["value"] == 1.0
    assert 0 < shares["correct"]["overall"]["ci_low"] < 0.4 < shares["correct"]["overall"]["ci_high"] < 1


def _verified_store(engine: Engine) -> tuple[dict, int]:
    # Six tasks, two models; every patch audited (a census), so the corrected rate is a plain share.
    ids = build_store(engine, 6, {"m1": ["pass", "pass", "fail", "pass", "pass", "fail"], "m2": ["pass"] * 6})
    _, rubric_id = stored(engine, "swebench-verified")
    underspecified = ["0", "2", "1", "3", "0", "1"]
    humans = {
        "m1": ["pass", "pass", "fail", "fail", "pass", "fail"],
        "m2": ["pass", "fail", "pass", "fail", "fail", "pass"],
    }
    for model, verdicts in humans.items():
        for n, verdict in enumerate(verdicts):
            grade(
                engine,
                ids[(model, n)],
                "ana",
                verdict,
                rubric_id,
                underspecified=underspecified[n],
                false_negative="0",
                other_major_issues="0",
            )
    return ids, rubric_id


def test_the_verified_filter_reproduces_by_hand(sqlite_engine: Engine) -> None:
    _verified_store(sqlite_engine)
    records = load_stat_records(sqlite_engine)
    where = rubric_figures(sqlite_engine, records=records, where="underspecified>=2")["where"]
    # Tasks 1 and 3 are dropped (underspecified 2 and 3). Kept, by hand: m1 tasks 0,2,4,5 -> pass, fail, pass,
    # fail = 2/4; m2 tasks 0,2,4,5 -> pass, pass, fail, pass = 3/4; overall 5/8.
    assert where["method"] == "restricted population"
    assert where["audited"] == {"dropped": 4, "kept": 8, "unknown": 0}
    assert where["by_model"]["m1"]["estimate"] == pytest.approx(2 / 4)
    assert where["by_model"]["m2"]["estimate"] == pytest.approx(3 / 4)
    assert where["overall"]["estimate"] == pytest.approx(5 / 8)
    kept_or = rubric_figures(sqlite_engine, records=records, where="underspecified>=3 or underspecified==0")["where"]
    assert kept_or["audited"]["kept"] == 6  # tasks 1, 2, 5


def test_the_filter_on_a_sample_is_a_domain_estimate(sqlite_engine: Engine) -> None:
    # m1: 4 verifier-pass patches (2 audited), 2 verifier-fail patches (1 audited).
    ids = build_store(sqlite_engine, 6, {"m1": ["pass", "pass", "pass", "pass", "fail", "fail"]})
    _, rubric_id = stored(sqlite_engine, "swebench-verified")
    answers = {"false_negative": "0", "other_major_issues": "0"}
    grade(sqlite_engine, ids[("m1", 0)], "ana", "pass", rubric_id, underspecified="0", **answers)
    grade(sqlite_engine, ids[("m1", 1)], "ana", "fail", rubric_id, underspecified="3", **answers)
    grade(sqlite_engine, ids[("m1", 4)], "ana", "fail", rubric_id, underspecified="1", **answers)
    where = rubric_figures(sqlite_engine, records=load_stat_records(sqlite_engine), where="underspecified>=2")["where"]
    # By hand: R = sum N_h/n_h b_h / sum N_h/n_h a_h = (4/2 * 1 + 2/1 * 0) / (4/2 * 1 + 2/1 * 1) = 2 / 4.
    assert where["method"] == "domain"
    assert where["overall"]["estimate"] == pytest.approx(0.5)
    assert where["overall"]["N_domain"] == pytest.approx(4.0)


def test_agreement_with_the_published_ensemble(sqlite_engine: Engine) -> None:
    _verified_store(sqlite_engine)
    report = import_labels(sqlite_engine, LABELS / "openai_verified_annotations.csv", rater="openai-verified")
    assert report.added == {"labels": 6 * 4 + 6}  # 4 labels a task, 6 notes
    again = import_labels(sqlite_engine, LABELS / "openai_verified_annotations.csv", rater="openai-verified")
    assert again.total_added == 0 and again.already_imported
    with pytest.raises(DBAPIError, match="append-only"), sqlite_engine.begin() as conn:
        conn.exec_driver_sql("UPDATE external_label SET value = '0'")
    figures = rubric_figures(sqlite_engine, against="openai-verified")
    underspecified = figures["against"]["questions"]["underspecified"]
    ours = [0, 2, 1, 3, 0, 1]
    published = [0, 2, 1, 0, 3, 1]
    assert underspecified["tasks_both_rated"] == 6
    expected = cohen_kappa_score(ours, published, labels=[0, 1, 2, 3], weights="quadratic")
    assert underspecified["weighted_kappa"]["value"] == pytest.approx(expected, abs=1e-9)
    alpha = krippendorff.alpha(
        reliability_data=np.array([ours, published], dtype=float),
        level_of_measurement="ordinal",
        value_domain=[0, 1, 2, 3],
    )
    assert underspecified["krippendorff_alpha"]["value"] == pytest.approx(alpha, abs=1e-9)
    table = underspecified["confusion"]["table"]
    assert table[3][0] == 1 and table[0][3] == 1 and table[2][2] == 1
    other = figures["against"]["questions"]["other_major_issues"]
    assert other["weighted_kappa"]["weights"] == "none"
    assert other["confusion"]["table"] == [[5, 1], [0, 0]]


def test_a_filter_on_published_labels_restricts_the_population(sqlite_engine: Engine) -> None:
    _verified_store(sqlite_engine)
    import_labels(sqlite_engine, LABELS / "openai_verified_annotations.csv", rater="openai-verified")
    expression = " or ".join(
        f"openai-verified:{clause}" for clause in ("underspecified>=2", "false_negative>=2", "other_major_issues==1")
    )
    where = rubric_figures(sqlite_engine, records=load_stat_records(sqlite_engine), where=expression)["where"]
    # The fixture's filter_out column: tasks 0 and 5 are kept. Kept humans: m1 pass, fail; m2 pass, pass.
    assert where["method"] == "restricted population"
    assert where["overall"]["N"] == 4
    assert where["overall"]["estimate"] == pytest.approx(3 / 4)


def test_bad_filters_say_why(sqlite_engine: Engine) -> None:
    from grader.core.stats.rubric_filter import FilterError

    _verified_store(sqlite_engine)
    for expression, problem in [
        ("underspecified>=7", "not an option"),
        ("nosuch>=1", "no question 'nosuch'"),
        ("other_major_issues>=1", "not ordinal"),
        ("underspecified>=2 or false_negative>=2 and other_major_issues==1", "either `or` or `and`"),
        ("openai-verified:underspecified>=2", "no labels of 'openai-verified'"),
    ]:
        with pytest.raises(FilterError, match=problem):
            rubric_figures(sqlite_engine, where=expression)


@pytest.mark.realdata
def test_the_published_filter_reproduces_openai_filter_out(shared_data: Path, sqlite_engine: Engine) -> None:
    """On OpenAI's real file: dropping underspecified>=2 or false_negative>=2 or other_major_issues==1 is exactly
    its `filter_out` column, for all 1,699 tasks."""
    import csv

    from grader.core.importers.rubrics import load_rubric
    from grader.core.stats.rubric_data import load_external_labels
    from grader.core.stats.rubric_filter import item_status, parse_filter

    path = shared_data / "openai_swebench_verified_ensembled_annotations_public.csv"
    import_labels(sqlite_engine, path, rater="openai-verified")
    _, labels = load_external_labels(sqlite_engine, "openai-verified")
    rule = parse_filter(
        " or ".join(
            f"openai-verified:{clause}"
            for clause in ("underspecified>=2", "false_negative>=2", "other_major_issues==1")
        ),
        {},
        {"openai-verified": load_rubric("swebench-verified")},
    )
    with open(path, encoding="utf-8", newline="") as handle:
        published = {row["instance_id"]: row["filter_out"] == "True" for row in csv.DictReader(handle)}
    assert len(published) == 1699
    ours = {iid: item_status(rule, None, iid, {}, {"openai-verified": labels}) for iid in published}
    assert ours == published

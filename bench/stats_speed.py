"""Statistics speed: full recomputation and the live panel's update after one verdict, for 44k items.

    python bench/stats_speed.py [--items 44000] [--repeat 5] [--json]

Builds synthetic items (40 models, three human verdicts each, some errors, unknowns and adjudications) in
memory, then times, in this process:
- full recompute: records → columns → overall, per-model and leaderboard figures (`compute_report`);
- incremental: `LiveStats.apply_verdict` for one verdict, returning the updated overall summary;
- baseline: the same overall figures from statsmodels (kappa, Wilson, McNemar, Fleiss) and the krippendorff
  package on label arrays built per item in plain Python.
Medians are reported. Targets: full recompute < 100 ms, incremental < 5 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.core.stats.columns import StatColumns
from grader.core.stats.data import HumanVerdict, ItemRecord
from grader.core.stats.report import LiveStats, compute_report

REVIEWERS = ("ana", "bo", "cy", "dee", "eli")


def synthetic_items(count: int, seed: int = 1) -> list[ItemRecord]:
    rng = random.Random(seed)
    records = []
    for index in range(count):
        truth = rng.random() < 0.45
        verifier = "pass" if (truth and rng.random() < 0.85) or (not truth and rng.random() < 0.1) else "fail"
        if rng.random() < 0.03:
            verifier = rng.choice(("error", "unknown"))
        verdicts = []
        for reviewer in rng.sample(REVIEWERS, 3):
            correct = rng.random() < 0.9
            verdict = "unsure" if rng.random() < 0.05 else "pass" if truth == correct else "fail"
            verdicts.append(HumanVerdict(reviewer, verdict, "review", None, ()))
        if rng.random() < 0.01:
            verdicts.append(HumanVerdict("lead", "pass" if truth else "fail", "adjudication"))
        records.append(
            ItemRecord(
                patch_id=index + 1,
                model=f"model-{index % 40:02d}",
                benchmark="verified",
                repo=f"org/repo{index % 12}",
                verifier_verdict=verifier,
                input_tokens=rng.randint(1000, 90000),
                output_tokens=rng.randint(100, 9000),
                input_cost_usd=rng.random() / 10,
                output_cost_usd=rng.random() / 50,
                verdicts=verdicts,
            )
        )
    return records


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_full(records: list[ItemRecord], repeat: int) -> tuple[float, float]:
    totals, columns_only = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        StatColumns.from_records(records)
        columns_only.append(time.perf_counter() - start)
        start = time.perf_counter()
        compute_report(records)
        totals.append(time.perf_counter() - start)
    return median_ms(totals), median_ms(columns_only)


def time_incremental(records: list[ItemRecord], updates: int) -> tuple[float, float, float]:
    start = time.perf_counter()
    live = LiveStats(records)
    build = time.perf_counter() - start
    rng = random.Random(5)
    samples = []
    for _ in range(updates):
        record = records[rng.randrange(len(records))]
        verdict = rng.choice(("pass", "fail", "unsure"))
        start = time.perf_counter()
        live.apply_verdict(record.patch_id, rng.choice(REVIEWERS), verdict)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return median_ms(samples), samples[int(len(samples) * 0.99)] * 1000, build * 1000


def time_baseline(records: list[ItemRecord], repeat: int) -> float:
    """The overall figures the usual way: per-item Python labels, then statsmodels and krippendorff."""
    import krippendorff
    import numpy as np
    from statsmodels.stats.contingency_tables import mcnemar
    from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa
    from statsmodels.stats.proportion import proportion_confint

    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        verifier, human = [], []
        ratings = np.full((len(REVIEWERS), len(records)), np.nan)
        for column, record in enumerate(records):
            adjudicated = [v.verdict for v in record.verdicts if v.source == "adjudication" and v.verdict != "unsure"]
            votes = [v.verdict for v in record.verdicts if v.source != "adjudication"]
            for v in record.verdicts:
                if v.source != "adjudication" and v.verdict in ("pass", "fail"):
                    ratings[REVIEWERS.index(v.reviewer), column] = v.verdict == "pass"
            passes, fails = votes.count("pass"), votes.count("fail")
            label = (adjudicated[-1] == "pass") if adjudicated else (None if passes == fails else passes > fails)
            if label is None or record.verifier_verdict == "unknown":
                continue
            verifier.append(record.verifier_verdict == "pass")
            human.append(label)
        v, h = np.array(verifier), np.array(human)
        table = np.array([[np.sum(v & h), np.sum(v & ~h)], [np.sum(~v & h), np.sum(~v & ~h)]])
        cohens_kappa(table)
        for count, n in ((table[0].sum(), table.sum()), (table[0, 1], table[0].sum()), (table[1, 0], table[1].sum())):
            proportion_confint(count, n, method="wilson")
        mcnemar(table, exact=True)
        complete = ratings[:, ~np.isnan(ratings).any(axis=0)]
        if complete.shape[1]:
            fleiss_kappa(np.stack([(complete == 1).sum(0), (complete == 0).sum(0)], axis=1))
        krippendorff.alpha(ratings, level_of_measurement="nominal")
        samples.append(time.perf_counter() - start)
    return median_ms(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=44000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table.")
    args = parser.parse_args()
    records = synthetic_items(args.items)
    full, columns = time_full(records, args.repeat)
    incremental, incremental_p99, live_build = time_incremental(records, args.updates)
    baseline = time_baseline(records, args.repeat)
    result = {
        "items": args.items,
        "verdicts": sum(len(r.verdicts) for r in records),
        "full_recompute_ms": round(full, 2),
        "of_which_columns_ms": round(columns, 2),
        "incremental_ms": round(incremental, 3),
        "incremental_p99_ms": round(incremental_p99, 3),
        "live_build_ms": round(live_build, 2),
        "baseline_statsmodels_ms": round(baseline, 2),
        "targets": {"full_recompute_ms": 100, "incremental_ms": 5},
    }
    if args.json:
        print(json.dumps(result))
        return
    rows = [
        ("full recompute (overall + per model + leaderboard)", f"{full:.1f} ms", "< 100 ms"),
        ("  of which records → columns", f"{columns:.1f} ms", ""),
        ("incremental update after one verdict (median)", f"{incremental:.3f} ms", "< 5 ms"),
        ("incremental update (99th percentile)", f"{incremental_p99:.3f} ms", "< 5 ms"),
        ("LiveStats build", f"{live_build:.1f} ms", ""),
        ("baseline: per-item Python + statsmodels/krippendorff", f"{baseline:.1f} ms", ""),
    ]
    print(f"{args.items} items, {result['verdicts']} human verdicts; medians of {args.repeat} runs")
    width = max(len(r[0]) for r in rows)
    for label, value, target in rows:
        print(f"{label.ljust(width)}  {value:>12}  {target}")


if __name__ == "__main__":
    main()

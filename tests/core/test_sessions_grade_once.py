"""Grade once: identical sampled patches of one task are graded once per reviewer and the verdict propagates to
the other sampled copies (both backends); the corrected estimates stay unbiased (simulation)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy import Engine, select

from grader.core.audit.assignment import claim_next, reviewer_has_work, session_progress
from grader.core.audit.gold import mark_gold
from grader.core.audit.sampling import Candidate, SampleSpec, draw_sample, stratum_key
from grader.core.audit.session_verdicts import PROPAGATED_SOURCE, submit_session_verdict
from grader.core.audit.sessions import create_session, session_patches
from grader.core.audit.synthetic import add_synthetic_patches
from grader.core.stats.data import HumanVerdict
from grader.core.stats.session import SessionDesign, SessionUnit, design_estimate
from grader.core.stats.tally import item_facts
from grader.core.store.models import RETRACTED, Patch, Reviewer, SessionAssignment, Task, Verdict
from grader.core.store.verdicts import current_verdicts_query


@pytest.fixture
def store(engine: Engine) -> Engine:
    """120 synthetic patches (40 tasks x 3 models) where many copies of one task are identical.

    Task n: n % 3 == 0, all three patches identical; n % 3 == 1, models 0 and 1 identical (byte-different:
    an index line and a hunk offset); n % 3 == 2, all distinct. The hashes are left empty: creating a session
    fills them."""
    add_synthetic_patches(engine, 120, models=3, seed=1)
    p, t = Patch.__table__, Task.__table__
    with engine.begin() as conn:
        rows = conn.execute(
            select(p.c.id, t.c.instance_id, p.c.submission_id).join(t, t.c.id == p.c.task_id).order_by(p.c.id)
        ).all()
        for patch_id, instance_id, submission_id in rows:
            task = int(instance_id.rsplit("-", 1)[1])
            model = (submission_id - min(r[2] for r in rows)) % 3
            if task % 3 == 0 or (task % 3 == 1 and model < 2):
                text = f"--- a/g{task}.py\n+++ b/g{task}.py\n@@ -{1 + model} +1 @@\n-old\n+same {task}\n"
                if model == 1:
                    text = f"index 1234..5678 100644\n{text}  \n"
                conn.execute(p.update().where(p.c.id == patch_id).values(raw_patch=text, norm_hash=None))
    return engine


def _groups(engine: Engine, session_id: int) -> dict[int, tuple[str, str]]:
    """patch id -> (task, raw text with the volatile parts removed), computed here independently of the core."""
    p, t = Patch.__table__, Task.__table__
    sampled = {sp.patch_id for sp in session_patches(engine, session_id)}
    with engine.connect() as conn:
        rows = conn.execute(select(p.c.id, t.c.instance_id, p.c.raw_patch).join(t, t.c.id == p.c.task_id)).all()
    out = {}
    for patch_id, task, raw in rows:
        if patch_id in sampled:
            lines = [x.rstrip() for x in raw.splitlines() if not x.startswith("index ")]
            out[patch_id] = (task, "\n".join("@@" if x.startswith("@@") else x for x in lines).strip())
    return out


def _current(engine: Engine, session_id: int) -> list[tuple[int, str, str, str, str]]:
    current = current_verdicts_query().subquery()
    r = Reviewer.__table__
    with engine.connect() as conn:
        return [
            tuple(row)  # type: ignore[misc]
            for row in conn.execute(
                select(current.c.patch_id, r.c.name, current.c.verdict, current.c.source, current.c.note)
                .join(r, r.c.id == current.c.reviewer_id)
                .where(current.c.session_id == session_id, current.c.verdict != RETRACTED)
            )
        ]


def test_each_reviewer_grades_each_distinct_patch_once(store: Engine) -> None:
    session = create_session(store, "once", SampleSpec(size=60, seed=3, overlap=2, reviewers=("ana", "ben")))
    groups = _groups(store, session.id)
    distinct = set(groups.values())
    assert len(groups) == 60 and len(distinct) < 50  # the sample really holds duplicates
    claims: Counter[str] = Counter()
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    active = ["ana", "ben"]
    while active:
        for reviewer in list(active):
            patch_id = claim_next(store, session.id, reviewer)
            if patch_id is None:
                assert not reviewer_has_work(store, session.id, reviewer)
                active.remove(reviewer)
                continue
            assert groups[patch_id] not in seen[reviewer], "a copy of a patch this reviewer already graded"
            seen[reviewer].add(groups[patch_id])
            claims[reviewer] += 1
            verdict = "pass" if hash(groups[patch_id]) % 2 else "fail"
            result = submit_session_verdict(
                store, session_id=session.id, patch_id=patch_id, reviewer=reviewer, verdict=verdict
            )
            assert result.counted
            assert sorted(result.propagated) == sorted(
                q for q, g in groups.items() if g == groups[patch_id] and q != patch_id
            )
    assert claims == {"ana": len(distinct), "ben": len(distinct)}
    rows = _current(store, session.id)
    by_patch: dict[int, list[str]] = defaultdict(list)
    for patch_id, reviewer, _, _, _ in rows:
        by_patch[patch_id].append(reviewer)
    assert set(by_patch) == set(groups)
    assert all(sorted(names) == ["ana", "ben"] for names in by_patch.values())
    sources = Counter(source for *_, source, _ in rows)
    assert sources == {"review": 2 * len(distinct), PROPAGATED_SOURCE: 2 * (len(groups) - len(distinct))}
    # A propagated verdict points to its source verdict: same reviewer, same verdict, a copy of the patch.
    v = Verdict.__table__
    with store.connect() as conn:
        uids = {uid: (pid, verdict) for uid, pid, verdict in conn.execute(select(v.c.uid, v.c.patch_id, v.c.verdict))}
    for patch_id, _, verdict, source, note in rows:
        if source == PROPAGATED_SOURCE:
            source_patch, source_verdict = uids[note.removeprefix("propagated from ")]
            assert groups[source_patch] == groups[patch_id] and source_verdict == verdict
    progress = session_progress(store, session.id)
    assert progress.done == progress.slots == 120


def test_undo_retracts_the_propagated_copies(store: Engine) -> None:
    session = create_session(store, "undo", SampleSpec(size=120, seed=1, overlap=1))
    groups = _groups(store, session.id)
    patch_id = claim_next(store, session.id, "ana")
    assert patch_id is not None
    while len([q for q in groups if groups[q] == groups[patch_id]]) < 3:  # find a group of three
        submit_session_verdict(store, session_id=session.id, patch_id=patch_id, reviewer="ana", verdict="pass")
        patch_id = claim_next(store, session.id, "ana")
        assert patch_id is not None
    copies = sorted(q for q in groups if groups[q] == groups[patch_id] and q != patch_id)
    first = submit_session_verdict(store, session_id=session.id, patch_id=patch_id, reviewer="ana", verdict="fail")
    assert sorted(first.propagated) == copies
    v = Verdict.__table__
    with store.connect() as conn:
        before = conn.execute(select(v.c.id)).all()
    undo = submit_session_verdict(store, session_id=session.id, patch_id=patch_id, reviewer="ana", verdict="retracted")
    assert sorted(undo.propagated) == copies
    with store.connect() as conn:
        rows = conn.execute(
            select(v.c.patch_id, v.c.verdict, v.c.source, v.c.note).where(v.c.id > max(r[0] for r in before))
        ).all()
        assert len(conn.execute(select(v.c.id)).all()) == len(before) + 3  # new rows; nothing deleted
        a = SessionAssignment.__table__
        group_slots = conn.execute(
            select(a.c.done_at, a.c.reviewer_id, a.c.lease_expires_at).where(
                a.c.session_id == session.id, a.c.patch_id.in_([patch_id, *copies])
            )
        ).all()
        assert len(group_slots) == 3
        assert all(s.done_at is None and s.reviewer_id is not None and s.lease_expires_at for s in group_slots)
    assert sorted(r.patch_id for r in rows if r.source == PROPAGATED_SOURCE) == copies
    assert all(r.verdict == RETRACTED for r in rows)
    assert all(r.note == f"propagated from {undo.saved.uid}" for r in rows if r.source == PROPAGATED_SOURCE)
    assert not [row for row in _current(store, session.id) if row[0] in (patch_id, *copies)]
    # The reviewer gets the group back (once) and grades it again.
    again = claim_next(store, session.id, "ana")
    assert again in (patch_id, *copies)
    redo = submit_session_verdict(store, session_id=session.id, patch_id=again, reviewer="ana", verdict="pass")
    assert sorted([again, *redo.propagated]) == sorted([patch_id, *copies])


def test_gold_items_stay_out_of_propagation(store: Engine) -> None:
    # Patches of tasks 0, 3, 6 ... are identical across the three models: mark model 0's copies gold.
    p, t = Patch.__table__, Task.__table__
    with store.connect() as conn:
        rows = conn.execute(select(p.c.id, t.c.instance_id).join(t, t.c.id == p.c.task_id).order_by(p.c.id)).all()
    first_of_task: dict[str, int] = {}
    for patch_id, task in rows:
        first_of_task.setdefault(task, patch_id)
    gold = [first_of_task[f"synth__repo-{n}"] for n in range(0, 40, 3)]
    for patch_id in gold:
        mark_gold(store, patch_id=patch_id, answer="pass")
    session = create_session(store, "gold", SampleSpec(size=60, seed=2, overlap=1, reviewers=("ana",), gold_share=0.2))
    a = SessionAssignment.__table__
    with store.connect() as conn:
        gold_in_session = set(
            conn.execute(
                select(a.c.patch_id).where(a.c.session_id == session.id, a.c.reserved_for.is_not(None))
            ).scalars()
        )
    assert gold_in_session
    while (patch_id := claim_next(store, session.id, "ana")) is not None:
        result = submit_session_verdict(store, session_id=session.id, patch_id=patch_id, reviewer="ana", verdict="pass")
        assert not set(result.propagated) & gold_in_session
        if patch_id in gold_in_session:
            assert result.propagated == ()
    assert not [row for row in _current(store, session.id) if row[0] in gold_in_session and row[3] != "review"]
    # Grading a gold copy never blocks the sampled copies of the same patch: the session completes.
    progress = session_progress(store, session.id)
    assert progress.done == progress.slots


def test_propagated_verdicts_are_votes_not_adjudications() -> None:
    copies = [HumanVerdict("ana", "fail", PROPAGATED_SOURCE), HumanVerdict("ben", "fail", PROPAGATED_SOURCE)]
    facts = item_facts("pass", [*copies, HumanVerdict("cy", "pass", "review")])
    assert (facts.label, facts.pass_votes, facts.fail_votes) == (0, 1, 2)
    assert not copies[0].is_adjudication


# --- unbiasedness by simulation -----------------------------------------------------------------------------

SIMULATIONS = 1000
MODELS = ("m0", "m1", "m2", "m3", "m4", "m5")
SPEC = SampleSpec(size=400, strata=("model", "verdict"))


def _population(
    reviewer_error: float,
) -> tuple[list[Candidate], dict[int, float], dict[int, str], dict[int, tuple[int, int]]]:
    """About 2,000 patches over 334 tasks x 6 models, many of them copies of each other.

    Per task, each model either copies an earlier model's patch or writes its own; models 0-2 copy often (more
    on easy tasks), models 3-5 rarely, so group sizes vary (1-6) and go with the model and with the label.
    Each distinct patch has a true label y (pass with a probability q that depends on the task and the model),
    which its copies share; the reviewer errs with probability e = reviewer_error, so the expected human label of a
    patch is e + (1 - 2e) y. The verifier's verdict follows q, with noise per copy."""
    rng = np.random.default_rng(7_2026)
    candidates, expected, models, group_of = [], {}, {}, {}
    patch_id = 0
    for task in range(334):
        easy = rng.random() < 0.5
        groups: list[tuple[int, float]] = []
        for m, model in enumerate(MODELS):
            copy_chance = (0.75 if easy else 0.35) if m < 3 else 0.1
            if groups and rng.random() < copy_chance:
                group, q = groups[int(rng.integers(len(groups)))]
            else:
                q = float(rng.uniform(0.6, 0.97) if easy else rng.uniform(0.03, 0.5)) - 0.04 * m
                group = len(groups)
                label = float(rng.random() < q)
                q = reviewer_error + (1 - 2 * reviewer_error) * label
                groups.append((group, q))
            verdict = "pass" if rng.random() < (0.8 * q + 0.1) else "fail"
            key = stratum_key({"model": model, "verdict": verdict})
            candidates.append(Candidate(patch_id, "bench", f"repo__task-{task:04d}", model, key))
            expected[patch_id] = q
            models[patch_id] = model
            group_of[patch_id] = (task, group)
            patch_id += 1
    candidates.sort(key=lambda c: c.sort_key)
    return candidates, expected, models, group_of


def _graded_once(
    candidates: list[Candidate],
    expected: dict[int, float],
    group_of: dict[int, tuple[int, int]],
    seed: int,
    *,
    independent: bool = False,
) -> tuple[SessionDesign, int]:
    """A session drawn with this seed where the reviewer grades one copy per group of the sample (a noisy
    pass/fail with probability q) and that verdict is propagated to the other sampled copies; the labels go
    through the statistics' label rule. Returns the design and the number of propagated labels.
    `independent` grades every sampled copy on its own instead (the comparison without grade once)."""
    drawn = draw_sample(candidates, replace(SPEC, seed=seed))
    rng = np.random.default_rng(seed)
    given: dict[tuple[int, int], str] = {}
    units, propagated = [], 0
    for d in drawn:  # in the session's order: the first copy met is the one graded
        pid = d.candidate.patch_id
        group = group_of[pid]
        if group in given and not independent:
            source, propagated = PROPAGATED_SOURCE, propagated + 1
        else:
            given[group] = "pass" if rng.random() < expected[pid] else "fail"
            source = "review"
        verifier = json_verdict(d.candidate.stratum)
        label = item_facts(verifier, [HumanVerdict("ana", given[group], source)]).label
        units.append(SessionUnit(d.candidate.stratum, d.candidate.model, "", "bench", verifier, label))
    populations = {d.candidate.stratum: d.stratum_population for d in drawn}
    return SessionDesign("sim", SPEC.strata, (), populations, tuple(units)), propagated


def json_verdict(stratum: str) -> str:
    return "pass" if '"verdict": "pass"' in stratum else "fail"


def test_grade_once_estimates_are_unbiased() -> None:
    candidates, expected, models, group_of = _population(0.0)
    sizes = Counter(Counter(group_of.values()).values())  # group size -> number of groups
    copies = sum(size * count for size, count in sizes.items() if size > 1)
    assert max(sizes) >= 4 and copies > 0.3 * len(expected)  # many duplicates, groups of varying size
    truth: dict[str | None, float] = {None: float(np.mean(list(expected.values())))}
    for model in ("m0", "m5"):
        truth[model] = float(np.mean([q for pid, q in expected.items() if models[pid] == model]))
    results: dict[str | None, list[tuple[float, float, float, float]]] = {key: [] for key in truth}
    propagated = []
    for seed in range(SIMULATIONS):
        design, count = _graded_once(candidates, expected, group_of, seed)
        propagated.append(count)
        for model in truth:
            got = design_estimate(design, models=None if model is None else {model})
            assert got.estimate is not None and got.se is not None
            assert got.ci_low is not None and got.ci_high is not None
            results[model].append((got.estimate, got.se, got.ci_low, got.ci_high))
    assert np.mean(propagated) > 20  # every session propagates verdicts to many sampled copies
    for model, rows in results.items():
        estimates, ses, lows, highs = (np.array(column) for column in zip(*rows, strict=True))
        covered = ((lows <= truth[model]) & (truth[model] <= highs)).mean()
        assert 0.93 <= covered <= 0.97, (model, covered)
        assert abs(estimates.mean() - truth[model]) <= ses.mean(), model


NOISY_SIMULATIONS = 500


def test_grade_once_with_a_noisy_reviewer_changes_nothing_in_expectation() -> None:
    """A reviewer who errs 5% of the time: grade once stays unbiased for the expected human label, and its
    coverage matches grading every copy independently. (Both fall a little below 95%: the finite-population
    correction treats the labels as fixed, so reviewer noise is not in the interval, with or without grade
    once; see docs/statistics.md.)"""
    candidates, expected, _, group_of = _population(0.05)
    truth = float(np.mean(list(expected.values())))
    coverage = {}
    for independent in (False, True):
        rows = []
        for seed in range(NOISY_SIMULATIONS):
            design, _ = _graded_once(candidates, expected, group_of, seed, independent=independent)
            got = design_estimate(design)
            assert got.estimate is not None and got.se is not None
            assert got.ci_low is not None and got.ci_high is not None
            rows.append((got.estimate, got.se, got.ci_low <= truth <= got.ci_high))
        estimates, ses, covered = (np.array(column) for column in zip(*rows, strict=True))
        assert abs(estimates.mean() - truth) <= ses.mean() / np.sqrt(NOISY_SIMULATIONS) * 3, independent
        coverage[independent] = covered.mean()
    assert abs(coverage[False] - coverage[True]) <= 0.03, coverage

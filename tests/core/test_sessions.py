"""Audit sessions on both backends: reproducible stratified samples, K distinct reviewers, leases, adjudication."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import Engine, select

from grader.core.audit.adjudication import adjudication_queue, record_adjudication, session_cases
from grader.core.audit.assignment import (
    AssignmentError,
    claim_next,
    queue_permutation,
    release_claim,
    reviewer_has_work,
    session_progress,
)
from grader.core.audit.sampling import SampleSpec, SamplingError, allocate
from grader.core.audit.session_verdicts import others_verdicts_visible, submit_session_verdict
from grader.core.audit.sessions import (
    SessionError,
    close_session,
    create_session,
    get_session,
    model_display_names,
    session_patches,
    stratum_sizes,
    unblind_session,
)
from grader.core.audit.synthetic import add_synthetic_patches
from grader.core.store.models import SessionAssignment, SessionItem


@pytest.fixture
def store(engine: Engine) -> Engine:
    add_synthetic_patches(engine, 120, models=3, seed=1)
    return engine


def _sample(engine: Engine, session_id: int) -> list[tuple[str, str]]:
    return sorted((p.task_id, p.model) for p in session_patches(engine, session_id))


def test_same_spec_and_seed_give_the_same_sample(store: Engine) -> None:
    spec = SampleSpec(size=30, seed=11)
    first = create_session(store, "a", spec)
    second = create_session(store, "b", spec)
    other_seed = create_session(store, "c", SampleSpec(size=30, seed=12))
    assert _sample(store, first.id) == _sample(store, second.id)
    assert _sample(store, first.id) != _sample(store, other_seed.id)
    # Pinned: the draw depends on values only, so it is the same on SQLite and PostgreSQL.
    assert _sample(store, first.id)[:3] == [
        ("synth__repo-1", "model-0"),
        ("synth__repo-10", "model-1"),
        ("synth__repo-10", "model-2"),
    ]
    with pytest.raises(SessionError, match="already exists"):
        create_session(store, "a", spec)


def test_per_stratum_sizes_match_the_spec(store: Engine) -> None:
    session = create_session(store, "ps", SampleSpec(per_stratum=5, seed=1, strata=("model", "verdict")))
    sizes = stratum_sizes(store, session.id)
    assert len(sizes) == 6  # 3 models x pass/fail
    assert sum(population for _, population, _ in sizes) == 120
    for stratum, population, sample in sizes:
        assert sample == min(5, population)
        assert Counter(p.stratum for p in session_patches(store, session.id))[stratum] == sample


def test_proportional_allocation_by_largest_remainder() -> None:
    assert allocate({"a": 50, "b": 30, "c": 20}, 10) == {"a": 5, "b": 3, "c": 2}
    assert allocate({"a": 5, "b": 3, "c": 3}, 5) == {"a": 2, "b": 2, "c": 1}  # remainders .27, .36, .36
    # Every non-empty stratum gets one when the size allows; the donor is the most over-allocated stratum.
    assert allocate({"a": 97, "b": 2, "c": 1}, 3) == {"a": 1, "b": 1, "c": 1}
    assert allocate({"a": 97, "b": 2, "c": 1}, 2) == {"a": 2, "b": 0, "c": 0}
    assert allocate({"a": 4, "b": 2}, 10) == {"a": 4, "b": 2}
    assert sum(allocate({str(k): k + 1 for k in range(20)}, 57).values()) == 57


def test_size_sample_matches_allocation_and_records_the_design(store: Engine) -> None:
    session = create_session(store, "sz", SampleSpec(size=25, seed=2, strata=("model",)))
    sizes = stratum_sizes(store, session.id)
    assert {population for _, population, _ in sizes} == {40}
    assert sorted(sample for _, _, sample in sizes) == [8, 8, 9]
    assert get_session(store, "sz").spec.size == 25


def test_filters_and_tag_strata(store: Engine) -> None:
    session = create_session(store, "f", SampleSpec(size=100, models=("model-0",), strata=("verdict",)))
    assert {p.model for p in session_patches(store, session.id)} == {"model-0"}
    with pytest.raises(SamplingError, match="no tag data"):
        create_session(store, "t", SampleSpec(size=10, strata=("tag",)))
    with pytest.raises(SamplingError, match="exactly one"):
        create_session(store, "t", SampleSpec())


def test_every_patch_gets_k_distinct_reviewers(store: Engine) -> None:
    session = create_session(store, "k", SampleSpec(size=20, seed=3, overlap=2, reviewers=("ana", "ben", "cy")))
    graded: Counter[str] = Counter()
    for _round in range(100):
        progressed = False
        for reviewer in ("ana", "ben", "cy"):
            patch_id = claim_next(store, session.id, reviewer)
            if patch_id is None:
                continue
            assert not others_verdicts_visible(store, session.id, reviewer, patch_id)
            result = submit_session_verdict(
                store, session_id=session.id, patch_id=patch_id, reviewer=reviewer, verdict="pass"
            )
            assert result.counted and others_verdicts_visible(store, session.id, reviewer, patch_id)
            graded[reviewer] += 1
            progressed = True
        if not progressed:
            break
    assert sum(graded.values()) == 40
    progress = session_progress(store, session.id)
    assert (progress.items, progress.done, progress.free) == (20, 40, 0)
    a = SessionAssignment.__table__
    with store.connect() as conn:
        per_item = Counter(conn.execute(select(a.c.session_item_id).where(a.c.done_at.is_not(None))).scalars())
    assert set(per_item.values()) == {2}
    for case in session_cases(store, session.id):
        assert len({v.reviewer for v in case.verdicts}) == 2
    with pytest.raises(AssignmentError, match="not a reviewer"):
        claim_next(store, session.id, "eve")


def test_reviewers_get_their_own_order_and_leases_expire(store: Engine) -> None:
    session = create_session(store, "lease", SampleSpec(size=10, seed=4, overlap=1))
    assert queue_permutation(session.id, "ana", 10) != queue_permutation(session.id, "ben", 10)
    first = claim_next(store, session.id, "ana", lease_seconds=60)
    assert first is not None
    # A live claim is resumed, not duplicated; nobody else gets that patch while it is leased.
    taken_by_others = {claim_next(store, session.id, f"r{n}", lease_seconds=60) for n in range(9)}
    assert first not in taken_by_others and None not in taken_by_others
    assert claim_next(store, session.id, "late", lease_seconds=60) is None
    assert claim_next(store, session.id, "ana", lease_seconds=0.5) == first  # resumed; the lease now runs out soon
    assert reviewer_has_work(store, session.id, "late")
    time.sleep(0.6)  # ana walked away: her lease returns to the pool
    assert claim_next(store, session.id, "late", lease_seconds=60) == first
    # ana comes back: her slot was taken, and every slot of the patch is leased, so her verdict is kept uncounted.
    late_verdict = submit_session_verdict(store, session_id=session.id, patch_id=first, reviewer="ana", verdict="fail")
    assert not late_verdict.counted
    assert release_claim(store, session.id, "late", first)
    assert claim_next(store, session.id, "other", lease_seconds=60) == first


def test_retraction_reopens_the_slot(store: Engine) -> None:
    session = create_session(store, "undo", SampleSpec(size=3, seed=5))
    patch_id = claim_next(store, session.id, "ana")
    assert patch_id is not None
    submit_session_verdict(store, session_id=session.id, patch_id=patch_id, reviewer="ana", verdict="pass")
    assert session_progress(store, session.id).done == 1
    submit_session_verdict(store, session_id=session.id, patch_id=patch_id, reviewer="ana", verdict="retracted")
    assert session_progress(store, session.id).done == 0
    assert claim_next(store, session.id, "ana") == patch_id  # still hers to grade again


def test_adjudication_queue_and_label(store: Engine) -> None:
    session = create_session(store, "adj", SampleSpec(size=4, seed=6, overlap=2))
    verdicts = {"ana": ["pass", "pass", "fail", "pass"], "ben": ["fail", "pass", "fail", "unsure"]}
    order = [p.patch_id for p in session_patches(store, session.id)]
    for reviewer, answers in verdicts.items():
        for patch_id, verdict in zip(order, answers, strict=True):
            submit_session_verdict(
                store,
                session_id=session.id,
                patch_id=patch_id,
                reviewer=reviewer,
                verdict=verdict,
                note=f"{reviewer} says {verdict}",
                tags=["incomplete"] if verdict == "fail" else [],
            )
    queue = adjudication_queue(store, session.id)
    assert [case.patch_id for case in queue] == [order[0]]
    case = queue[0]
    assert [(v.reviewer, v.verdict, v.note) for v in case.verdicts] == [
        ("ana", "pass", "ana says pass"),
        ("ben", "fail", "ben says fail"),
    ]
    assert case.verdicts[1].tags == ("incomplete",)
    with pytest.raises(AssignmentError, match="third person"):
        record_adjudication(store, session_id=session.id, patch_id=order[0], adjudicator="ana", verdict="pass")
    record_adjudication(store, session_id=session.id, patch_id=order[0], adjudicator="lead", verdict="fail")
    assert adjudication_queue(store, session.id) == []
    resolved = adjudication_queue(store, session.id, include_resolved=True)
    assert resolved[0].adjudication is not None and resolved[0].adjudication.verdict == "fail"


def test_close_and_unblind_are_recorded(store: Engine) -> None:
    session = create_session(store, "blind", SampleSpec(size=6, seed=7), created_by="lead")
    assert session.models_hidden
    shown = model_display_names(store, session)
    assert all(name.startswith("Model ") for name in shown.values())
    unblinded = unblind_session(store, "blind", actor="lead")
    assert not unblinded.models_hidden and unblinded.unblinded_by == "lead"
    assert model_display_names(store, unblinded)["model-0"] == "model-0"
    with pytest.raises(SessionError, match="already unblinded"):
        unblind_session(store, "blind", actor="lead")
    close_session(store, "blind", actor="lead")
    with pytest.raises(AssignmentError, match="closed"):
        claim_next(store, session.id, "ana")
    i = SessionItem.__table__
    with store.connect() as conn:
        assert conn.execute(select(i.c.id).where(i.c.session_id == session.id)).all()

"""`grader review --session`: patches come one lease at a time, verdicts carry the session, blind by design."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from grader.core.audit.assignment import session_progress
from grader.core.audit.sampling import SampleSpec
from grader.core.audit.sessions import create_session, get_session
from grader.core.store.models import Verdict
from grader.tui.app import GraderApp
from grader.tui.screens.review import ReviewScreen

from .review_helpers import MODEL_NAMES, review_store, screen_text, settle, wait_until


async def test_session_review_leases_one_patch_at_a_time(tmp_path: Path) -> None:
    engine = review_store(tmp_path / "g.db")
    spec = SampleSpec(size=4, seed=7, overlap=2, reviewers=("ana", "ben"), blind=True)
    create_session(engine, "audit-1", spec, created_by="lead")
    info = get_session(engine, "audit-1")
    app = GraderApp(engine, reviewer="ana", blind=False, session=info)  # the session's blinding wins
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.queue is not None
        assert screen.blind and "hidden until you" in screen_text(app)
        seen = []
        # Of the 4 sampled patches two are identical (acme__calc-2 in two benchmarks): graded once, so 3.
        for _ in range(3):
            seen.append(screen.shown_patch_id)
            text = screen_text(app)
            assert "Session audit-1" in text
            assert not any(name in text for name in MODEL_NAMES)
            await pilot.press("p")
            await wait_until(pilot, lambda: screen._pending_saves == 0 and not screen._waiting_for_claim)
            await settle(pilot)
        assert len(set(seen)) == 3
    v = Verdict.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(v.c.patch_id, v.c.session_id, v.c.source)).all()
    assert sorted(patch for patch, _, source in rows if source == "review") == sorted(seen)  # type: ignore[type-var]
    assert len(rows) == 4 and [source for _, _, source in rows].count("propagated") == 1
    assert {session for _, session, _ in rows} == {info.id}
    progress = session_progress(engine, info.id)
    assert (progress.items, progress.slots, progress.done) == (4, 8, 4)


async def test_adjudication_screen_settles_disagreements(tmp_path: Path) -> None:
    from grader.core.audit.adjudication import adjudication_queue
    from grader.core.audit.assignment import claim_next
    from grader.core.audit.session_verdicts import submit_session_verdict
    from grader.tui.screens.adjudicate import AdjudicationScreen

    engine = review_store(tmp_path / "g.db")
    create_session(engine, "audit-2", SampleSpec(size=3, seed=1, overlap=2, reviewers=("ana", "ben")), created_by="x")
    info = get_session(engine, "audit-2")
    for reviewer, verdict in (("ana", "pass"), ("ben", "fail")):
        while (patch_id := claim_next(engine, info.id, reviewer)) is not None:
            submit_session_verdict(
                engine,
                session_id=info.id,
                patch_id=patch_id,
                reviewer=reviewer,
                verdict=verdict,
                note=f"{reviewer} says",
            )
    cases = adjudication_queue(engine, info.id)
    assert len(cases) == 3
    app = GraderApp(engine, reviewer="cy", session=info, adjudicate=True)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, AdjudicationScreen)
        await wait_until(pilot, lambda: screen.shown_patch_id is not None)
        text = screen_text(app)
        assert "ana" in text and "ben" in text and "ana says" in text
        assert not any(name in text for name in MODEL_NAMES)
        await pilot.press("f")
        await wait_until(pilot, lambda: len(screen.adjudicated) == 1)
    assert len(adjudication_queue(engine, info.id)) == 2
    with engine.connect() as conn:
        sources = conn.execute(select(Verdict.__table__.c.source).where(Verdict.__table__.c.source == "adjudication"))
        assert len(sources.all()) == 1


async def test_live_stats_count_the_propagated_copies(tmp_path: Path) -> None:
    """Grading one of two identical sampled patches grades both (grade once): the live panel counts both."""
    from grader.core.stats.data import load_stat_records
    from grader.core.stats.report import LiveStats

    engine = review_store(tmp_path / "g.db")
    create_session(engine, "audit-3", SampleSpec(size=4, seed=7, overlap=1, reviewers=("ana",)), created_by="lead")
    info = get_session(engine, "audit-3")
    app = GraderApp(engine, reviewer="ana", session=info)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        for verdict in ("p", "f", "p"):
            await pilot.press(verdict)
            await wait_until(pilot, lambda: screen._pending_saves == 0 and not screen._waiting_for_claim)
            await settle(pilot)
        fresh = LiveStats(load_stat_records(engine, session_id=info.id)).summary()
        assert fresh["n"] == 4  # three graded by hand, one propagated copy
        assert screen._live is not None and screen._live.summary() == fresh
        assert "n=4" in screen_text(app)

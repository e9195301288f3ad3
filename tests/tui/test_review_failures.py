"""A save that fails: nothing is revealed before the commit, the screen says so and rolls back, a retry works."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from grader.core.store.models import Verdict
from grader.tui.app import GraderApp
from grader.tui.screens import review_workers
from grader.tui.screens.review import ReviewScreen

from .review_helpers import record_frames, review_store, screen_text, settle, wait_until

VERIFIER_SHOWN = ("Verifier PASS", "Verifier FAIL", "Verifier ERROR", "Verifier says", "DISAGREE", "agree")


def _rows(engine: Engine, patch_id: int) -> list[dict[str, object]]:
    v = Verdict.__table__
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(v).where(v.c.patch_id == patch_id).order_by(v.c.id))]


def _locked() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))


async def test_a_failed_save_reveals_nothing_says_not_saved_and_a_retry_is_blind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = review_store(tmp_path / "g.db")
    release = threading.Event()
    real_record_verdict = review_workers.record_verdict

    def locked_store(engine: Engine, **given: object) -> object:
        release.wait(10)
        raise _locked()

    monkeypatch.setattr(review_workers, "record_verdict", locked_store)
    app = GraderApp(engine, reviewer="fay")
    watching = False
    frames = record_frames(monkeypatch, app, lambda: watching)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.queue is not None
        first = screen.shown_patch_id
        assert first is not None
        watching = True
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.shown_patch_id != first)
        await pilot.pause(0.1)
        assert "saving" in screen_text(app)
        release.set()
        await wait_until(pilot, lambda: screen._pending_saves == 0)
        await pilot.pause(0.1)
        watching = False
        # Not once, while saving or after the failure, was the verifier's verdict on screen.
        assert len(frames) >= 2
        for frame in frames:
            squeezed = " ".join(frame.split())
            for shown in VERIFIER_SHOWN:
                assert shown not in squeezed, f"{shown!r} on screen though nothing was committed"
        # The screen says the verdict was not saved, counts nothing, and is back on the patch.
        text = screen_text(app)
        assert "NOT saved" in text and "saving" not in text
        assert screen.shown_patch_id == first and first not in screen.queue.graded
        assert "Graded 0/12" in str(screen.query_one("#topbar").render())
        assert _rows(engine, first) == []
        # Pressing the key again saves it, blind: nothing was revealed.
        monkeypatch.setattr(review_workers, "record_verdict", real_record_verdict)
        await pilot.press("p")
        await settle(pilot)
        (row,) = _rows(engine, first)
        assert row["verdict"] == "pass" and row["revealed_before"] is False
        assert first in screen.queue.graded and "Graded 1/12" in str(screen.query_one("#topbar").render())
        assert "saved ✓" in screen_text(app)


async def test_a_failed_save_keeps_the_note_for_the_retry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = review_store(tmp_path / "g.db")
    real_record_verdict = review_workers.record_verdict

    def locked_store(engine: Engine, **given: object) -> object:
        raise _locked()

    monkeypatch.setattr(review_workers, "record_verdict", locked_store)
    app = GraderApp(engine, reviewer="gus")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        first = screen.shown_patch_id
        assert first is not None
        await pilot.press("c", *"off by one", "enter")
        await pilot.press("f")
        await wait_until(pilot, lambda: screen._pending_saves == 0 and screen.shown_patch_id == first)
        await pilot.pause(0.1)
        assert "NOT saved" in screen_text(app)
        monkeypatch.setattr(review_workers, "record_verdict", real_record_verdict)
        await pilot.press("f")
        await settle(pilot)
        (row,) = _rows(engine, first)
        assert (row["verdict"], row["note"]) == ("fail", "off by one")


async def test_a_verdict_shown_once_is_recorded_as_revealed_when_graded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verdict commits but recording the reveal fails: the screen showed the verifier, so a regrade says so."""
    engine = review_store(tmp_path / "g.db")

    def reveal_fails(engine: Engine, **given: object) -> object:
        raise _locked()

    monkeypatch.setattr(review_workers, "record_reveal", reveal_fails)
    app = GraderApp(engine, reviewer="hal")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.queue is not None
        first = screen.shown_patch_id
        assert first is not None
        await pilot.press("p")
        await settle(pilot)
        assert first in screen.queue.graded and "saved ✓" in screen_text(app)
        await pilot.press("comma")
        await wait_until(pilot, lambda: screen.shown_patch_id == first)
        await pilot.press("U")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
    verdicts = [(r["verdict"], r["revealed_before"]) for r in _rows(engine, first)]
    assert verdicts[0] == ("pass", False) and verdicts[-1] == ("fail", True)

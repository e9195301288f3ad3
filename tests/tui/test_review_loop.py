"""The review loop through Pilot: grade, note, tags, undo, resume, blinding, and durability under SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from grader.core.store.models import Reveal, Verdict
from grader.tui.app import GraderApp
from grader.tui.screens.review import ReviewScreen

from .review_helpers import (
    MODEL_NAMES,
    VERIFIER_WORDS,
    record_frames,
    review_store,
    screen_text,
    settle,
    wait_until,
)


def _rows(engine: Engine, patch_id: int) -> list[dict[str, object]]:
    v = Verdict.__table__
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(v).where(v.c.patch_id == patch_id).order_by(v.c.id))]


async def test_grade_note_tags_undo_and_resume(tmp_path: Path) -> None:
    engine = review_store(tmp_path / "g.db")
    app = GraderApp(engine, reviewer="ana")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        first = screen.shown_patch_id
        assert first is not None
        # A note and a tag before the verdict are kept and saved with it.
        await pilot.press("c")
        await pilot.press(*"misses negative numbers")
        await pilot.press("enter")
        await pilot.press("T", "space", "down", "down", "space", "enter")
        await pilot.press("p")
        await settle(pilot)
        second = screen.shown_patch_id
        assert second != first
        (row,) = _rows(engine, first)
        assert row["verdict"] == "pass" and row["note"] == "misses negative numbers"
        assert json.loads(str(row["tags"])) == ["tests too weak", "incomplete"]
        assert row["revealed_before"] is False and row["seconds_spent"] is not None
        with engine.connect() as conn:
            reveal = conn.execute(select(Reveal.__table__).where(Reveal.__table__.c.patch_id == first)).one()
        assert reveal.verdict_id == row["id"]
        # Fail the second, then undo: a retraction supersedes it and the patch is ungraded again.
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)
        assert screen.shown_patch_id == second
        fail_row, undo_row = _rows(engine, second)
        assert (fail_row["verdict"], undo_row["verdict"]) == ("fail", "retracted")
        assert undo_row["supersedes_id"] == fail_row["id"]
        assert second not in screen.queue.graded  # type: ignore[union-attr]
        # Regrading a revealed patch records that the verifier's verdict had been seen.
        await pilot.press("u")
        await settle(pilot)
        assert _rows(engine, second)[-1]["revealed_before"] is True
        # A note on an already graded patch is a new row, never an update.
        await pilot.press("comma")
        await settle(pilot)
        assert screen.shown_patch_id == second
        await pilot.press("c", "ctrl+u", *"flaky", "enter")
        await settle(pilot)
        latest = _rows(engine, second)[-1]
        assert (latest["verdict"], latest["note"]) == ("unsure", "flaky")
        graded = set(screen.queue.graded)  # type: ignore[union-attr]
        await pilot.press("q")
    # Reopening resumes at the first ungraded patch.
    again = GraderApp(engine, reviewer="ana")
    async with again.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = again.screen
        assert isinstance(screen, ReviewScreen) and screen.queue is not None
        assert screen.queue.graded == graded
        expected = screen.queue.patch_ids[screen.queue.first_ungraded()]  # type: ignore[index]
        assert screen.shown_patch_id == expected and expected not in graded
        assert f"Graded {len(graded)}/12" in str(screen.query_one("#topbar").render())


async def test_next_previous_and_first_ungraded(tmp_path: Path) -> None:
    engine = review_store(tmp_path / "g.db")
    app = GraderApp(engine, reviewer="ben")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.queue is not None
        order = screen.queue.patch_ids
        start = screen.position
        await pilot.press("full_stop")
        await wait_until(pilot, lambda: screen.shown_patch_id == order[(start + 1) % len(order)])
        await pilot.press("comma", "comma")
        await wait_until(pilot, lambda: screen.shown_patch_id == order[(start - 1) % len(order)])
        await pilot.press("J")
        await wait_until(pilot, lambda: screen.shown_patch_id == order[screen.queue.first_ungraded()])  # type: ignore[index, union-attr]


async def test_verdict_buttons_by_mouse_and_palette(tmp_path: Path) -> None:
    engine = review_store(tmp_path / "g.db")
    app = GraderApp(engine, reviewer="cy")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        first = screen.shown_patch_id
        await pilot.click("Footer", offset=(2, 0))  # the first footer key is Pass
        await settle(pilot)
        assert _rows(engine, first)[-1]["verdict"] == "pass"  # type: ignore[arg-type]
        second = screen.shown_patch_id
        await pilot.press("ctrl+p")
        await pilot.press(*"Fail (f)")
        await pilot.press("enter")
        await settle(pilot)
        assert _rows(engine, second)[-1]["verdict"] == "fail"  # type: ignore[arg-type]


async def test_blind_frames_never_show_model_or_verifier_before_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = review_store(tmp_path / "g.db")
    app = GraderApp(engine, reviewer="dee")
    committed = False
    frames = record_frames(monkeypatch, app, lambda: not committed)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        await pilot.press("T", "escape", "c", "escape", "r", "r", "e", "e", "question_mark", "escape")
        await pilot.pause(0.2)
        committed = True
        await pilot.press("f")
        await settle(pilot)
        after = screen_text(app)
    assert len(frames) >= 5
    for frame in frames:
        squeezed = "".join(frame.split())
        for secret in (*MODEL_NAMES, *VERIFIER_WORDS):
            assert secret not in frame and "".join(secret.split()) not in squeezed, f"{secret!r} before the commit"
    assert any("hidden until you" in frame for frame in frames)
    # Once committed, the verifier's verdict is revealed beside the reviewer's (the model stays a pseudonym).
    assert "Verifier" in after and "You" in after
    for name in MODEL_NAMES:
        assert name not in after


async def test_open_mode_shows_model_and_verdict(tmp_path: Path) -> None:
    engine = review_store(tmp_path / "g.db")
    app = GraderApp(engine, reviewer="eve", blind=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Verifier says" in text
        assert any(name in text for name in MODEL_NAMES)


KILL_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from grader.core.store.db import make_engine
    from grader.tui.app import GraderApp

    async def main():
        app = GraderApp(make_engine(sys.argv[1]), reviewer="kim")
        async with app.run_test(size=(110, 32)) as pilot:
            while app.screen.__class__.__name__ != "ReviewScreen" or app.screen.shown_patch_id is None:
                await pilot.pause(0.02)
            patch_id = app.screen.shown_patch_id
            await pilot.press("p")
            last = app.screen.query_one("#last")
            while "saved" not in str(last.render()):
                await pilot.pause(0.001)
            print("SAVED", patch_id, flush=True)
            await asyncio.sleep(60)

    asyncio.run(main())
    """
)


def test_sigkill_right_after_saved_loses_no_verdict(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    review_store(db).dispose()
    script = tmp_path / "grade_then_hang.py"
    script.write_text(KILL_SCRIPT)
    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, str(script), f"sqlite:///{db}"], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
        )
        assert child.stdout is not None
        line = child.stdout.readline()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert line.startswith("SAVED "), line
        patch_id = int(line.split()[1])
        engine = review_store_reader(db)
        rows = _rows(engine, patch_id)
        engine.dispose()
        assert [r["verdict"] for r in rows if r["reviewer_id"] is not None][-1] == "pass"


def review_store_reader(path: Path) -> Engine:
    from grader.core.store.db import make_engine

    return make_engine(f"sqlite:///{path}")

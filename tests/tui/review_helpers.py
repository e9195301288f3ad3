"""Helpers for the review-screen tests: a small graded store, and waiting for workers without sleeping blind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.screen import Screen

from grader.core.audit.review import PSEUDONYM_SALT_KEY
from grader.core.importers.swebench import import_swebench
from grader.core.importers.tasks import import_tasks
from grader.core.store.db import make_engine
from grader.core.store.models import Meta

DATA = Path(__file__).resolve().parent.parent / "data"
MODEL_NAMES = ("alpha_agent", "beta_agent", "alpha-7b")
VERIFIER_WORDS = ("Verifier says", "unresolved", "no_generation", "empty_patch", "(resolved)", "(error)")


def review_store(path: Path) -> Engine:
    """The hand-written submissions and tasks, with a fixed pseudonym salt so screens are reproducible."""
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(Meta.__table__.insert().values(key=PSEUDONYM_SALT_KEY, value="test-salt"))
    import_swebench(engine, DATA / "subs")
    import_tasks(engine, DATA / "tasks_verified.csv")
    return engine


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (workers finish, messages land)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.02)
    await pilot.pause()


def settled(screen: object) -> bool:
    """The screen shows a patch, nothing is being saved, the live stats are in, the diff is fully coloured."""
    if getattr(screen, "shown_patch_id", None) is None or getattr(screen, "_pending_saves", 1) != 0:
        return False
    if getattr(screen, "_live", None) is None:
        return False
    from textual.worker import WorkerState

    from grader.tui.widgets.diff_view import DiffView

    if any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in screen.app.workers):  # type: ignore[attr-defined]
        return False
    for view in screen.query(DiffView):  # type: ignore[attr-defined]
        if getattr(view, "_provisional", None) or getattr(view, "_refine_pending", False):
            return False
    return True


async def settle(pilot: Pilot) -> None:
    await wait_until(pilot, lambda: settled(pilot.app.screen))
    await asyncio.sleep(0.05)
    await pilot.pause()


def screen_text(app: object) -> str:
    """The plain text of what the app's screen (with any screens beneath it) shows right now."""
    import io

    from rich.console import Console

    width, height = app.size  # type: ignore[attr-defined]
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True, color_system="truecolor", record=True
    )
    screen = app.screen  # type: ignore[attr-defined]
    console.print(screen._compositor.render_update(full=True, screen_stack=app._background_screens))  # type: ignore[attr-defined]
    return console.export_text(styles=False)


def record_frames(monkeypatch: pytest.MonkeyPatch, app: object, while_: Callable[[], bool]) -> list[str]:
    """The text of every frame the app paints while `while_()` is true (the patch is undone after the test)."""
    frames: list[str] = []
    original = Screen._compositor_refresh

    def capture(self: Screen) -> None:
        original(self)
        if while_():
            frames.append(screen_text(app))

    monkeypatch.setattr(Screen, "_compositor_refresh", capture)
    return frames

"""The adjudication screen's keys: the diff keys work wherever the focus is, and the focused pane is marked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widget import Widget

from grader.core.assignment import claim_next, submit_session_verdict
from grader.core.sampling import SampleSpec
from grader.core.sessions import SessionInfo, create_session, get_session
from grader.tui.app import GraderApp
from grader.tui.screens.adjudicate import AdjudicationScreen
from grader.tui.widgets.diff_files import FileListScreen
from grader.tui.widgets.diff_view import DiffView
from grader.tui.widgets.panels import TaskPanel

from .review_helpers import review_store, screen_text, wait_until

FOCUS_BAR = "▌"
JUMPS = ("next_hunk", "previous_hunk", "next_file", "previous_file")


def disagreements(path: Path) -> tuple[Engine, SessionInfo]:
    """A session of three patches on which its two reviewers disagree, each one a case to adjudicate."""
    engine = review_store(path)
    create_session(engine, "audit-3", SampleSpec(size=3, seed=1, overlap=2, reviewers=("ana", "ben")), created_by="x")
    info = get_session(engine, "audit-3")
    for reviewer, verdict in (("ana", "pass"), ("ben", "fail")):
        while (patch_id := claim_next(engine, info.id, reviewer)) is not None:
            submit_session_verdict(engine, session_id=info.id, patch_id=patch_id, reviewer=reviewer, verdict=verdict)
    return engine, info


async def show_case_with_files(pilot: Pilot, screen: AdjudicationScreen) -> DiffView:
    """Move on to a case whose patch has a file to fold, fully painted."""
    diff = screen.query_one("#diff", DiffView)
    for _ in range(3):
        await wait_until(
            pilot, lambda: bool(screen.cases) and screen.shown_patch_id == screen.cases[screen.position].patch_id
        )
        if diff.files:
            break
        await pilot.press("full_stop")
    assert diff.files
    await wait_until(pilot, lambda: not getattr(diff, "_provisional", None) and not diff._refine_pending)
    return diff


def _left_edge(app: GraderApp, widget: Widget) -> str:
    """The characters down a widget's leftmost column, as the screen shows them."""
    region = widget.region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "".join(line[region.x] for line in lines)


@pytest.mark.parametrize("move_focus", ["shift+tab", "tab"], ids=["task-focused", "side-focused"])
async def test_diff_keys_work_whatever_has_the_focus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, move_focus: str
) -> None:
    jumped: list[tuple[str | None, str]] = []
    for name in JUMPS:
        original = getattr(DiffView, f"action_{name}")

        def spy(self: DiffView, _name: str = name, _original=original) -> None:  # type: ignore[no-untyped-def]
            jumped.append((self.id, _name))
            _original(self)

        monkeypatch.setattr(DiffView, f"action_{name}", spy)
    engine, info = disagreements(tmp_path / "g.db")
    app = GraderApp(engine, reviewer="cy", session=info, adjudicate=True)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, AdjudicationScreen)
        diff = await show_case_with_files(pilot, screen)
        assert app.focused is diff
        await pilot.press(move_focus)
        focused = app.focused
        assert focused is not None and focused is not diff
        await pilot.press("w", "v", "W")
        assert diff.wrap and diff.layout_options.side_by_side and diff.layout_options.ignore_whitespace
        await pilot.press("z")
        assert diff.layout_options.collapsed
        await pilot.press("n", "N", "right_square_bracket", "left_square_bracket")
        assert jumped == [("diff", name) for name in JUMPS]
        await pilot.press("t")
        assert isinstance(app.screen, FileListScreen)
        await pilot.press("escape")
        assert app.screen is screen and app.focused is focused  # the keys did not take the focus away


async def test_the_focused_pane_is_marked(tmp_path: Path) -> None:
    engine, info = disagreements(tmp_path / "g.db")
    app = GraderApp(engine, reviewer="cy", session=info, adjudicate=True)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, AdjudicationScreen)
        diff = await show_case_with_files(pilot, screen)
        task = screen.query_one(TaskPanel)
        await pilot.pause()
        assert set(_left_edge(app, diff)) == {FOCUS_BAR} and FOCUS_BAR not in _left_edge(app, task)
        await pilot.press("shift+tab")
        await pilot.pause()
        assert app.focused is task
        assert set(_left_edge(app, task)) == {FOCUS_BAR} and FOCUS_BAR not in _left_edge(app, diff)
        await pilot.press("tab", "tab")  # past the diff to the side panel
        await pilot.pause()
        assert app.focused is screen.query_one("#side")
        assert FOCUS_BAR not in _left_edge(app, diff) + _left_edge(app, task)


async def test_the_focused_side_pane_is_marked(tmp_path: Path) -> None:
    engine, info = disagreements(tmp_path / "g.db")
    app = GraderApp(engine, reviewer="cy", session=info, adjudicate=True)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, AdjudicationScreen)
        await show_case_with_files(pilot, screen)
        await pilot.press("tab")
        await pilot.pause()
        side = screen.query_one("#side")
        assert app.focused is side
        assert set(_left_edge(app, side)) == {FOCUS_BAR}

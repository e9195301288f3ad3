"""Checks shared by the review and adjudication screens: diff keys work wherever the focus is, and the focused
pane is marked by a bar down its left edge."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget

from grader.tui.app import GraderApp
from grader.tui.widgets.diff_files import FileListScreen
from grader.tui.widgets.diff_view import DiffView
from grader.tui.widgets.panels import TaskPanel

from .review_helpers import screen_text

FOCUS_BAR = "▌"
JUMPS = ("next_hunk", "previous_hunk", "next_file", "previous_file")


def left_edge(app: GraderApp, widget: Widget) -> str:
    """The characters down a widget's leftmost column, as the screen shows them."""
    region = widget.region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "".join(line[region.x] for line in lines)


def spy_on_jumps(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str | None, str]]:
    """Record (diff view id, action) for every hunk and file jump the diff views make."""
    jumped: list[tuple[str | None, str]] = []
    for name in JUMPS:
        original = getattr(DiffView, f"action_{name}")

        def spy(self: DiffView, _name: str = name, _original=original) -> None:  # type: ignore[no-untyped-def]
            jumped.append((self.id, _name))
            _original(self)

        monkeypatch.setattr(DiffView, f"action_{name}", spy)
    return jumped


async def check_diff_keys_anywhere(
    pilot: Pilot, screen: Screen[None], diff: DiffView, move_focus: str, jumped: list[tuple[str | None, str]]
) -> None:
    """With the focus moved off the diff, every diff key still acts on it and leaves the focus where it is."""
    app = pilot.app
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


async def check_focus_bar(pilot: Pilot, screen: Screen[None], diff: DiffView) -> None:
    """The bar follows the focus: diff, then (Shift+Tab) the task, then (Tab, Tab) the side panels."""
    app = pilot.app
    assert isinstance(app, GraderApp)
    task = screen.query_one(TaskPanel)
    await pilot.pause()
    assert set(left_edge(app, diff)) == {FOCUS_BAR} and FOCUS_BAR not in left_edge(app, task)
    await pilot.press("shift+tab")
    await pilot.pause()
    assert app.focused is task
    assert set(left_edge(app, task)) == {FOCUS_BAR} and FOCUS_BAR not in left_edge(app, diff)
    await pilot.press("tab", "tab")  # past the diff to the side panels
    await pilot.pause()
    side = screen.query_one("#side")
    assert app.focused is side
    assert set(left_edge(app, side)) == {FOCUS_BAR}
    assert FOCUS_BAR not in left_edge(app, diff) + left_edge(app, task)

"""paint_now: a key's result reaches the screen without waiting for Textual's 60 Hz update timer."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from grader.tui.paint import paint_now


class Host(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "change", "Change")]

    def __init__(self, paint: bool) -> None:
        super().__init__()
        self.paint = paint
        self.painted: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("before", id="a")
        yield Static("", id="b")

    def action_change(self) -> None:
        self.query_one("#a", Static).update("after")
        self.query_one("#b", Static).update("a line\nthat changes the layout")
        if self.paint:
            paint_now(self.query_one("#a", Static))


async def _frames_after_key(paint: bool) -> list[str]:
    app = Host(paint)
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        screen = app.screen
        original = Screen._compositor_refresh
        frames: list[str] = []

        def refresh(self: Screen) -> None:
            original(self)
            frames.append(str(self.query_one("#a", Static).render()))

        screen._compositor_refresh = refresh.__get__(screen)  # type: ignore[method-assign]
        screen._update_timer.pause()
        screen._update_timer.resume = lambda: None  # type: ignore[method-assign]  # only paint_now can paint
        await pilot.press("x")
        await asyncio.sleep(0.1)  # not pilot.pause(), which forces an update itself
        return frames


async def test_paint_now_paints_the_key_result_without_the_update_timer() -> None:
    assert "after" in await _frames_after_key(paint=True)


async def test_without_paint_now_the_frame_waits_for_the_timer() -> None:
    assert await _frames_after_key(paint=False) == []  # the control: the timer was the only other way

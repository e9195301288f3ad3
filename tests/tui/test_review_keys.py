"""The review screen's keys: the diff keys work wherever the focus is, and the focused pane is marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.tui.app import GraderApp
from grader.tui.screens.review import ReviewScreen
from grader.tui.widgets.diff_view import DiffView

from .focus_helpers import check_diff_keys_anywhere, check_focus_bar, spy_on_jumps
from .review_helpers import review_store, screen_text, settle, wait_until


@pytest.mark.parametrize("move_focus", ["shift+tab", "tab"], ids=["task-focused", "side-focused"])
async def test_diff_keys_work_whatever_has_the_focus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, move_focus: str
) -> None:
    jumped = spy_on_jumps(monkeypatch)
    app = GraderApp(review_store(tmp_path / "g.db"), reviewer="ivy")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        diff = screen.query_one("#diff", DiffView)
        while not diff.files:  # a patch with a file to fold
            await pilot.press("full_stop")
            await settle(pilot)
        await check_diff_keys_anywhere(pilot, screen, diff, move_focus, jumped)


async def test_the_focused_pane_is_marked(tmp_path: Path) -> None:
    app = GraderApp(review_store(tmp_path / "g.db"), reviewer="jo")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await check_focus_bar(pilot, screen, screen.query_one("#diff", DiffView))


@pytest.mark.parametrize(
    ("query", "finds"),
    [("wrap", "Wrap (w)"), ("split", "Split/unified (v)"), ("hunk", "Next hunk (n)"), ("white", "Ignore whitespace")],
)
async def test_the_palette_finds_the_diff_commands(tmp_path: Path, query: str, finds: str) -> None:
    from textual.command import CommandList

    app = GraderApp(review_store(tmp_path / "g.db"), reviewer="kit")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        diff = screen.query_one("#diff", DiffView)
        await pilot.press("ctrl+p", *query)
        commands = app.screen.query_one(CommandList)

        def found() -> list[str]:
            return [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]

        await wait_until(pilot, lambda: any(finds in prompt for prompt in found()), timeout=5)
        if query == "wrap":  # and running it from the palette does it
            await pilot.press("enter")
            await wait_until(pilot, lambda: diff.wrap)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_footer_shows_help_and_quit(tmp_path: Path, size: tuple[int, int]) -> None:
    app = GraderApp(review_store(tmp_path / "g.db"), reviewer="lee")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        for key in ("p Pass", "f Fail", "u Unsure", "? Help", "q Quit", "^p palette"):
            assert key in footer, footer


async def test_the_footer_gives_way_when_the_terminal_narrows(tmp_path: Path) -> None:
    app = GraderApp(review_store(tmp_path / "g.db"), reviewer="lee")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert ". Next" in screen_text(app).splitlines()[-1]
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: "q Quit" in screen_text(app).splitlines()[-1])
        assert ". Next" not in screen_text(app).splitlines()[-1]
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        before = screen.position
        await pilot.press("full_stop")  # a key left out of the footer still works
        await settle(pilot)
        assert screen.position == before + 1

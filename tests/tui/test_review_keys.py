"""The review screen's keys: the diff keys work wherever the focus is, and the focused pane is marked."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widget import Widget

from grader.tui.app import GraderApp
from grader.tui.screens.review import ReviewScreen
from grader.tui.widgets.diff_files import FileListScreen
from grader.tui.widgets.diff_view import DiffView
from grader.tui.widgets.panels import TaskPanel

from .review_helpers import review_store, screen_text, settle, wait_until

FOCUS_BAR = "▌"
JUMPS = ("next_hunk", "previous_hunk", "next_file", "previous_file")


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
    app = GraderApp(review_store(tmp_path / "g.db"), reviewer="ivy")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        diff = screen.query_one("#diff", DiffView)
        while not diff.files:  # a patch with a file to fold
            await pilot.press("full_stop")
            await settle(pilot)
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
    app = GraderApp(review_store(tmp_path / "g.db"), reviewer="jo")
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        diff, task = screen.query_one("#diff", DiffView), screen.query_one(TaskPanel)
        assert set(_left_edge(app, diff)) == {FOCUS_BAR} and FOCUS_BAR not in _left_edge(app, task)
        await pilot.press("shift+tab")
        await pilot.pause()
        assert app.focused is task
        assert set(_left_edge(app, task)) == {FOCUS_BAR} and FOCUS_BAR not in _left_edge(app, diff)
        await pilot.press("tab", "tab")  # past the diff to the side panels
        await pilot.pause()
        side = screen.query_one("#side")
        assert app.focused is side
        assert set(_left_edge(app, side)) == {FOCUS_BAR} and FOCUS_BAR not in _left_edge(app, diff) + _left_edge(
            app, task
        )


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

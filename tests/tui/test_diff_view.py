"""The diff view: opening, navigation, folding, layouts, wrapping, the file list, and hostile text on screen."""

from __future__ import annotations

import re
import time
from pathlib import Path

from grader.core.patches.index import FileEntry, HunkEntry
from grader.tui.widgets.diff_files import FileListScreen
from grader.tui.widgets.diff_view import DiffView
from tests.tui.diff_host import DiffHostApp

DATA = Path(__file__).resolve().parent.parent / "data"
SIZE = (100, 30)
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def sample(*names: str) -> str:
    return "".join((DATA / "diffs" / name).read_text() for name in names)


def screen_text(view: DiffView) -> list[str]:
    return [view.render_line(y).text for y in range(view.size.height)]


def top_row(view: DiffView) -> tuple:
    return view._layout.row(view._top_row())


async def test_file_and_hunk_navigation() -> None:
    app = DiffHostApp([sample("python.diff", "javascript.diff", "renamed.diff", "python.diff", "python.diff")])
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        await pilot.pause()
        assert top_row(view)[0] == "file"
        await pilot.press("right_square_bracket")
        assert top_row(view) == ("file", view.index.files[1])
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert top_row(view) == ("file", view.index.files[3])
        await pilot.press("left_square_bracket")
        assert top_row(view) == ("file", view.index.files[2])
        await pilot.press("g", "n", "n")
        assert top_row(view) == ("hunk", view.index.files[0].hunks[1])
        await pilot.press("N")
        assert top_row(view) == ("hunk", view.index.files[0].hunks[0])


async def test_fold_split_wrap_and_whitespace_toggles() -> None:
    reindent = "--- a/w.py\n+++ b/w.py\n@@ -1,2 +1,2 @@\n-if x:\n-  go()\n+if  x:\n+    go()\n"
    app = DiffHostApp([sample("python.diff") + reindent])
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        await pilot.pause()
        rows = view.virtual_size.height
        await pilot.press("z")
        assert 0 in view.layout_options.collapsed
        assert view.virtual_size.height < rows
        assert screen_text(view)[0].startswith("▸ src/shapes/area.py")
        await pilot.press("z")
        assert view.virtual_size.height == rows
        await pilot.press("v")
        assert view.layout_options.side_by_side
        assert any("│" in line and "-" in line and "+" in line for line in screen_text(view))
        await pilot.press("v")
        assert not view.layout_options.side_by_side
        await pilot.press("W")
        assert view.layout_options.ignore_whitespace
        assert view.virtual_size.height == rows - 2
        await pilot.press("W", "w")
        assert view.wrap and view.virtual_size.width <= SIZE[0]
        await pilot.press("w")
        assert not view.wrap


async def test_wrap_shows_a_long_line_in_pieces() -> None:
    long_line = "value = " + " + ".join(f"item_{n}" for n in range(60))
    app = DiffHostApp([f"--- a/l.py\n+++ b/l.py\n@@ -1 +1 @@\n-x = 1\n+{long_line}\n"])
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        await pilot.pause()
        unwrapped = view.virtual_size.height
        await pilot.press("w")
        await pilot.pause()
        assert view.virtual_size.height > unwrapped
        text = "".join(line.strip() for line in screen_text(view))
        assert "item_59" in text


async def test_file_list_jumps_to_a_file() -> None:
    app = DiffHostApp([sample("python.diff", "binary.diff")])
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, FileListScreen)
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        assert app.screen is not None and not isinstance(app.screen, FileListScreen)
        mode_only = view.index.files[3]
        assert mode_only.info.status == "mode-only"
        header = view._layout.block_row(mode_only)
        assert header is not None and view.scroll_y <= header < view.scroll_y + view.size.height
        assert view.scroll_y == min(header, view.max_scroll_y)


async def test_a_50k_line_patch_opens_at_once_and_indexes_in_the_background() -> None:
    import sys

    sys.path.insert(0, str(DATA.parent.parent / "bench"))
    from diff_view import generated_patch

    big = generated_patch(50_000)
    app = DiffHostApp([""], colour_budget=0.005)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        await pilot.pause()
        started = time.perf_counter()
        view.show_patch(big)
        assert time.perf_counter() - started < 0.05  # the real target (16 ms to painted) is in bench/
        assert not view.index.done
        for _ in range(100):
            await pilot.pause(0.05)
            if view.index.done:
                break
        assert view.index.done and len(view.index.files) > 100
        assert view.virtual_size.height == view._layout.row_count
        await pilot.press("G")
        assert view.scroll_y == view.max_scroll_y
        assert all(line.strip() for line in screen_text(view)[:-1])


async def test_hostile_text_is_inert_on_screen() -> None:
    texts = [path.read_bytes().decode("utf-8", "replace") for path in sorted((DATA / "hostile").glob("*.diff"))]
    app = DiffHostApp(texts)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        for _ in texts:
            await pilot.pause()
            for line in screen_text(view):
                assert not UNSAFE.search(line), repr(line)
            await pilot.press("o")
        view.show_patch((DATA / "hostile" / "rich_markup.diff").read_text())
        await pilot.pause()
        assert any("[bold]not bold[/bold]" in line for line in screen_text(view))


async def test_indexed_message_and_public_files() -> None:
    app = DiffHostApp([sample("binary.diff")])
    messages: list[DiffView.Indexed] = []
    async with app.run_test(
        size=SIZE, message_hook=lambda m: messages.append(m) if isinstance(m, DiffView.Indexed) else None
    ) as pilot:
        view = app.query_one(DiffView)
        await pilot.pause(0.1)
        assert messages and messages[-1].file_count == 4
        assert all(isinstance(file, FileEntry) for file in view.files)
        assert [type(b) for b in view.index.blocks].count(HunkEntry) == 1


async def test_the_truecolor_filter_the_view_skips_would_change_none_of_its_lines() -> None:
    """DiffView drops ANSIToTruecolor from its line filters: valid only while every style it paints is truecolor."""
    from textual.color import Color
    from textual.filter import ANSIToTruecolor

    hostile = [path.read_bytes().decode("utf-8", "replace") for path in sorted((DATA / "hostile").glob("*.diff"))]
    patches = [sample("python.diff", "javascript.diff", "renamed.diff", "binary.diff"), *hostile]
    for theme in ("textual-dark", "textual-light", "monokai"):
        app = DiffHostApp(patches)
        async with app.run_test(size=SIZE) as pilot:
            app.theme = theme
            truecolor = ANSIToTruecolor(app.ansi_theme)
            view = app.query_one(DiffView)
            assert not any(isinstance(f, ANSIToTruecolor) for f in view.get_line_filters())
            for _ in patches:
                for keys in ((), ("v",), ("w",)):  # unified, side by side, side by side wrapped
                    await pilot.press(*keys)
                    await pilot.pause()
                    for y in range(view.size.height):
                        segments = list(view.render_line(y))
                        assert truecolor.apply(segments, Color(0, 0, 0)) == segments, (theme, y, segments)
                await pilot.press("v", "w", "o")

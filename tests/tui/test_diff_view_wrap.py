"""Wrapping (w) shows every character of a long line: at the width left beside the scrollbar, in both layouts, with
tabs, control characters and wide characters."""

from __future__ import annotations

import pytest
from rich.cells import get_character_cell_size

from grader.tui.widgets.diff_rows import wrap_starts
from grader.tui.widgets.diff_view import DiffView
from tests.tui.diff_host import DiffHostApp

from .review_helpers import screen_text

SIZE = (60, 16)
LINES = [
    "from ledger.errors import ClosedPeriod, UnknownAccount, UnbalancedTransaction",
    "x = '日本語のテキストがここに続きます、とても長い行ですね、まだまだ続きます'",
    "\tif value:\treturn '\x1b[31mred\x1b[0m' + other_value_with_a_long_name + yet_another_one",
]


def patch() -> str:
    removed = "".join(f"-{line}\n" for line in LINES)
    added = "".join(f"+{line}!\n" for line in LINES)
    context = "".join(f" context {n}\n" for n in range(30))  # enough rows for the vertical scrollbar to show
    count = len(LINES) + 30
    return f"--- a/j.py\n+++ b/j.py\n@@ -1,{count} +1,{count} @@\n{removed}{added}{context}"


def cells(row: str, start: int, end: int) -> str:
    """The characters of a screen row between two cell positions (a wide character takes two)."""
    out, column = [], 0
    for char in row:
        if start <= column < end:
            out.append(char)
        column += get_character_cell_size(char)
    return "".join(out)


def squeeze(text: str) -> str:
    return "".join(text.split())


def expected(line: str) -> str:
    """The line as the view draws it: tabs expanded, ESC as its control picture."""
    return squeeze(line.replace("\x1b", "␛"))


@pytest.mark.parametrize("side_by_side", [False, True], ids=["unified", "split"])
async def test_wrap_loses_no_character_beside_the_scrollbar(side_by_side: bool) -> None:
    app = DiffHostApp([patch()], side_by_side=side_by_side)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        await pilot.press("w")
        await pilot.pause()
        assert view.wrap and view.scrollable_content_region.width < view.size.width  # the scrollbar takes a column
        rows: list[str] = []
        for _ in range(8):  # page through every row of the changed lines
            rows.extend(screen_text(app).splitlines()[: view.scrollable_content_region.height])
            await pilot.press("pagedown")
            await pilot.pause()
        width = view.scrollable_content_region.width
        if side_by_side:
            left_width = (width - 1) // 2
            columns = [
                "".join(cells(row, 6, left_width) for row in rows),
                "".join(cells(row, left_width + 1 + 6, width) for row in rows),
            ]
        else:
            columns = ["".join(cells(row, 10, width) for row in rows)]
        shown = squeeze("".join(columns))
        for line in LINES:
            assert expected(line) in shown
            assert expected(line + "!") in shown
        assert view.max_scroll_x == 0  # wrapped: nothing to scroll sideways to


def test_wrap_starts_never_cut_a_wide_character() -> None:
    text = "ab日本語のテキストc"  # 2 + 2x8 + 1 = 19 cells
    starts = wrap_starts(text, 5)
    assert starts == [0, 4, 8, 12, 16]  # "ab日" "本語" "のテ" "キス" "トc": a 2-cell character never straddles a cut
    assert wrap_starts("abcdefg", 3) == [0, 3, 6] and wrap_starts("", 3) == [0]

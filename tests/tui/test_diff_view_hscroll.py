"""Scrolling sideways (h/l) reaches the end of every line: both side-by-side columns move together, the line
numbers stay put, and tab-indented lines are not cut short of their end."""

from __future__ import annotations

import pytest
from rich.cells import get_character_cell_size

from grader.tui.widgets.diff_view import DiffView
from tests.tui.diff_host import DiffHostApp

from .review_helpers import screen_text

SIZE = (80, 12)
OLD = "total = compute_the_total(items, discount=discount_rate, currency=currency) + shipping_cost  # OLD-END"
NEW = "total = compute_the_total(items, discount=discount_rate, currency=currency, rounding=r) + shipping  # NEW-END"
TABBED = "\t\t\t\t\t\t\t\tif value is not None and another_value is not None and value > another_value:  # TAB-END"


def patch() -> str:
    return f"--- a/t.py\n+++ b/t.py\n@@ -1,2 +1,2 @@\n-{OLD}\n+{NEW}\n {TABBED}\n"


def cells(row: str, start: int, end: int) -> str:
    out, column = [], 0
    for char in row:
        if start <= column < end:
            out.append(char)
        column += get_character_cell_size(char)
    return "".join(out)


async def test_side_by_side_scrolls_both_columns_together() -> None:
    app = DiffHostApp([patch()], side_by_side=True)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        await pilot.pause()
        before = screen_text(app)
        assert "OLD-END" not in before and "NEW-END" not in before  # both columns cut at first
        assert view.max_scroll_x > 0
        await pilot.press("l")
        await pilot.pause()
        assert view.scroll_x == 1
        shifted = screen_text(app).splitlines()
        assert shifted[2].startswith("  1 - otal = compute")  # code moved one column, the number stayed
        width = view.scrollable_content_region.width
        left_width = (width - 1) // 2
        assert cells(shifted[2], left_width + 1, width).startswith("  1 + otal = compute")
        seen = ""
        for x in range(0, view.max_scroll_x + 1, 10):
            view.scroll_to(x=x, animate=False, immediate=True)
            await pilot.pause()
            seen += screen_text(app)
            assert screen_text(app).splitlines()[2].startswith("  1 -")
        assert "OLD-END" in seen and "NEW-END" in seen and "TAB-END" in seen


@pytest.mark.parametrize("side_by_side", [False, True], ids=["unified", "split"])
async def test_the_end_of_a_tab_indented_line_can_be_reached(side_by_side: bool) -> None:
    # Its longest line is tab-indented: eight tabs are 32 cells on screen but 8 characters in the text.
    app = DiffHostApp([f"--- a/t.go\n+++ b/t.go\n@@ -1 +1 @@\n-x\n+{TABBED}\n"], side_by_side=side_by_side)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        await pilot.pause()
        view.scroll_to(x=view.max_scroll_x, animate=False, immediate=True)
        await pilot.pause()
        assert "TAB-END" in screen_text(app)

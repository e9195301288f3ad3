"""The diff view's notices: the caller's lines about a patch are drawn (inert), and no pane is blank unexplained."""

from __future__ import annotations

import re
from pathlib import Path

from grader.tui.app import GraderApp
from grader.tui.widgets.diff_view import DiffView
from tests.tui.diff_host import DiffHostApp

from .review_helpers import review_store, screen_text, settle

DATA = Path(__file__).resolve().parent.parent / "data"
SIZE = (100, 30)
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SMALL = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"


def shown(view: DiffView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


async def test_an_empty_or_null_patch_says_so() -> None:
    app = DiffHostApp([""])
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        await pilot.pause()
        assert shown(view)[0] == "⚠ empty patch: nothing to show"
        view.show_patch(None)
        await pilot.pause()
        assert shown(view)[0] == "⚠ no patch (null): nothing to show"
        # The caller's notice explains it already: no second line that could contradict it.
        view.show_patch("", ["The model submitted no patch (null)."])
        await pilot.pause()
        assert shown(view)[:2] == ["⚠ The model submitted no patch (null).", ""]


async def test_notices_are_drawn_above_the_patch_and_survive_layout_toggles() -> None:
    app = DiffHostApp([""])
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        view.show_patch(SMALL, ["The reference fix of acme__ledger-127"])
        await pilot.pause()
        lines = shown(view)
        assert lines[0] == "⚠ The reference fix of acme__ledger-127"
        assert lines[1].startswith("▾ x.py")
        for key in ("v", "w", "W", "v", "w", "W"):
            await pilot.press(key)
            assert shown(view)[0] == "⚠ The reference fix of acme__ledger-127", key


async def test_a_patch_with_no_diff_shows_its_text_inert_under_its_notices() -> None:
    prose = (DATA / "hostile" / "prose_escape.diff").read_text()
    app = DiffHostApp([""])
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        view.show_patch(prose, ["No diff found in \x1b[2J[bold]this[/bold] patch\u202e"])
        await pilot.pause()
        lines = shown(view)
        for line in lines:
            assert not UNSAFE.search(line), repr(line)
        assert lines[0] == "⚠ No diff found in ␛[2J[bold]this[/bold] patch<U+202E>"
        assert any("it has no diff" in line for line in lines)
        assert any(line.startswith("Sure! ␛[8mhidden") for line in lines)
        assert any(line.startswith("No diff here, ␛[6n just talk.") for line in lines)


async def test_the_review_screen_labels_the_reference_fix(tmp_path: Path) -> None:
    app = GraderApp(review_store(tmp_path / "g.db"), reviewer="dee")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for _ in range(12):  # to a patch whose task has a reference fix
            await pilot.press("r")
            await settle(pilot)
            if not app.screen.query_one("#task-diff", DiffView).has_class("hidden"):
                break
            await pilot.press("full_stop")
            await settle(pilot)
        assert re.search(r"⚠ The reference fix of acme__\S+", screen_text(app))

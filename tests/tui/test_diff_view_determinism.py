"""The diff view paints the same rows whatever the timing: budgeted rows end up refined, rows rendered from a hunk
that was still being indexed are rendered again once it is known."""

from __future__ import annotations

from pathlib import Path

from rich.segment import Segment

from grader.core.patches.index import parse_patch
from grader.core.patches.layout import DiffLayout
from grader.core.patches.render import DiffRenderer, RenderedLine, RenderedPair
from grader.tui.widgets.diff_view import DiffView
from tests.core.test_diff_determinism import long_hunk_patch
from tests.tui.diff_host import DiffHostApp

DIFFS = Path(__file__).resolve().parent.parent / "data" / "diffs"
SIZE = (100, 30)


def painted(view: DiffView) -> list[list[Segment]]:
    return [list(view.render_line(y)) for y in range(view.size.height)]


def code_of(rendered: RenderedLine | RenderedPair) -> list[Segment]:
    if isinstance(rendered, RenderedPair):
        return rendered.left.code + rendered.right.code
    return rendered.code


async def screen_when_refined(text: str, colour_budget: float | None) -> list[list[Segment]]:
    app = DiffHostApp([text], colour_budget=colour_budget)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        for _ in range(200):
            await pilot.pause(0.02)
            if view.index.done and not view._provisional and not view._refine_pending:
                break
        assert not view._provisional
        return painted(view)


async def test_rows_painted_over_budget_are_refined_to_the_full_colouring() -> None:
    text = (DIFFS / "python.diff").read_text()
    over_budget = await screen_when_refined(text, colour_budget=0.0)  # every code row paints uncoloured first
    assert over_budget == await screen_when_refined(text, colour_budget=None)


async def test_rows_rendered_while_their_hunk_was_indexed_match_a_full_index() -> None:
    text = long_hunk_patch()
    app = DiffHostApp([""], colour_budget=None)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DiffView)
        await pilot.pause()
        view.show_patch(text)  # indexes the first 400 lines; no await, so no index slice runs in between
        assert not view.index.done
        edge = view._layout.known_rows
        for y in range(360, edge):
            view._rendered_row(y, budgeted=False)
        view._finish_index()
        rows = range(360, edge + 40)

        full = DiffLayout(parse_patch(text))
        full.sync()
        renderer = DiffRenderer(full, view._palette)
        for y in rows:
            assert code_of(view._rendered_row(y)) == code_of(renderer.render(full.row(y))), y

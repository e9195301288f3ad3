"""The adjudication screen's keys: the diff keys work wherever the focus is, and the focused pane is marked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from textual.pilot import Pilot

from grader.core.audit.assignment import claim_next
from grader.core.audit.sampling import SampleSpec
from grader.core.audit.session_verdicts import submit_session_verdict
from grader.core.audit.sessions import SessionInfo, create_session, get_session
from grader.tui.app import GraderApp
from grader.tui.screens.adjudicate import AdjudicationScreen
from grader.tui.widgets.diff_view import DiffView

from .focus_helpers import check_diff_keys_anywhere, check_focus_bar, spy_on_jumps
from .review_helpers import review_store, wait_until


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


@pytest.mark.parametrize("move_focus", ["shift+tab", "tab"], ids=["task-focused", "side-focused"])
async def test_diff_keys_work_whatever_has_the_focus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, move_focus: str
) -> None:
    jumped = spy_on_jumps(monkeypatch)
    engine, info = disagreements(tmp_path / "g.db")
    app = GraderApp(engine, reviewer="cy", session=info, adjudicate=True)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, AdjudicationScreen)
        diff = await show_case_with_files(pilot, screen)
        await check_diff_keys_anywhere(pilot, screen, diff, move_focus, jumped)


async def test_the_focused_pane_is_marked(tmp_path: Path) -> None:
    engine, info = disagreements(tmp_path / "g.db")
    app = GraderApp(engine, reviewer="cy", session=info, adjudicate=True)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, AdjudicationScreen)
        await check_focus_bar(pilot, screen, await show_case_with_files(pilot, screen))

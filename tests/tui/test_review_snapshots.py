"""Snapshots of the review screen: blind before a verdict, revealed after it, and at 80x24."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from grader.tui.app import GraderApp

from .review_helpers import review_store, settle


def _app(tmp_path: Path, blind: bool = True) -> GraderApp:
    return GraderApp(review_store(tmp_path / "g.db"), reviewer="snap", blind=blind, colour_budget=None)


def test_blind_before_the_verdict(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(110, 32), run_before=settle)


def test_revealed_after_the_verdict(snap_compare: Any, tmp_path: Path) -> None:
    async def grade_then_go_back(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("comma")
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=(110, 32), run_before=grade_then_go_back)


def test_open_review_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path, blind=False), terminal_size=(80, 24), run_before=settle)


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    async def open_help(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)

    assert snap_compare(_app(tmp_path), terminal_size=(100, 36), run_before=open_help)

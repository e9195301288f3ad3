"""Snapshots of the diff view: Python, JavaScript, a rename and binary files, unified and side by side."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.diff_host import host_for_file

DIFFS = Path(__file__).resolve().parent.parent / "data" / "diffs"
SIZE = (100, 30)


@pytest.mark.parametrize("side_by_side", [False, True], ids=["unified", "split"])
@pytest.mark.parametrize("name", ["python", "javascript", "renamed", "binary"])
def test_diff_view_snapshot(snap_compare, name: str, side_by_side: bool) -> None:
    app = host_for_file(DIFFS / f"{name}.diff", side_by_side=side_by_side)
    assert snap_compare(app, terminal_size=SIZE)

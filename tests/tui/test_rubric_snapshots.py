"""Snapshots of the review screen with the swebench-verified rubric (80x24, 120x40) and of the reference-fix view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot

import grader.tui
from grader.core.audit.review import QueueFilter
from grader.core.audit.rubric_review import prepare_rubric
from grader.core.importers.rubrics import load_rubric
from grader.tui.app import GraderApp
from grader.tui.screens.reference import ReferenceScreen
from grader.tui.widgets.diff_view import DiffView

from .review_helpers import review_store, settle


def _app(tmp_path: Path, filters: QueueFilter = QueueFilter()) -> GraderApp:
    engine = review_store(tmp_path / "g.db")
    rubric = prepare_rubric(engine, load_rubric("swebench-verified"))
    return GraderApp(engine, reviewer="snap", filters=filters, colour_budget=None, review_rubric=rubric)


async def _answer_two(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("1", "2")  # underspecified 1, tests reject valid 2: the cursor is on other major issues
    await settle(pilot)


def test_rubric_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_answer_two)


def test_rubric_at_120x40(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(120, 40), run_before=_answer_two)


PATCH = """\
diff --git a/src/calc.py b/src/calc.py
--- a/src/calc.py
+++ b/src/calc.py
@@ -1,2 +1,3 @@
 def add(a, b):
-    return a - b
+    # the sum, as the issue asks
+    return b + a
diff --git a/src/debug.py b/src/debug.py
new file mode 100644
--- /dev/null
+++ b/src/debug.py
@@ -0,0 +1,2 @@
+def trace(value):
+    print("value:", value)
"""
REFERENCE = """\
diff --git a/src/calc.py b/src/calc.py
--- a/src/calc.py
+++ b/src/calc.py
@@ -1,2 +1,2 @@
 def add(a, b):
-    return a - b
+    return a + b
diff --git a/CHANGES.rst b/CHANGES.rst
--- a/CHANGES.rst
+++ b/CHANGES.rst
@@ -1,2 +1,3 @@
 Changes
 =======
+- add() adds.
"""


class ReferenceHost(App[None]):
    CSS_PATH = str(Path(grader.tui.__file__).parent / "grader.tcss")

    def on_mount(self) -> None:
        self.push_screen(ReferenceScreen(PATCH, REFERENCE, "acme__calc-1", colour_budget=None))


def test_reference_fix_view(snap_compare: Any) -> None:
    assert snap_compare(ReferenceHost(), terminal_size=(100, 24), run_before=lambda pilot: pilot.pause(0.3))


def test_reference_fix_view_at_the_file_only_the_reference_touches(snap_compare: Any) -> None:
    async def last_pair(pilot: Pilot) -> None:
        await pilot.pause(0.2)
        await pilot.press("left_square_bracket")
        await pilot.pause(0.3)

    assert snap_compare(ReferenceHost(), terminal_size=(80, 24), run_before=last_pair)


async def test_the_reference_view_pairs_files_and_hides_the_verifier(tmp_path: Path) -> None:
    from .review_helpers import screen_text

    app = _app(tmp_path, QueueFilter(benchmarks=("swe-bench-verified",)))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        review = app.screen
        await pilot.press("R")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ReferenceScreen)
        text = screen_text(app)
        assert "Model's patch" in text and "Reference fix" in text
        assert "Verifier" not in text and "Model " not in text.replace("Model's", "")
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is review
    host = ReferenceHost()
    async with host.run_test(size=(100, 24)) as pilot:
        await pilot.pause(0.2)
        screen = host.screen
        assert isinstance(screen, ReferenceScreen)
        assert [(p.path, p.kind) for p in screen.pairs] == [
            ("src/calc.py", "both"),
            ("src/debug.py", "patch only"),
            ("CHANGES.rst", "reference only"),
        ]
        await pilot.press("right_square_bracket")
        await pilot.pause(0.2)
        assert "does not touch this file" in screen_text(host)
        await pilot.press("w")  # wrap, on both sides
        assert all(view.wrap for view in screen.query(DiffView))

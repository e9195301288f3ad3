"""The parser and renderer over every prediction of every submission in the shared SWE-bench data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.core.patches.highlight import HunkHighlighter
from grader.core.patches.index import PatchIndex
from grader.core.patches.layout import DiffLayout, LayoutOptions
from grader.core.patches.render import DiffPalette, DiffRenderer, RenderedPair
from grader.core.patches.stdout import _emit, _line_text

pytestmark = pytest.mark.realdata

HEAD_ROWS, TAIL_ROWS, ROW_STRIDE = 8, 3, 24


def predictions(path: Path) -> Iterator[dict]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        yield from json.loads(text)
        return
    for line in text.splitlines():
        if line.strip():
            yield json.loads(line)


def every_patch(shared_data: Path) -> Iterator[tuple[str, object]]:
    for path in sorted((shared_data / "swebench").glob("*/*/all_preds.jsonl")):
        for row in predictions(path):
            yield f"{path.parent.name}/{row.get('instance_id')}", row.get("model_patch")


def test_every_real_patch_indexes_lays_out_and_renders(shared_data: Path) -> None:
    """Every patch is fully indexed and laid out, and its first and last screens render (tinted, uncoloured).

    Rendering every row of 44k patches with syntax colours would take minutes; the index and layout cover every
    line; the rendered rows are the first and last few (where a broken patch shows its breakage) and every
    24th row in between, at an offset that changes from patch to patch. Syntax colours are covered on a sample below.
    """
    palette = DiffPalette.build()
    seen: set[str] = set()
    kinds = {"files": 0, "prose_only": 0, "empty": 0}
    for name, patch in every_patch(shared_data):
        text = patch if isinstance(patch, str) else ""
        if text in seen:
            continue
        seen.add(text)
        index = PatchIndex(text).finish()
        layout = DiffLayout(index, LayoutOptions())
        layout.sync()
        renderer = DiffRenderer(layout, palette, HunkHighlighter())
        count = layout.row_count
        assert count >= len(index.files), name
        spread = range(HEAD_ROWS + len(seen) % ROW_STRIDE, count, ROW_STRIDE)
        for y in [*range(min(HEAD_ROWS, count)), *spread, *range(max(count - TAIL_ROWS, HEAD_ROWS), count)]:
            rendered = renderer.render(layout.row(y), colour=False)
            plain = _emit(_line_text(rendered), color=False)
            assert "\x1b" not in plain and "\n" not in plain, name
            if isinstance(rendered, RenderedPair):
                raise AssertionError("unified layout produced a pair")
        kinds["files" if index.files else "prose_only" if text.strip() else "empty"] += 1
    assert len(seen) > 30_000
    assert kinds["files"] > 30_000 and kinds["prose_only"] > 0 and kinds["empty"] > 0


def test_colours_and_side_by_side_on_a_sample_of_real_patches(shared_data: Path) -> None:
    """Syntax colours and side by side (which parses whole hunks) on every 50th patch, to keep the suite fast."""
    palette = DiffPalette.build()
    seen: set[str] = set()
    for number, (name, patch) in enumerate(every_patch(shared_data)):
        if number % 50 or not isinstance(patch, str) or patch in seen:
            continue
        seen.add(patch)
        layout = DiffLayout(PatchIndex(patch).finish(), LayoutOptions(side_by_side=True, ignore_whitespace=True))
        layout.sync()
        renderer = DiffRenderer(layout, palette, HunkHighlighter())
        for y in range(min(layout.row_count, 30)):
            rendered = renderer.render(layout.row(y))
            if isinstance(rendered, RenderedPair):
                assert "\x1b" not in _emit(_line_text(rendered), color=False), name
        assert layout.row_count >= len(layout.index.files), name

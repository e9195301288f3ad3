"""Colouring and file status do not depend on how far the indexer had got when they were first asked for."""

from __future__ import annotations

from grader.core.patches.highlight import WINDOW_LINES, HunkHighlighter
from grader.core.patches.index import PatchIndex, parse_patch


def long_hunk_patch(context_before: int = 385, changed: int = 20, context_after: int = 30) -> str:
    """One Python hunk long enough to be lexed in windows, with a run of paired -/+ lines."""
    body = [f"     value_{i} = compute({i})" for i in range(context_before)]
    body += [f"-    total_{i} = add(total_{i}, {i})" for i in range(changed)]
    body += [f"+    total_{i} = add_checked(total_{i}, {i})" for i in range(changed)]
    body += [f'     label_{i} = "done {i}"' for i in range(context_after)]
    old = new = context_before + changed + context_after
    header = f"diff --git a/m.py b/m.py\nindex 1..2 100644\n--- a/m.py\n+++ b/m.py\n@@ -1,{old} +1,{new} @@\n"
    return header + "\n".join(body) + "\n"


def test_spans_lexed_while_a_hunk_was_growing_match_a_full_index() -> None:
    text = long_hunk_patch()
    partial = PatchIndex(text)
    partial.advance(400)  # stops inside the removed run, mid-window on both sides
    assert not partial.done
    highlighter = HunkHighlighter()
    hunk = partial.files[0].hunks[0]
    scanned = list(hunk.body().lines)
    assert len(scanned) % WINDOW_LINES != 0 and scanned[-1].kind == "-" and scanned[-1].partner == -1
    for index, line in enumerate(scanned):
        highlighter.spans(hunk, index, "old" if line.kind == "-" else "new")
    partial.finish()

    full_hunk = parse_patch(text).files[0].hunks[0]
    lines = full_hunk.body().lines
    fresh = HunkHighlighter()
    for index, line in enumerate(lines):
        side = "old" if line.kind == "-" else "new"
        assert highlighter.spans(hunk, index, side) == fresh.spans(full_hunk, index, side), index
    assert hunk.body().lines[len(scanned) - 1].partner == lines[len(scanned) - 1].partner >= 0


def test_file_status_asked_for_before_the_header_is_indexed_is_not_kept() -> None:
    text = "diff --git a/new.py b/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+x = 1\n"
    index = PatchIndex(text)
    index.advance(1)
    early = index.files[0].info
    index.finish()
    assert early.status == "modified"  # all that one header line can say
    assert index.files[0].info == parse_patch(text).files[0].info
    assert index.files[0].info.status == "added"

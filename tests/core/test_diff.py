"""Parsing patches into files, hunks and numbered lines; tolerance of broken input; layouts; highlighting."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygments.token import String

from grader.core.patches.highlight import HunkHighlighter, lexer_for_path, word_diff
from grader.core.patches.index import FileEntry, HunkEntry, PatchIndex, ProseEntry, parse_patch
from grader.core.patches.layout import DiffLayout, LayoutOptions
from grader.core.patches.stdout import render_patch_text

DIFFS = Path(__file__).resolve().parent.parent / "data" / "diffs"

SIMPLE = """diff --git a/app/main.py b/app/main.py
index 1..2 100644
--- a/app/main.py
+++ b/app/main.py
@@ -3,3 +3,4 @@ def main():
 a = 1
-b = 2
+b = 3
+c = 4
 d = 5
\\ No newline at end of file
"""


def test_lines_are_numbered_on_both_sides() -> None:
    index = parse_patch(SIMPLE)
    (file,) = index.files
    (hunk,) = file.hunks
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (3, 3, 3, 4)
    assert hunk.section == "def main():"
    lines = hunk.body().lines
    assert [(line.kind, line.old_no, line.new_no) for line in lines] == [
        (" ", 3, 3),
        ("-", 4, None),
        ("+", None, 4),
        ("+", None, 5),
        (" ", 5, 6),
        ("\\", None, None),
    ]
    assert lines[1].partner == 2 and lines[2].partner == 1
    assert (file.added, file.removed) == (2, 1)
    assert file.info.status == "modified" and file.info.display_path == "app/main.py"
    assert index.notices == []


@pytest.mark.parametrize(
    ("name", "statuses"),
    [
        ("renamed.diff", ["renamed", "renamed"]),
        ("binary.diff", ["binary", "binary", "mode-only", "modified"]),
        ("python.diff", ["modified"]),
    ],
)
def test_file_status_labels(name: str, statuses: list[str]) -> None:
    index = parse_patch((DIFFS / name).read_text())
    assert [file.info.status for file in index.files] == statuses
    assert not any(isinstance(block, ProseEntry) for block in index.blocks)


def test_added_deleted_copied_and_mode_detail() -> None:
    text = (
        "diff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hi\n"
        "diff --git a/old.txt b/old.txt\ndeleted file mode 100644\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
        "diff --git a/a.sh b/b.sh\nsimilarity index 100%\ncopy from a.sh\ncopy to b.sh\n"
        "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
    )
    infos = [file.info for file in parse_patch(text).files]
    assert [info.status for info in infos] == ["added", "deleted", "copied", "mode-only"]
    assert infos[1].display_path == "old.txt"
    assert infos[3].detail == "mode 100644 → 100755"


def test_a_patch_with_crlf_line_ends_is_not_a_rename() -> None:
    text = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n"
    plain = parse_patch(text).files[0].info
    crlf = parse_patch(text.replace("\n", "\r\n")).files[0].info
    assert (crlf.status, crlf.display_path) == (plain.status, plain.display_path) == ("modified", "x.py")
    added = "diff --git a/n.py b/n.py\nnew file mode 100644\n--- /dev/null\n+++ b/n.py\n@@ -0,0 +1 @@\n+x\n"
    assert parse_patch(added.replace("\n", "\r\n")).files[0].info.status == "added"


def test_plain_unified_diff_without_git_header() -> None:
    text = "--- a/x.c\t2024-01-01\n+++ b/x.c\t2024-01-02\n@@ -1 +1 @@\n-int a;\n+long a;\n"
    (file,) = parse_patch(text).files
    assert file.info.status == "modified" and file.info.new_path == "x.c"


def test_prose_around_a_diff_is_kept_with_a_notice() -> None:
    index = parse_patch("Here is the fix:\n```diff\n" + SIMPLE + "```\nHope it helps.\n")
    kinds = [type(block).__name__ for block in index.blocks]
    assert kinds == ["ProseEntry", "FileEntry", "HunkEntry", "ProseEntry"]
    assert any("not a diff" in notice for notice in index.notices)


def test_truncated_hunk_shows_what_is_there() -> None:
    text = SIMPLE.split("+c = 4")[0]
    index = parse_patch(text)
    assert index.files[0].hunks[0].body().lines[-1].text == "b = 3"
    assert any("truncated" in notice for notice in index.notices)


def test_no_diff_at_all() -> None:
    index = parse_patch("I could not find the bug.\nSorry.")
    assert index.files == [] and len(index.blocks) == 1
    assert any("no diff" in notice for notice in index.notices)
    assert "Sorry." in render_patch_text("I could not find the bug.\nSorry.", color=False)


def test_notices_come_first_inert_and_an_empty_patch_says_so() -> None:
    assert render_patch_text("", color=False) == "⚠ empty patch: nothing to show\n"
    assert render_patch_text(None, color=False) == "⚠ no patch (null): nothing to show\n"
    assert render_patch_text("", color=False, notices=["this patch is empty"]) == "⚠ this patch is empty\n"
    plain = render_patch_text("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", color=False, notices=["from \x1b[31mprose"])
    assert [line.rstrip() for line in plain.splitlines()[:2]] == ["⚠ from ␛[31mprose", "▾ x  modified  +1 −1"]
    layout = DiffLayout(parse_patch("not a diff"), notices=["mine"])
    layout.sync()
    assert [layout.row(y) for y in range(layout.notice_rows)][:1] == [("notice", "mine")]
    assert layout.row(layout.notice_rows) == ("prose", 0)


def test_orphan_and_loose_hunks_and_miscounted_hunks() -> None:
    text = "@@ ... @@\n-a\n+b\n@@ -1,1 +1,1 @@\n-x\n+y\n+z\n"
    index = parse_patch(text)
    (file,) = index.files
    assert file.info.display_path == ""
    assert file.hunks[0].loose and file.hunks[0].body().lines[0].old_no is None
    assert [line.text for line in file.hunks[1].body().lines] == ["x", "y", "z"]
    assert any("more lines than" in notice for notice in index.notices)


@pytest.mark.parametrize("step", [1, 3, 50])
def test_incremental_index_matches_a_full_one(step: int) -> None:
    text = "intro\n" + "".join((DIFFS / name).read_text() for name in ("python.diff", "binary.diff", "renamed.diff"))
    full = parse_patch(text)
    partial = PatchIndex(text)
    while not partial.advance(step):
        pass

    def shape(index: PatchIndex) -> list[tuple[str, int, int]]:
        return [
            (type(b).__name__, b.start, b.end if not isinstance(b, FileEntry) else b.header_end) for b in index.blocks
        ]

    assert shape(partial) == shape(full)
    assert [(f.added, f.removed) for f in partial.files] == [(f.added, f.removed) for f in full.files]


def test_layouts_side_by_side_collapse_and_whitespace() -> None:
    text = SIMPLE + (
        "diff --git a/b.py b/b.py\n--- a/b.py\n+++ b/b.py\n@@ -1,2 +1,2 @@\n-if x:\n-  y()\n+if  x:\n+    y()\n"
    )
    index = parse_patch(text)
    unified = DiffLayout(index)
    unified.sync()
    rows = [unified.row(y) for y in range(unified.row_count)]
    assert [row[0] for row in rows[:3]] == ["file", "hunk", "line"]
    split = DiffLayout(index, LayoutOptions(side_by_side=True))
    split.sync()
    pairs = [split.row(y)[2:] for y in range(split.row_count) if split.row(y)[0] == "pair"]
    assert (1, 2) in pairs and (-1, 3) in pairs  # "-b" beside "+b", "+c" alone
    folded = DiffLayout(index, LayoutOptions(ignore_whitespace=True))
    folded.sync()
    assert folded.row_count == unified.row_count - 2
    assert [folded.row(y)[0] for y in range(folded.row_count)].count("same") == 2
    collapsed = DiffLayout(index, LayoutOptions(collapsed=frozenset({0})))
    collapsed.sync()
    assert collapsed.row_count == unified.row_count - (index.files[0].hunks[0].end - index.files[0].hunks[0].start)
    assert unified.header_rows(HunkEntry) == [1, 9]


def test_each_side_is_lexed_as_continuous_text() -> None:
    text = (
        "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n"
        ' x = """start\n-old words\n+new words\n end"""\n'
    )
    hunk = parse_patch(text).files[0].hunks[0]
    highlighter = HunkHighlighter()
    for index, side in ((1, "old"), (2, "new"), (3, "new")):
        spans = highlighter.spans(hunk, index, side)
        assert spans and all(token in String for _, _, token in spans), (index, spans)


def test_word_diff_and_lexer_choice() -> None:
    old, new = "return 3.14 * r", "return math.pi * r"
    old_ranges, new_ranges = word_diff(old, new) or ([], [])
    assert [old[a:b] for a, b in old_ranges] == ["3", "14"]
    assert [new[a:b] for a, b in new_ranges] == ["math", "pi"]
    assert word_diff("abc", "completely different words here") is None
    assert lexer_for_path("src/app.js").name == "JavaScript"
    assert lexer_for_path("notes.unknownext") is None

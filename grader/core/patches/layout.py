"""Rows of a patch as a view shows them: unified or side by side, files collapsed, whitespace-only changes folded.

Row counts come from the index without parsing hunk bodies in the unified view; other layouts parse the
hunks they need. While the index is still scanning, the rows past its end are estimated from the line count.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from grader.core.patches.index import Block, FileEntry, HunkEntry, PatchIndex, ProseEntry

# A row is a tuple whose first item says what it is:
#   ("notice", text)                                    the caller's notices, then the index's (raw text)
#   ("prose", raw_line) ("file", FileEntry) ("hunk", HunkEntry)
#   ("line", HunkEntry, body_index)                     unified diff line
#   ("same", HunkEntry, old_index, new_index)           whitespace-only change, shown once
#   ("pair", HunkEntry, left_index, right_index)        side by side; -1 for an empty side
#   ("pending",)                                        not indexed yet
Row = tuple

EMPTY_PATCH = "empty patch: nothing to show"
NULL_PATCH = "no patch (null): nothing to show"


def caller_notices(text: str | None, notices: Sequence[str] | None) -> list[str]:
    """The notices to draw above a patch: the caller's, or when there are none and the patch is empty (or None,
    a null patch), a plain line saying so, so that a pane is never blank without a reason."""
    shown = list(notices or [])
    if not shown and not text:
        shown.append(NULL_PATCH if text is None else EMPTY_PATCH)
    return shown


@dataclass(frozen=True, slots=True)
class LayoutOptions:
    side_by_side: bool = False
    ignore_whitespace: bool = False
    collapsed: frozenset[int] = field(default_factory=frozenset)


def _squash(text: str) -> str:
    return "".join(text.split())


def hunk_rows(hunk: HunkEntry, side_by_side: bool, ignore_whitespace: bool) -> list[Row]:
    """Body rows of one hunk for the side-by-side or whitespace-folding layouts (parses the whole hunk)."""
    body = hunk.body()
    lines = body.lines
    rows: list[Row] = []
    i, count = 0, len(lines)
    while i < count:
        line = lines[i]
        if line.kind == " ":
            rows.append(("pair", hunk, i, i) if side_by_side else ("line", hunk, i))
            i += 1
            continue
        if line.kind == "\\":
            previous = lines[i - 1].kind if i else " "
            if not side_by_side:
                rows.append(("line", hunk, i))
            else:
                rows.append(("pair", hunk, i if previous != "+" else -1, i if previous != "-" else -1))
            i += 1
            continue
        removed: list[int] = []
        added: list[int] = []
        while i < count and lines[i].kind in ("-", "\\") and (lines[i].kind == "-" or removed):
            removed.append(i)
            i += 1
        while i < count and lines[i].kind in ("+", "\\") and (lines[i].kind == "+" or added):
            added.append(i)
            i += 1
        if (
            ignore_whitespace
            and len(removed) == len(added)
            and all(_squash(lines[a].text) == _squash(lines[b].text) for a, b in zip(removed, added, strict=True))
        ):
            rows.extend(("same", hunk, a, b) for a, b in zip(removed, added, strict=True))
        elif side_by_side:
            for k in range(max(len(removed), len(added))):
                left = removed[k] if k < len(removed) else -1
                right = added[k] if k < len(added) else -1
                rows.append(("pair", hunk, left, right))
        else:
            rows.extend(("line", hunk, k) for k in removed)
            rows.extend(("line", hunk, k) for k in added)
    return rows


class DiffLayout:
    """Maps a row number to what it shows, for one patch index and one set of options."""

    def __init__(self, index: PatchIndex, options: LayoutOptions | None = None, notices: Sequence[str] = ()) -> None:
        """`notices`: the caller's lines about the patch (its kind, where it came from), drawn first; they may
        hold patch-derived text, which the renderer makes inert like any other."""
        self.index = index
        self.options = options or LayoutOptions()
        self.notices = list(notices)
        self._starts: list[int] = []  # first row of each settled block (after the notices)
        self._settled = 0  # blocks whose row count is final
        self._settled_rows = 0
        self._hunk_rows: dict[int, list[Row]] = {}
        self._notices = len(self.notices) + (len(index.notices) if index.done else 0)
        self._needs_rows = self.options.side_by_side or self.options.ignore_whitespace

    @property
    def notice_rows(self) -> int:
        return self._notices

    def _block_rows(self, block: Block) -> int:
        if isinstance(block, HunkEntry):
            if block.file.index in self.options.collapsed:
                return 0
            if self._needs_rows:
                return 1 + len(self._rows_of(block))
            return block.end - block.start
        if isinstance(block, FileEntry):
            return 1
        return block.end - block.start

    def _rows_of(self, hunk: HunkEntry) -> list[Row]:
        key = id(hunk)
        rows = self._hunk_rows.get(key)
        if rows is None:
            rows = hunk_rows(hunk, self.options.side_by_side, self.options.ignore_whitespace)
            if self._is_settled(hunk):
                self._hunk_rows[key] = rows
        return rows

    def _is_settled(self, block: Block) -> bool:
        return self.index.done or block is not self.index.blocks[-1]

    def sync(self) -> bool:
        """Take in blocks the index has settled since the last call; True when the row count changed."""
        index = self.index
        before = (self._settled, self._notices)
        settled_target = len(index.blocks) if index.done else max(len(index.blocks) - 1, 0)
        while self._settled < settled_target:
            block = index.blocks[self._settled]
            self._starts.append(self._settled_rows)
            self._settled_rows += self._block_rows(block)
            self._settled += 1
        if index.done:
            self._notices = len(self.notices) + len(index.notices)
        return before != (self._settled, self._notices) or not index.done

    def _open_block_rows(self) -> int:
        if self.index.done or not self.index.blocks or self._settled >= len(self.index.blocks):
            return 0
        return self._block_rows(self.index.blocks[-1])

    def _pending_rows(self) -> int:
        if self.index.done:
            return 0
        return max(self.index.estimated_line_count - self.index.scanned_lines, 0)

    @property
    def known_rows(self) -> int:
        """Rows of the blocks indexed so far."""
        return self._notices + self._settled_rows + self._open_block_rows()

    @property
    def row_count(self) -> int:
        return self.known_rows + self._pending_rows()

    def ensure_row(self, y: int) -> None:
        """Index far enough that row `y` is known (synchronous; used when a jump outruns the indexer)."""
        while not self.index.done and y >= self.known_rows:
            self.index.ensure_scanned(self.index.scanned_lines + max(y - self.known_rows + 256, 1024))
            self.sync()

    def row(self, y: int) -> Row:
        if y < self._notices:
            own = len(self.notices)
            return ("notice", self.notices[y] if y < own else self.index.notices[y - own])
        y -= self._notices
        if y >= self._settled_rows:
            open_rows = self._open_block_rows()
            if y - self._settled_rows < open_rows:
                return self._row_in_block(self.index.blocks[-1], y - self._settled_rows)
            return ("pending",)
        block_number = bisect_right(self._starts, y) - 1
        return self._row_in_block(self.index.blocks[block_number], y - self._starts[block_number])

    def _row_in_block(self, block: Block, offset: int) -> Row:
        if isinstance(block, FileEntry):
            return ("file", block)
        if isinstance(block, ProseEntry):
            return ("prose", block.start + offset)
        if offset == 0:
            return ("hunk", block)
        if self._needs_rows:
            rows = self._rows_of(block)
            return rows[offset - 1] if offset - 1 < len(rows) else ("pending",)
        return ("line", block, offset - 1)

    # -- navigation ---------------------------------------------------------------------------------------
    def block_row(self, block: Block) -> int | None:
        """The first row of a settled block, or None when it is not laid out yet."""
        try:
            number = self.index.blocks.index(block, 0, self._settled)
        except ValueError:
            return None
        return self._notices + self._starts[number]

    def header_rows(self, kind: type) -> list[int]:
        """First rows of every settled block of a kind (FileEntry or HunkEntry), skipping collapsed hunks."""
        rows = []
        for number in range(self._settled):
            block = self.index.blocks[number]
            if isinstance(block, kind):
                if isinstance(block, HunkEntry) and block.file.index in self.options.collapsed:
                    continue
                rows.append(self._notices + self._starts[number])
        return rows

    def file_at(self, y: int) -> FileEntry | None:
        """The file a row belongs to (the last file header at or above it)."""
        row = self.row(y)
        if row[0] == "file":
            return row[1]
        if row[0] in ("hunk", "line", "same", "pair"):
            return row[1].file
        y -= self._notices
        if y < 0 or not self._starts:
            return None
        number = min(bisect_right(self._starts, y) - 1, self._settled - 1)
        while number >= 0:
            block = self.index.blocks[number]
            if isinstance(block, FileEntry):
                return block
            if isinstance(block, ProseEntry):
                return None
            number -= 1
        return None

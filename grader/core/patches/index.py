"""A patch as files, hunks and lines with old/new numbers, built lazily so a 50k-line patch opens at once.

`PatchIndex` scans the text incrementally (`advance`) into blocks: file headers, hunks and prose (the entries
live in grader.core.patches.entries and are re-exported here). Hunk bodies are parsed on demand in chunks
(`HunkEntry.body`), file headers through unidiff (`FileEntry.info`). Nothing raises on a broken patch: what does
not parse becomes prose, with a notice.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from unidiff.constants import RE_HUNK_HEADER

from grader.core.patches.entries import (
    BODY_CHUNK_LINES,
    MAX_PAIRED_RUN,
    Block,
    DiffLine,
    FileEntry,
    FileInfo,
    HunkBody,
    HunkEntry,
    ProseEntry,
    file_info,
)
from grader.core.text.sanitize import TAB_SIZE, has_surrogates

__all__ = [
    "BODY_CHUNK_LINES",
    "CHUNK_CHARS",
    "MAX_PAIRED_RUN",
    "Block",
    "DiffLine",
    "FileEntry",
    "FileInfo",
    "HunkBody",
    "HunkEntry",
    "PatchIndex",
    "ProseEntry",
    "file_info",
    "parse_patch",
]

CHUNK_CHARS = 65536  # text split into lines this much at a time

_HEADER_PREFIXES = (
    "index ",
    "old mode ",
    "new mode ",
    "new file mode ",
    "deleted file mode ",
    "similarity index ",
    "dissimilarity index ",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
    "Binary files ",
    "===",
)
_OUT, _HEADER, _HUNK, _BINARY = 0, 1, 2, 3
_LOOSE_HUNK = re.compile(r"^@@.*@@")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class PatchIndex:
    """Blocks of a patch text, scanned incrementally: `advance()` a bounded amount at a time, `finish()` all."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: list[str] = []
        self.blocks: list[Block] = []
        self.files: list[FileEntry] = []
        self.notices: list[str] = []
        self.max_line_width = 0  # cells of the widest line as drawn, or a little more: for sideways scrolling
        self.done = not text
        self._text_pos = 0
        self._next = 0  # next line to scan
        self._state = _OUT
        self._file: FileEntry | None = None
        self._hunk: HunkEntry | None = None
        self._prose: ProseEntry | None = None
        self._old_left = self._new_left = 0
        self._overflowed = self._truncated = False

    # -- lines -------------------------------------------------------------------------------------------
    @property
    def all_lines_loaded(self) -> bool:
        return self._text_pos >= len(self.text)

    def _load_lines(self) -> bool:
        """Split the next chunk of text into lines; False when the text is exhausted."""
        text, pos = self.text, self._text_pos
        if pos >= len(text):
            return False
        stop = pos + CHUNK_CHARS
        if stop < len(text):
            newline = text.find("\n", stop)
            stop = len(text) if newline < 0 else newline + 1
        else:
            stop = len(text)
        piece = text[pos:stop]
        new_lines = piece.split("\n")
        if piece.endswith("\n"):
            new_lines.pop()
        self.lines.extend(new_lines)
        self.max_line_width = max(self.max_line_width, _widest(piece, new_lines))
        self._text_pos = stop
        return True

    @property
    def estimated_line_count(self) -> int:
        """Exact once all lines are loaded; otherwise extrapolated from the lines seen so far."""
        if self.all_lines_loaded or not self.lines:
            return len(self.lines)
        per_line = self._text_pos / len(self.lines)
        return len(self.lines) + int((len(self.text) - self._text_pos) / max(per_line, 1.0))

    @property
    def scanned_lines(self) -> int:
        return self._next

    def release(self) -> None:
        """Drop everything, breaking the entries' links back to the index, so a patch that is no longer shown
        is freed at once by reference counting instead of waiting for (and lengthening) a full GC pass."""
        for block in self.blocks:
            if isinstance(block, HunkEntry):
                block._body = None
        self.blocks.clear()
        self.files.clear()
        self.lines.clear()
        self.done = True

    # -- scanning ----------------------------------------------------------------------------------------
    def finish(self) -> PatchIndex:
        while not self.done:
            self.advance(1 << 30)
        return self

    def ensure_scanned(self, line_count: int) -> None:
        while not self.done and self._next < line_count:
            self.advance(max(line_count - self._next, 1024))

    def advance(self, max_lines: int = 4096) -> bool:
        """Scan up to `max_lines` more lines; True when the whole text is indexed."""
        if self.done:
            return True
        stop = self._next + max_lines
        while self._next < stop:
            if self._next + 1 >= len(self.lines) and not self.all_lines_loaded:
                self._load_lines()
                continue
            if self._next >= len(self.lines):
                self._end_of_text()
                return True
            self._scan(min(stop, len(self.lines) - (0 if self.all_lines_loaded else 1)))
        return self.done

    def _end_of_text(self) -> None:
        if self._state == _HUNK and (self._old_left > 0 or self._new_left > 0):
            self._truncated = True
        self._close_hunk()
        if self._truncated:
            self.notices.append("the patch ends inside a hunk (truncated); its missing lines are not shown")
        if self._overflowed:
            self.notices.append("some hunks have more lines than their @@ header says; all are shown")
        if any(isinstance(b, ProseEntry) for b in self.blocks):
            what = "it has no diff" if not self.files else "parts of it are not a diff"
            self.notices.append(f"{what}: that text is shown as plain text")
        if has_surrogates(self.text):
            self.notices.append("the patch holds invalid UTF-8, shown as \ufffd")
        if _CONTROL.search(self.text):
            self.notices.append(
                "the patch holds control characters (escapes, CR, BEL...), shown inert as \u241b-style marks"
            )
        self.done = True

    def _close_hunk(self) -> None:
        self._hunk = None
        self._state = _HEADER if self._file is not None and self._state == _HUNK else self._state

    def _scan(self, stop: int) -> None:
        lines = self.lines
        i = self._next
        while i < stop:
            line = lines[i]
            if self._state == _HUNK:
                hunk = self._hunk
                assert hunk is not None and self._file is not None
                kind = line[:1]
                if self._old_left > 0 or self._new_left > 0:
                    # Within the header's counts every line belongs to the hunk, "--- " and "+++ " included.
                    if kind == " " or kind == "":
                        self._old_left -= 1
                        self._new_left -= 1
                    elif kind == "-":
                        self._old_left -= 1
                        self._file.removed += 1
                    elif kind == "+":
                        self._new_left -= 1
                        self._file.added += 1
                    elif kind != "\\":
                        self._truncated = True
                        self._close_hunk()
                        continue
                    i += 1
                    hunk.end = i
                    continue
                if kind == "\\" or (kind in ("+", "-", " ") and not self._starts_file(i)):
                    if kind != "\\":
                        self._overflowed = self._overflowed or not hunk.loose
                        if kind == "+":
                            self._file.added += 1
                        elif kind == "-":
                            self._file.removed += 1
                    i += 1
                    hunk.end = i
                    continue
                self._close_hunk()
                continue
            i = self._scan_outside(i)
        self._next = i

    def _starts_file(self, i: int) -> bool:
        line = self.lines[i]
        if line.startswith("diff "):
            return True
        if line.startswith("--- "):
            if i + 1 >= len(self.lines):
                self._load_lines()
            return i + 1 < len(self.lines) and self.lines[i + 1].startswith("+++ ")
        return False

    def _scan_outside(self, i: int) -> int:
        """Handle one line outside a hunk body; returns the next line to scan."""
        line = self.lines[i]
        state = self._state
        if line.startswith("diff "):
            self._start_file(i)
            return i + 1
        if line.startswith("@@"):
            match = RE_HUNK_HEADER.match(line)
            if match is not None or _LOOSE_HUNK.match(line):
                self._start_hunk(i, match)
                return i + 1
        if self._starts_file(i):
            file = self._file
            if state == _HEADER and file is not None and not file.hunks and file.header_end == i:
                file.header_end = i + 2  # the ---/+++ pair of a git header
            else:
                self._start_file(i, header_lines=2)
            return i + 2
        if line.startswith("Index: "):
            self._start_file(i)
            return i + 1
        if state == _HEADER and self._file is not None and self._file.header_end == i:
            if line.startswith(_HEADER_PREFIXES):
                self._file.header_end = i + 1
                return i + 1
            if line == "GIT binary patch":
                self._file.header_end = i + 1
                self._file.binary_patch = True
                self._state = _BINARY
                return i + 1
        if state == _BINARY and self._file is not None and self._file.header_end == i:
            self._file.header_end = i + 1
            return i + 1
        if line.startswith("Binary files ") and line.endswith(" differ"):
            self._start_file(i)
            return i + 1
        self._add_prose(i)
        return i + 1

    def _start_file(self, i: int, header_lines: int = 1) -> None:
        file = FileEntry(self, len(self.files), i)
        file.header_end = i + header_lines
        self.files.append(file)
        self.blocks.append(file)
        self._file, self._prose, self._hunk = file, None, None
        self._state = _HEADER

    def _start_hunk(self, i: int, match: re.Match[str] | None) -> None:
        if self._file is None:
            # A hunk with no file header: keep it, under a file of unknown name.
            self._start_file(i, header_lines=0)
        assert self._file is not None
        hunk = HunkEntry(self, self._file, i, match)
        self._file.hunks.append(hunk)
        self.blocks.append(hunk)
        self._hunk, self._prose = hunk, None
        self._old_left, self._new_left = hunk.old_count, hunk.new_count
        self._state = _HUNK

    def _add_prose(self, i: int) -> None:
        if self._prose is not None and self._prose.end == i:
            self._prose.end = i + 1
        else:
            self._prose = ProseEntry(i)
            self.blocks.append(self._prose)
        self._state = _OUT


def _widest(piece: str, lines: list[str]) -> int:
    """An upper bound on the cells the widest of `lines` (split from `piece`) takes on screen: a tab may take
    TAB_SIZE cells and a wide character two, so counting characters alone would leave line ends out of reach."""
    widest = max(map(len, lines), default=0)
    if "\t" in piece:
        tabbed = (len(line) + (TAB_SIZE - 1) * line.count("\t") for line in lines if "\t" in line)
        widest = max(widest, max(tabbed, default=0))
    if not piece.isascii():
        wide = (cell_len(line) + (TAB_SIZE - 1) * line.count("\t") for line in lines if not line.isascii())
        widest = max(widest, max(wide, default=0))
    return widest


def parse_patch(text: str) -> PatchIndex:
    """The whole patch indexed at once (for printing and tests; the view indexes incrementally)."""
    return PatchIndex(text).finish()

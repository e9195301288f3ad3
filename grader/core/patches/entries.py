"""The entries of an indexed patch: files, hunks (bodies parsed into lines on demand) and prose, plus a file's
status from its header lines through unidiff. `grader.core.patches.index` scans a patch text into these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

BODY_CHUNK_LINES = 256  # hunk body lines parsed at a time
MAX_PAIRED_RUN = 1000  # removed runs longer than this get no word-level pairing


class PatchIndex(Protocol):
    """What an entry reads of the index that made it (`grader.core.patches.index.PatchIndex`; a protocol here, so the
    entries do not import the scanner): the lines so far, whether the scan is done, and the file and hunk the
    scan is still extending."""

    lines: list[str]
    done: bool
    _file: FileEntry | None
    _hunk: HunkEntry | None


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What a file entry does: paths and a status label (modified, added, deleted, renamed, copied, binary,
    mode-only), with a detail such as the mode change."""

    old_path: str
    new_path: str
    status: str
    detail: str = ""

    @property
    def display_path(self) -> str:
        if self.status in ("renamed", "copied") and self.old_path != self.new_path:
            return f"{self.old_path} → {self.new_path}"
        return self.old_path if self.status == "deleted" else self.new_path


class DiffLine:
    """One body line of a hunk: kind is ' ' (context), '-', '+' or '\\' (no-newline marker)."""

    __slots__ = ("kind", "new_no", "old_no", "partner", "text")

    def __init__(self, kind: str, text: str, old_no: int | None, new_no: int | None) -> None:
        self.kind = kind
        self.text = text
        self.old_no = old_no
        self.new_no = new_no
        self.partner = -1  # index in the hunk body of the paired -/+ line, for word-level emphasis

    def __repr__(self) -> str:
        return f"DiffLine({self.kind!r}, {self.text!r}, {self.old_no}, {self.new_no})"


class HunkBody:
    """The parsed lines of one hunk, filled in chunks as far as the view needs."""

    __slots__ = ("complete", "lines", "new_no", "new_side", "next_raw", "old_no", "old_side", "pending_removed")

    def __init__(self, start_raw: int, old_no: int, new_no: int) -> None:
        self.lines: list[DiffLine] = []
        self.old_side: list[int] = []  # body indices of the old side (context and removed), in order
        self.new_side: list[int] = []  # body indices of the new side (context and added)
        self.next_raw = start_raw
        self.old_no = old_no
        self.new_no = new_no
        self.pending_removed: list[int] = []
        self.complete = False


class HunkEntry:
    """A hunk: its raw line range (the @@ line first) and header numbers; loose when the header had none."""

    __slots__ = (
        "_body",
        "end",
        "file",
        "new_count",
        "new_start",
        "old_count",
        "old_start",
        "patch",
        "section",
        "start",
    )

    def __init__(self, patch: PatchIndex, file: FileEntry, start: int, match: re.Match[str] | None) -> None:
        self.patch = patch
        self.file = file
        self.start = start
        self.end = start + 1
        if match is not None:
            self.old_start = int(match.group(1))
            self.old_count = int(match.group(2)) if match.group(2) is not None else 1
            self.new_start = int(match.group(3))
            self.new_count = int(match.group(4)) if match.group(4) is not None else 1
            self.section = match.group(5) or ""
        else:
            self.old_start = self.old_count = self.new_start = self.new_count = 0
            self.section = ""
        self._body: HunkBody | None = None

    @property
    def loose(self) -> bool:
        """True when the @@ line carried no numbers, so the lines get none either."""
        return self.old_start == 0 and self.new_start == 0 and self.old_count == 0 and self.new_count == 0

    @property
    def header(self) -> str:
        return self.patch.lines[self.start]

    @property
    def settled(self) -> bool:
        """True once the indexer has moved past this hunk, so its line range (and pairing) is final."""
        return self.patch.done or self.patch._hunk is not self

    @property
    def body_length(self) -> int:
        return self.end - self.start - 1

    def body(self, upto: int | None = None) -> HunkBody:
        """The body parsed at least to line `upto` (all of it when None)."""
        body = self._body
        if body is None:
            body = self._body = HunkBody(self.start + 1, self.old_start, self.new_start)
        target = self.end if upto is None else min(self.end, self.start + 1 + upto + 1)
        if body.next_raw < target:
            self._parse(body, max(target, body.next_raw + BODY_CHUNK_LINES))
        body.complete = body.next_raw >= self.end
        return body

    def _parse(self, body: HunkBody, stop: int) -> None:
        lines, out = self.patch.lines, body.lines
        numbered = not self.loose
        old_no, new_no = body.old_no, body.new_no
        pending = body.pending_removed
        pairable = (self.old_count > 0 and self.new_count > 0) or not numbered
        raw = body.next_raw
        end = self.end
        while raw < end and (raw < stop or (pairable and pending and len(pending) <= MAX_PAIRED_RUN)):
            text = lines[raw]
            kind = text[:1] or " "
            index = len(out)
            if kind == "+":
                line = DiffLine("+", text[1:], None, new_no if numbered else None)
                new_no += 1
                body.new_side.append(index)
                if pending:
                    partner = pending.pop(0)
                    line.partner = partner
                    out[partner].partner = index
            elif kind == "-":
                line = DiffLine("-", text[1:], old_no if numbered else None, None)
                old_no += 1
                body.old_side.append(index)
                if out and out[-1].kind == "+":
                    pending.clear()
                pending.append(index)
            elif kind == "\\":
                line = DiffLine("\\", text, None, None)
            else:
                line = DiffLine(" ", text[1:], old_no if numbered else None, new_no if numbered else None)
                old_no += 1
                new_no += 1
                body.old_side.append(index)
                body.new_side.append(index)
                pending.clear()
            out.append(line)
            raw += 1
        body.next_raw, body.old_no, body.new_no = raw, old_no, new_no
        body.complete = raw >= end


class FileEntry:
    """One file of the patch: its header lines and hunks, and +/- counts found while indexing."""

    __slots__ = ("_info", "added", "binary_patch", "header_end", "hunks", "index", "patch", "removed", "start")

    def __init__(self, patch: PatchIndex, index: int, start: int) -> None:
        self.patch = patch
        self.index = index
        self.start = start
        self.header_end = start + 1
        self.hunks: list[HunkEntry] = []
        self.added = 0
        self.removed = 0
        self.binary_patch = False
        self._info: FileInfo | None = None

    @property
    def header_lines(self) -> list[str]:
        return self.patch.lines[self.start : self.header_end]

    @property
    def info(self) -> FileInfo:
        """Paths and status, from unidiff on the header lines (cached once the indexer has moved past the file:
        until then its header and hunks may still grow, and the status with them)."""
        if self._info is not None:
            return self._info
        info = file_info(self.header_lines, self.hunks, self.binary_patch)
        if self.patch.done or self.patch._file is not self:
            self._info = info
        return info


class ProseEntry:
    """Lines that are not part of any diff (explanations around a patch, stray text)."""

    __slots__ = ("end", "start")

    def __init__(self, start: int) -> None:
        self.start = start
        self.end = start + 1


Block = FileEntry | HunkEntry | ProseEntry


def _strip_prefix(path: str) -> str:
    path = path.strip('"')
    return path[2:] if path[:2] in ("a/", "b/") else path


def file_info(header: list[str], hunks: list[HunkEntry], binary_patch: bool = False) -> FileInfo:
    """Status of a file from its header lines, parsed by unidiff; a best guess when unidiff refuses them.

    A CR ending a header line is the patch's CRLF line ends, not part of a file name.
    """
    header = [line.removesuffix("\r") for line in header]
    text = "\n".join(header) + "\n"
    old_path = new_path = ""
    source_mode = target_mode = None
    binary = binary_patch
    try:
        parsed = PatchSet(text)
    except (UnidiffParseError, ValueError, AssertionError):
        parsed = []
    if parsed:
        entry = parsed[0]
        old_path, new_path = entry.source_file or "", entry.target_file or ""
        source_mode, target_mode = entry.source_mode, entry.target_mode
        binary = binary or entry.is_binary_file
    elif header:
        words = header[0].split()
        old_path = new_path = words[-1] if words else ""
    if binary_patch or any(line.startswith("Binary files ") for line in header):
        binary = True
    lines = set(header)
    added = old_path == "/dev/null" or any(h.old_start == 0 and h.old_count == 0 and not h.loose for h in hunks[:1])
    deleted = new_path == "/dev/null" or (
        len(hunks) == 1 and hunks[0].new_start == 0 and hunks[0].new_count == 0 and not hunks[0].loose
    )
    old_clean = _strip_prefix(old_path) if old_path != "/dev/null" else ""
    new_clean = _strip_prefix(new_path) if new_path != "/dev/null" else ""
    old_clean = old_clean or new_clean
    new_clean = new_clean or old_clean
    mode_detail = ""
    if source_mode and target_mode and source_mode != target_mode:
        mode_detail = f"mode {source_mode} → {target_mode}"
    if binary:
        status = "binary"
        detail = "added" if added else "deleted" if deleted else "binary content not shown"
    elif deleted:
        status, detail = "deleted", ""
    elif added:
        status, detail = "added", ""
    elif any(line.startswith("copy from ") for line in lines):
        status, detail = "copied", mode_detail
    elif any(line.startswith("rename from ") for line in lines) or old_clean != new_clean:
        status, detail = "renamed", mode_detail
    elif mode_detail and not hunks:
        status, detail = "mode-only", mode_detail
    else:
        status, detail = "modified", mode_detail
    return FileInfo(old_clean, new_clean, status, detail)

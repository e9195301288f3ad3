"""A patch as files, hunks and lines with old/new numbers, built lazily so a 50k-line patch opens at once.

`PatchIndex` scans the text incrementally (`advance`) into blocks: file headers, hunks and prose. Hunk bodies
are parsed on demand in chunks (`HunkEntry.body`), file headers through unidiff (`FileEntry.info`). Nothing
raises on a broken patch: what does not parse becomes prose, with a notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from unidiff import PatchSet
from unidiff.constants import RE_HUNK_HEADER
from unidiff.errors import UnidiffParseError

from grader.core.sanitize import has_surrogates

CHUNK_CHARS = 65536  # text split into lines this much at a time
BODY_CHUNK_LINES = 256  # hunk body lines parsed at a time
MAX_PAIRED_RUN = 1000  # removed runs longer than this get no word-level pairing

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
    """Status of a file from its header lines, parsed by unidiff; a best guess when unidiff refuses them."""
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


class PatchIndex:
    """Blocks of a patch text, scanned incrementally: `advance()` a bounded amount at a time, `finish()` all."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: list[str] = []
        self.blocks: list[Block] = []
        self.files: list[FileEntry] = []
        self.notices: list[str] = []
        self.max_line_length = 0
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
        self.max_line_length = max(self.max_line_length, max(map(len, new_lines), default=0))
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


def parse_patch(text: str) -> PatchIndex:
    """The whole patch indexed at once (for printing and tests; the view indexes incrementally)."""
    return PatchIndex(text).finish()

"""Syntax colouring of hunks, per side, and word-level emphasis of paired -/+ lines; lazy and cached.

Each side of a hunk (old: context + removed, new: context + added) is lexed as continuous text, so strings and
comments spanning lines colour correctly; tokens are mapped back to (start, end, token type) spans of each
line. A side longer than `WHOLE_SIDE_LINES` is lexed in windows of `WINDOW_LINES`, so the first screen of a
28k-line hunk costs a window, not the hunk (a construct spanning a window edge may colour wrongly there).
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections import OrderedDict
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from pygments.lexer import Lexer
from pygments.lexers import find_lexer_class_for_filename
from pygments.token import _TokenType
from pygments.util import ClassNotFound

if TYPE_CHECKING:
    from grader.core.patches.index import HunkEntry

WHOLE_SIDE_LINES = 150
WINDOW_LINES = 32
MAX_LEX_CHARS = 1000  # a line is lexed up to here; the rest stays plain
MAX_WORD_DIFF_CHARS = 500
MIN_WORD_DIFF_RATIO = 0.35

Span = tuple[int, int, _TokenType]
_WORDS = re.compile(r"\w+|\s+|[^\w\s]")
_lexer_classes: dict[str, type[Lexer] | None] = {}
# Pygments loads lexer modules lazily, and a RegexLexer class compiles its token table (editing it in place) when
# first instantiated; the warm-up worker and a paint must not do either at once. One lookup at a time.
_lexer_lookup = threading.Lock()


def lexer_for_path(path: str) -> Lexer | None:
    """A Pygments lexer chosen from the file name, or None for plain text (cached per name)."""
    name = path.rsplit("/", 1)[-1]
    key = name if "." not in name else "*." + name.rsplit(".", 1)[-1]
    if key not in _lexer_classes:
        with _lexer_lookup:
            if key not in _lexer_classes:
                try:
                    _lexer_classes[key] = find_lexer_class_for_filename(name) if name else None
                except (ClassNotFound, ValueError):
                    _lexer_classes[key] = None
    lexer_class = _lexer_classes[key]
    if lexer_class is None:
        return None
    with _lexer_lookup:
        return lexer_class(stripnl=False, ensurenl=False)


def warm_up() -> None:
    """Load Pygments' lexer table (about 0.1 s the first time), so the first patch opens fast."""
    lexer_for_path("warm.py")


def spans_by_line(lexer: Lexer, texts: list[str]) -> list[list[Span]]:
    """Lex lines as one continuous text and split the tokens back into per-line spans."""
    capped = [text[:MAX_LEX_CHARS] for text in texts]
    result: list[list[Span]] = [[] for _ in capped]
    if not capped:
        return result
    source = "\n".join(capped) + "\n"
    starts = [0]
    for text in capped:
        starts.append(starts[-1] + len(text) + 1)
    line = 0
    try:
        tokens = lexer.get_tokens_unprocessed(source)
        for position, token_type, value in tokens:
            end = position + len(value)
            while line < len(capped) and position < end:
                line_end = starts[line] + len(capped[line])
                if position >= line_end + 1:
                    line += 1
                    continue
                piece_end = min(end, line_end)
                if piece_end > position:
                    result[line].append((position - starts[line], piece_end - starts[line], token_type))
                if end > line_end:
                    position = line_end + 1
                    line += 1
                else:
                    break
    except Exception:
        return [[] for _ in capped]
    return result


def word_diff(old: str, new: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]] | None:
    """Character ranges that changed between two paired lines, or None when they are too unlike to pair."""
    if old == new or len(old) > MAX_WORD_DIFF_CHARS or len(new) > MAX_WORD_DIFF_CHARS:
        return None
    old_words, new_words = _WORDS.findall(old), _WORDS.findall(new)
    matcher = SequenceMatcher(None, old_words, new_words, autojunk=False)
    if matcher.ratio() < MIN_WORD_DIFF_RATIO:
        return None
    old_offsets, new_offsets = _offsets(old_words), _offsets(new_words)
    old_ranges: list[tuple[int, int]] = []
    new_ranges: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            old_ranges.append((old_offsets[i1], old_offsets[i2]))
        if j2 > j1:
            new_ranges.append((new_offsets[j1], new_offsets[j2]))
    return old_ranges, new_ranges


def _offsets(words: list[str]) -> list[int]:
    offsets = [0]
    for word in words:
        offsets.append(offsets[-1] + len(word))
    return offsets


class HunkHighlighter:
    """Cached syntax spans and word-level emphasis for the hunks of one patch."""

    def __init__(self, max_windows: int = 256, max_pairs: int = 2048) -> None:
        # (hunk, side, window) -> (spans of its lines, final): a window lexed while its hunk was still being
        # indexed is not final, and is lexed again once more of its lines are known.
        self._windows: OrderedDict[tuple[int, str, int], tuple[list[list[Span]], bool]] = OrderedDict()
        self._pairs: OrderedDict[tuple[str, str], tuple[list[tuple[int, int]], list[tuple[int, int]]] | None] = (
            OrderedDict()
        )
        self._lexers: dict[int, Lexer | None] = {}
        self._max_windows = max_windows
        self._max_pairs = max_pairs

    def clear(self) -> None:
        self._windows.clear()
        self._pairs.clear()
        self._lexers.clear()

    def _lexer(self, hunk: HunkEntry) -> Lexer | None:
        key = id(hunk.file)
        if key not in self._lexers:
            info = hunk.file.info
            self._lexers[key] = lexer_for_path(info.new_path or info.old_path)
        return self._lexers[key]

    def spans(self, hunk: HunkEntry, body_index: int, side: str) -> list[Span]:
        """Syntax spans of one body line, on the old side ('-' and context) or the new side ('+')."""
        lexer = self._lexer(hunk)
        if lexer is None:
            return []
        body = hunk.body(body_index)
        indices = body.old_side if side == "old" else body.new_side
        position = bisect_left(indices, body_index)
        if position >= len(indices) or indices[position] != body_index:
            return []
        side_length = hunk.old_count if side == "old" else hunk.new_count
        size = WHOLE_SIDE_LINES if side_length <= WHOLE_SIDE_LINES and not hunk.loose else WINDOW_LINES
        window = position // size
        key = (id(hunk), side, window)
        cached = self._windows.get(key)
        if cached is None or not cached[1]:
            texts, final = self._window_texts(hunk, side, window * size, size)
            if cached is None or final or len(texts) != len(cached[0]):
                cached = (spans_by_line(lexer, texts), final)
                self._windows[key] = cached
                if len(self._windows) > self._max_windows:
                    self._windows.popitem(last=False)
        else:
            self._windows.move_to_end(key)
        spans, _ = cached
        offset = position - window * size
        return spans[offset] if offset < len(spans) else []

    @staticmethod
    def _window_texts(hunk: HunkEntry, side: str, first: int, size: int) -> tuple[list[str], bool]:
        """The texts of one window of a side, and whether they are final (the window is full, or its hunk is
        completely indexed and parsed)."""
        body = hunk.body(0)
        indices = body.old_side if side == "old" else body.new_side
        while not body.complete and len(indices) < first + size:
            body = hunk.body(len(body.lines) + size)
            indices = body.old_side if side == "old" else body.new_side
        texts = [body.lines[i].text for i in indices[first : first + size]]
        return texts, len(texts) == size or (body.complete and hunk.settled)

    def emphasis(self, old: str, new: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]] | None:
        key = (old, new)
        if key in self._pairs:
            return self._pairs[key]
        result = word_diff(old, new)
        self._pairs[key] = result
        if len(self._pairs) > self._max_pairs:
            self._pairs.popitem(last=False)
        return result

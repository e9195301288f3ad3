"""How the diff view paints: layout rows mapped to visual rows (one each, or several when wrapping), rendered
lazily through two LRU caches (rendered rows and final cropped strips), with syntax colouring on a budget per paint.
"""

from __future__ import annotations

from bisect import bisect_right
from math import ceil
from time import perf_counter

from rich.segment import Segment
from textual.cache import LRUCache
from textual.strip import Strip

from grader.core.diff import HunkEntry, PatchIndex
from grader.core.diff_layout import DiffLayout, LayoutOptions, Row
from grader.core.diff_render import DiffPalette, DiffRenderer, RenderedLine, RenderedPair
from grader.core.sanitize import MAX_LINE_CHARS

PREFETCH_DELAY = 0.012  # seconds after a paint before the neighbouring pages are rendered ahead
# Syntax colouring is spent at most this long per paint; rows past it paint tinted but uncoloured, and are
# coloured a moment later (paint first, refine), so no patch can make a key press slow.
COLOUR_BUDGET = 0.004
REFINE_DELAY = 0.03


class DiffRowPainter:
    """Mixed into DiffView (a ScrollView), which sets these attributes; it provides the widget's size, scroll
    position, timers and refresh."""

    colour_budget: float | None
    _index: PatchIndex
    _options: LayoutOptions
    _layout: DiffLayout
    _palette: DiffPalette
    _renderer: DiffRenderer
    _rendered: LRUCache[int, RenderedLine | RenderedPair]
    _strips: LRUCache[tuple[int, int, int, int], Strip]
    _wrap: bool
    _wrap_starts: list[int]
    _wrap_width: int
    _generation: int
    _prefetched: tuple[int, int] | None
    _budget_start: float
    _provisional: set[int]
    _refine_pending: bool
    _unsettled: set[int]

    # -- visual rows ------------------------------------------------------------------------------------
    def _code_width(self) -> int:
        return max(self.size.width, 20)

    def _compute_wrap(self) -> None:
        """Visual rows per layout row, estimated from line lengths (exact for ASCII without tabs)."""
        width = self._code_width()
        self._wrap_width = width
        starts: list[int] = []
        total = 0
        layout = self._layout
        for y in range(layout.row_count):
            starts.append(total)
            total += self._row_height(layout.row(y), width)
        starts.append(total)
        self._wrap_starts = starts

    def _row_height(self, row: Row, width: int) -> int:
        kind = row[0]
        if kind == "prose":
            return _height(len(self._index.lines[row[1]]), width)
        if kind == "line" or kind == "same":
            hunk: HunkEntry = row[1]
            index = row[2] if kind == "line" else row[3]
            text = hunk.body(index).lines[index].text
            return _height(len(text.expandtabs(4)) if "\t" in text else len(text), width - self._prefix_width(hunk))
        if kind == "pair":
            hunk = row[1]
            half = (width - 1) // 2 - self._prefix_width(hunk, split=True)
            lines = hunk.body().lines
            return max(_height(len(lines[side].text), half) if side >= 0 else 1 for side in (row[2], row[3]))
        return 1

    def _prefix_width(self, hunk: HunkEntry, split: bool = False) -> int:
        number = self._renderer.number_width(hunk)
        return number + 3 if split else number * 2 + 4

    def _top_row(self) -> int:
        return self._layout_row_of(round(self.scroll_y))[0]

    def _layout_row_of(self, visual_y: int) -> tuple[int, int]:
        """(layout row, part of it) shown on a visual row."""
        if not self._wrap or not self._wrap_starts:
            return visual_y, 0
        row = bisect_right(self._wrap_starts, visual_y) - 1
        return row, visual_y - self._wrap_starts[row]

    def _scroll_to_row(self, row: int) -> None:
        visual = self._wrap_starts[row] if self._wrap and row < len(self._wrap_starts) else row
        self.scroll_to(y=visual, animate=False, immediate=True)

    # -- rendering --------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        visual_y = scroll_y + y
        key = (visual_y, scroll_x, width, self._generation)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_visual_row(visual_y, scroll_x, width)
            self._strips[key] = strip
        if y == self.size.height - 1 and self._prefetched != (scroll_y, self._generation):
            self._prefetched = (scroll_y, self._generation)
            self.set_timer(PREFETCH_DELAY, self._prefetch)
        return strip

    def _prefetch(self) -> None:
        """Render the pages below and above the view while idle, in slices, so a page key finds them cached."""
        scroll_x, top = self.scroll_offset
        height, width = self.size.height, self.size.width
        if self._prefetched != (top, self._generation):
            return  # the view moved on; its own paint scheduled a new prefetch
        start = perf_counter()
        for visual_y in [*range(top + height, top + 2 * height), *range(max(top - height, 0), top)]:
            row_y, _ = self._layout_row_of(visual_y)
            key = (visual_y, scroll_x, width, self._generation)
            if row_y >= self._layout.known_rows or key in self._strips:
                continue
            if perf_counter() - start > COLOUR_BUDGET:
                self.set_timer(PREFETCH_DELAY, self._prefetch)
                return
            self._rendered_row(row_y, budgeted=False)
            self._strips[key] = self._render_visual_row(visual_y, scroll_x, width)

    def _rendered_row(self, row_y: int, budgeted: bool = True) -> RenderedLine | RenderedPair:
        rendered = self._rendered.get(row_y)
        if rendered is None or (not budgeted and row_y in self._provisional):
            if row_y >= self._layout.known_rows:
                self._layout.ensure_row(row_y)
            row = self._layout.row(row_y)
            collapsed = row[0] == "file" and row[1].index in self._options.collapsed
            colour = not budgeted or self._within_colour_budget()
            rendered = self._renderer.render(row, collapsed, colour=colour)
            # Textual's LRUCache ignores a set for a key it holds: drop the provisional row first, or a refined
            # row would be thrown away and the uncoloured one kept for good.
            self._rendered.discard(row_y)
            self._rendered[row_y] = rendered
            if row[0] in ("line", "same", "pair") and not row[1].settled:
                self._unsettled.add(row_y)
            if colour:
                self._provisional.discard(row_y)
            else:
                self._provisional.add(row_y)
                self._schedule_refine()
        return rendered

    def _clear_caches(self) -> None:
        self._rendered.clear()
        self._strips.clear()
        self._provisional.clear()
        self._unsettled.clear()

    def _within_colour_budget(self) -> bool:
        budget = self.colour_budget
        if budget is None:
            return True
        now = perf_counter()
        if now - self._budget_start > 4 * budget:
            self._budget_start = now  # a new paint: a fresh budget
        return now - self._budget_start < budget

    def _schedule_refine(self) -> None:
        if not self._refine_pending:
            self._refine_pending = True
            self.set_timer(REFINE_DELAY, self._refine)

    def _refine(self) -> None:
        """Colour the rows painted without syntax colours, a few at a time, then repaint them."""
        self._refine_pending = False
        start = perf_counter()
        for row_y in sorted(self._provisional):
            if perf_counter() - start > 2 * COLOUR_BUDGET:
                self._schedule_refine()
                break
            if self._rendered.get(row_y) is not None:
                self._rendered_row(row_y, budgeted=False)
            else:
                self._provisional.discard(row_y)
        self._strips.clear()
        self.refresh()

    def _render_visual_row(self, visual_y: int, scroll_x: int, width: int) -> Strip:
        row_y, part = self._layout_row_of(visual_y)
        if row_y >= self._layout.row_count:
            return Strip.blank(width, self._palette.text)
        rendered = self._rendered_row(row_y)
        if isinstance(rendered, RenderedPair):
            left_width = (width - 1) // 2
            right_width = width - 1 - left_width
            left = _fit(rendered.left, 0, left_width, part, self._wrap)
            right = _fit(rendered.right, 0, right_width, part, self._wrap)
            return Strip.join([left, Strip([Segment("│", self._palette.gutter)], 1), right])
        return _fit(rendered, 0 if self._wrap else scroll_x, width, part, self._wrap)


def _height(length: int, width: int) -> int:
    return max(1, ceil(min(length, MAX_LINE_CHARS + 30) / max(width, 1)))


def _fit(rendered: RenderedLine, scroll_x: int, width: int, part: int, wrap: bool) -> Strip:
    """One visual row of a rendered line: prefix kept, code cropped (or the `part`-th wrapped piece)."""
    code_width = max(width - rendered.prefix_width, 1)
    code = Strip(rendered.code)
    if wrap:
        start = part * code_width
        prefix = (
            Strip(rendered.prefix, rendered.prefix_width)
            if part == 0
            else Strip([Segment(" " * rendered.prefix_width, rendered.prefix[0].style)] if rendered.prefix else [])
        )
    else:
        start = scroll_x
        prefix = Strip(rendered.prefix, rendered.prefix_width)
    body = code.crop_extend(start, start + code_width, rendered.fill)
    return Strip.join([prefix, body]).crop_extend(0, width, rendered.fill)

"""How the diff view paints: layout rows mapped to visual rows (one each, or several when wrapping), rendered
lazily through two LRU caches (rendered rows and final cropped strips), with syntax colouring on a budget per paint.
"""

from __future__ import annotations

from bisect import bisect_right
from math import ceil
from time import perf_counter

from rich.cells import get_character_cell_size
from rich.segment import Segment
from textual.cache import LRUCache
from textual.strip import Strip

from grader.core.patches.index import HunkEntry, PatchIndex
from grader.core.patches.layout import DiffLayout, LayoutOptions, Row
from grader.core.patches.render import DiffPalette, DiffRenderer, RenderedLine, RenderedPair
from grader.core.text.sanitize import MAX_LINE_CHARS, sanitize_line

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
    def _view_width(self) -> int:
        """Columns rows are drawn in: the widget's width less the vertical scrollbar, which covers the rest."""
        return self.scrollable_content_region.width

    def _code_width(self) -> int:
        return max(self._view_width(), 20)

    def _compute_wrap(self) -> None:
        """Visual rows per layout row, from each line's text as the renderer draws it (inert, tabs expanded)."""
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
            return _height(self._index.lines[row[1]], width)
        if kind == "notice":
            return _height("⚠ " + sanitize_line(row[1]), width)
        if kind == "line" or kind == "same":
            hunk: HunkEntry = row[1]
            index = row[2] if kind == "line" else row[3]
            return _height(hunk.body(index).lines[index].text, width - self._prefix_width(hunk))
        if kind == "pair":
            hunk = row[1]
            prefix = self._prefix_width(hunk, split=True)
            lines = hunk.body().lines
            left_width, right_width = split_widths(width)
            left = _height(lines[row[2]].text, left_width - prefix) if row[2] >= 0 else 1
            right = _height(lines[row[3]].text, right_width - prefix) if row[3] >= 0 else 1
            return max(left, right)
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
        width, height = self.scrollable_content_region.size
        visual_y = scroll_y + y
        key = (visual_y, scroll_x, width, self._generation)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_visual_row(visual_y, scroll_x, width, self.size.width)
            self._strips[key] = strip
        if y == height - 1 and self._prefetched != (scroll_y, self._generation):
            self._prefetched = (scroll_y, self._generation)
            self.set_timer(PREFETCH_DELAY, self._prefetch)
        return strip

    def _prefetch(self) -> None:
        """Render the pages below and above the view while idle, in slices, so a page key finds them cached."""
        scroll_x, top = self.scroll_offset
        width, height = self.scrollable_content_region.size
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
            self._strips[key] = self._render_visual_row(visual_y, scroll_x, width, self.size.width)

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

    def _render_visual_row(self, visual_y: int, scroll_x: int, width: int, paint_width: int) -> Strip:
        """One visual row laid out in `width` cells (what the scrollbar leaves), its tint carried on to
        `paint_width` so the scrollbar's gutter matches the row when no scrollbar is drawn there."""
        row_y, part = self._layout_row_of(visual_y)
        if row_y >= self._layout.row_count:
            return Strip.blank(paint_width, self._palette.text)
        rendered = self._rendered_row(row_y)
        if isinstance(rendered, RenderedPair):
            left_width, right_width = split_widths(width)
            code_x = 0 if self._wrap else scroll_x  # both columns scroll sideways together
            left = _fit(rendered.left, code_x, left_width, part, self._wrap)
            right = _fit(rendered.right, code_x, right_width, part, self._wrap)
            strip = Strip.join([left, Strip([Segment("│", self._palette.gutter)], 1), right])
            return strip.extend_cell_length(paint_width, rendered.right.fill)
        strip = _fit(rendered, 0 if self._wrap else scroll_x, width, part, self._wrap)
        return strip.extend_cell_length(paint_width, rendered.fill)


def split_widths(width: int) -> tuple[int, int]:
    """Widths of the two columns of the side-by-side view, either side of a one-cell rule."""
    left = (width - 1) // 2
    return left, width - 1 - left


def _height(text: str, width: int) -> int:
    """Visual rows a raw line takes when its inert rendering is wrapped at `width` cells."""
    if len(text) <= MAX_LINE_CHARS and text.isascii() and text.isprintable():  # one cell per character, as is
        return max(1, ceil(len(text) / max(width, 1)))
    return len(wrap_starts(sanitize_line(text), width))


def wrap_starts(text: str, width: int) -> list[int]:
    """The cell where each wrapped piece of `text` (already inert) starts: pieces of at most `width` cells, and a
    wide character (CJK, emoji) is never cut in two, which would drop it from both pieces."""
    width = max(width, 1)
    if text.isascii():
        return list(range(0, len(text), width)) or [0]
    starts = [0]
    column = piece = 0
    for char in text:
        size = get_character_cell_size(char)
        if piece + size > width and piece:
            starts.append(column)
            piece = 0
        column += size
        piece += size
    return starts


def _fit(rendered: RenderedLine, scroll_x: int, width: int, part: int, wrap: bool) -> Strip:
    """One visual row of a rendered line: prefix kept, code cropped (or the `part`-th wrapped piece)."""
    code_width = max(width - rendered.prefix_width, 1)
    code = Strip(rendered.code)
    end = None
    if wrap:
        text = "".join(segment.text for segment in rendered.code)
        if text.isascii():
            start = part * code_width
        else:
            starts = wrap_starts(text, code_width)
            start = starts[part] if part < len(starts) else code.cell_length
            end = starts[part + 1] if part + 1 < len(starts) else None
        prefix = (
            Strip(rendered.prefix, rendered.prefix_width)
            if part == 0
            else Strip([Segment(" " * rendered.prefix_width, rendered.prefix[0].style)] if rendered.prefix else [])
        )
    else:
        start = scroll_x
        prefix = Strip(rendered.prefix, rendered.prefix_width)
    body = code.crop_extend(start, start + code_width if end is None else end, rendered.fill)
    return Strip.join([prefix, body]).crop_extend(0, width, rendered.fill)

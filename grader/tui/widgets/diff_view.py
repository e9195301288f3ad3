"""The diff view: a Line API widget whose work per key press depends on the screen size, not the patch size.

`DiffView.show_patch(text)` indexes only the first screenful before painting; the rest of the patch is indexed
in small slices on the event loop afterwards. Rows render lazily through two LRU caches (rendered rows and
final cropped strips, in grader.tui.widgets.diff_rows); syntax colouring is lazy and cached per hunk window
(grader.core.patches.highlight).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.color import Color
from textual.filter import ANSIToTruecolor, LineFilter
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from grader.core.patches.highlight import HunkHighlighter, warm_up
from grader.core.patches.index import FileEntry, HunkEntry, PatchIndex
from grader.core.patches.layout import DiffLayout, LayoutOptions, Row, caller_notices
from grader.core.patches.render import DiffPalette, DiffRenderer, RenderedLine, RenderedPair
from grader.core.text.sanitize import MAX_LINE_CHARS
from grader.tui.paint import paint_now
from grader.tui.widgets.diff_rows import COLOUR_BUDGET, DiffRowPainter, split_widths

FIRST_SCREEN_LINES = 400  # lines indexed before the first paint
INDEX_SLICE_LINES = 6000  # lines indexed per event-loop slice afterwards
INDEX_SLICE_DELAY = 0.01  # seconds between slices, so key presses and paints go first
RELEASE_DELAY = 0.2  # seconds before the previous patch's index is torn down
SPLIT_PREFIX_CELLS = 6  # the narrowest prefix of a side-by-side column: a 3-digit number, its marker, spaces


class DiffView(DiffRowPainter, ScrollView, can_focus=True):
    """A unified or side-by-side diff of one patch, with file and hunk navigation.

    Public API: `show_patch(text, notices=None)` (returns at once; the first screen paints from a partial
    index), the `files` property, `jump_to_file(index)`, and the `action_*` methods bound below.
    """

    DEFAULT_CSS = """
    DiffView {
        background: $background;
        color: $foreground;
        scrollbar-gutter: stable;
    }
    DiffView:focus {
        background-tint: $foreground 0%;
    }
    """

    def get_line_filters(self) -> Sequence[LineFilter]:
        """The app's line filters but ANSIToTruecolor, which is the identity on this view's lines.

        Every style the view paints is a theme colour, already truecolor, and none is dim (a test checks), so
        that filter would only rebuild each line's segments unchanged on every paint: 0.4 ms of a 4 ms page
        scroll. Under an ANSI theme the app disables it anyway; the other filters (dim, no colour) still apply.
        """
        return [
            line_filter for line_filter in super().get_line_filters() if not isinstance(line_filter, ANSIToTruecolor)
        ]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_hunk", "Next hunk"),
        Binding("N", "previous_hunk", "Prev hunk", show=False),
        Binding("right_square_bracket", "next_file", "Next file"),
        Binding("left_square_bracket", "previous_file", "Prev file", show=False),
        Binding("z", "toggle_collapse", "Fold file"),
        Binding("v", "toggle_side_by_side", "Split/unified"),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("W", "toggle_ignore_whitespace", "Ignore whitespace", show=False),
        Binding("t", "show_file_list", "Files"),
        Binding("j,down", "scroll_down", "Down", show=False),
        Binding("k,up", "scroll_up", "Up", show=False),
        Binding("space,pagedown", "page_down", "Page down", show=False),
        Binding("b,pageup", "page_up", "Page up", show=False),
        Binding("g,home", "scroll_home", "Top", show=False),
        Binding("G,end", "scroll_end", "Bottom", show=False),
        Binding("h,left", "scroll_left", "Left", show=False),
        Binding("l,right", "scroll_right", "Right", show=False),
    ]

    class Indexed(Message):
        """The whole patch is indexed: every file and hunk is known."""

        def __init__(self, view: DiffView, file_count: int) -> None:
            super().__init__()
            self.view = view
            self.file_count = file_count

    def __init__(
        self,
        *,
        colour_budget: float | None = COLOUR_BUDGET,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`colour_budget`: seconds of syntax colouring per paint before rows paint uncoloured and are refined a
        moment later; None colours everything before painting (deterministic, for snapshots)."""
        super().__init__(name=name, id=id, classes=classes)
        self.colour_budget = colour_budget
        self._index = PatchIndex("")
        self._options = LayoutOptions()
        self._layout = DiffLayout(self._index, self._options)
        self._highlighter = HunkHighlighter()
        self._palette = DiffPalette.build()
        self._renderer = DiffRenderer(self._layout, self._palette, self._highlighter)
        self._rendered: LRUCache[int, RenderedLine | RenderedPair] = LRUCache(1024)
        self._strips: LRUCache[tuple[int, int, int, int], Strip] = LRUCache(1024)
        self._wrap = False
        self._wrap_starts: list[int] = []  # visual row where each layout row starts, when wrapping
        self._wrap_width = 0
        self._generation = 0
        self._notices: list[str] = []
        self._prefetched: tuple[int, int] | None = None
        self._budget_start = 0.0
        self._provisional: set[int] = set()
        self._refine_pending = False
        self._unsettled: set[int] = set()  # rows rendered from a hunk the indexer was still growing

    # -- public API -------------------------------------------------------------------------------------
    @property
    def index(self) -> PatchIndex:
        return self._index

    @property
    def layout_options(self) -> LayoutOptions:
        return self._options

    @property
    def wrap(self) -> bool:
        return self._wrap

    @property
    def files(self) -> list[FileEntry]:
        """Every file of the patch (finishes indexing first)."""
        self._finish_index()
        return self._index.files

    def show_patch(self, text: str | None, notices: Sequence[str] | None = None) -> None:
        """Show a patch (any text: a diff, prose, broken or hostile; None for a null patch) under `notices`, lines
        about it drawn first (inert, like the patch). Text with no diff in it is shown as plain text; an empty or
        null patch with no notice gets a line saying so. Returns within a frame even for 50k lines: only the first
        screenful is indexed now; the rest follows in slices after the paint."""
        self._highlighter.clear()
        self._clear_caches()
        self.set_timer(RELEASE_DELAY, self._index.release)  # freeing a big patch takes ms: after the paint
        self._index = PatchIndex(text or "")
        self._index.advance(max(FIRST_SCREEN_LINES, self.size.height * 3))
        self._notices = caller_notices(text, notices)
        self._options = LayoutOptions(self._options.side_by_side, self._options.ignore_whitespace, frozenset())
        self._highlighter.clear()
        self._rebuild(keep_row=None)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._schedule_indexing()

    def jump_to_file(self, file_index: int) -> None:
        """Scroll so that a file's header is the top row."""
        self._finish_index()
        if 0 <= file_index < len(self._index.files):
            row = self._layout.block_row(self._index.files[file_index])
            if row is not None:
                self._scroll_to_row(row)

    # -- indexing ---------------------------------------------------------------------------------------
    def _schedule_indexing(self) -> None:
        if not self._index.done:
            index = self._index
            self.set_timer(INDEX_SLICE_DELAY, lambda: self._index_slice(index))
        else:
            self.post_message(self.Indexed(self, len(self._index.files)))

    def _index_slice(self, index: PatchIndex) -> None:
        if index is not self._index or index.done:
            return
        index.advance(INDEX_SLICE_LINES)
        self._after_index_growth()
        self._schedule_indexing()

    def _finish_index(self) -> None:
        if not self._index.done:
            self._index.finish()
            self._after_index_growth()

    def _after_index_growth(self) -> None:
        notices_before = self._layout.notice_rows
        self._layout.sync()
        if self._options.side_by_side or self._options.ignore_whitespace or self._wrap:
            if self._index.done:
                self._rebuild(keep_row=self._top_row())
            return
        added = self._layout.notice_rows - notices_before
        if added:
            self._clear_caches()
        else:
            # Rows already rendered keep their meaning as the index grows, except file headers (their +/-
            # counts grow), rows that were not indexed yet, and lines of a hunk that was still growing (a removed
            # line may have found its added partner since, and its colouring window more lines).
            for row_y in list(self._rendered.keys()):
                if row_y in self._unsettled or self._layout.row(row_y)[0] in ("file", "pending"):
                    self._rendered.discard(row_y)
            self._unsettled.clear()
            self._strips.clear()
        if self._index.done:
            self._prefetched = None  # the next paint prefetches again, now that every row is known
        self._update_virtual_size()
        if added and self.scroll_y > 0:
            self.scroll_to(y=self.scroll_y + added, animate=False, immediate=True)
        self.refresh()

    # -- layout -----------------------------------------------------------------------------------------
    def _rebuild(self, keep_row: int | None) -> None:
        """A fresh layout for the current options; keeps the row `keep_row` (of the old layout) on top."""
        anchor = self._layout.row(keep_row) if keep_row is not None else None
        anchor_file = self._layout.file_at(keep_row) if keep_row is not None else None
        if self._options.side_by_side or self._options.ignore_whitespace or self._wrap:
            self._index.finish()
        self._layout = DiffLayout(self._index, self._options, self._notices)
        self._layout.sync()
        self._renderer = DiffRenderer(self._layout, self._palette, self._highlighter)
        self._clear_caches()
        self._generation += 1
        self._wrap_starts = []
        if self._wrap:
            self._compute_wrap()
        self._update_virtual_size()
        self.refresh()
        if anchor is not None:
            target = self._find_anchor(anchor, anchor_file)
            if target is not None:
                self._scroll_to_row(target)

    def _find_anchor(self, anchor: Row, anchor_file: FileEntry | None) -> int | None:
        if anchor[0] in ("file", "hunk"):
            return self._layout.block_row(anchor[1])
        if anchor_file is not None:
            return self._layout.block_row(anchor_file)
        return None

    def _update_virtual_size(self) -> None:
        if self._wrap:
            height = self._wrap_starts[-1] if self._wrap_starts else self._layout.row_count
            self.virtual_size = Size(self._code_width(), height)
        elif self._options.side_by_side:
            # Both columns scroll together, far enough for the widest line to end inside the narrower column.
            column_code = split_widths(self._view_width())[0] - SPLIT_PREFIX_CELLS
            overflow = max(min(self._index.max_line_width, MAX_LINE_CHARS + 40) + 8 - column_code, 0)
            self.virtual_size = Size(self._code_width() + overflow, self._layout.row_count)
        else:
            width = min(self._index.max_line_width, MAX_LINE_CHARS + 40) + 16
            self.virtual_size = Size(max(width, self._code_width()), self._layout.row_count)

    def on_resize(self) -> None:
        self._strips.clear()
        if self._wrap and self._wrap_width != self._code_width():
            self._rebuild(keep_row=self._top_row())
        else:
            self._update_virtual_size()

    # -- theme ------------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._warm_lexers()
        self._apply_theme()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._apply_theme())

    @work(thread=True, exclusive=True, group="diff-view-warm")
    def _warm_lexers(self) -> None:
        warm_up()

    def _apply_theme(self) -> None:
        variables = self.app.get_css_variables()

        def hex_of(name: str, default: str) -> str:
            try:
                return Color.parse(variables.get(name, default)).hex6
            except Exception:
                return default

        self._palette = DiffPalette.build(
            background=hex_of("background", "#1e1e1e"),
            foreground=hex_of("foreground", "#e0e0e0"),
            success=hex_of("success", "#4ebf71"),
            error=hex_of("error", "#ba3c5b"),
            primary=hex_of("primary", "#0178d4"),
            secondary=hex_of("secondary", "#004578"),
            warning=hex_of("warning", "#ffa62b"),
            dark=self.app.current_theme.dark,
        )
        self._renderer = DiffRenderer(self._layout, self._palette, self._highlighter)
        self._clear_caches()
        self.refresh()

    # -- actions ----------------------------------------------------------------------------------------
    def _header_rows(self, kind: type) -> list[int]:
        self._finish_index()
        return self._layout.header_rows(kind)

    def _jump(self, kind: type, forward: bool) -> None:
        rows = self._header_rows(kind)
        current = self._top_row()
        if forward:
            position = bisect_right(rows, current)
            if position < len(rows):
                self._scroll_to_row(rows[position])
        else:
            position = bisect_right(rows, current - 1) - 1
            if position >= 0:
                self._scroll_to_row(rows[position])

    def action_next_hunk(self) -> None:
        self._jump(HunkEntry, True)

    def action_previous_hunk(self) -> None:
        self._jump(HunkEntry, False)

    def action_next_file(self) -> None:
        self._jump(FileEntry, True)

    def action_previous_file(self) -> None:
        self._jump(FileEntry, False)

    def action_toggle_collapse(self) -> None:
        """Fold or unfold the file at the top of the view."""
        self._finish_index()
        top = self._top_row()
        file = self._layout.file_at(top)
        if file is None:  # above the first file (notices, prose): fold the next file down
            following = [row for row in self._layout.header_rows(FileEntry) if row >= top]
            if not following:
                return
            file = self._layout.row(following[0])[1]
        collapsed = set(self._options.collapsed)
        collapsed.symmetric_difference_update({file.index})
        self._options = LayoutOptions(self._options.side_by_side, self._options.ignore_whitespace, frozenset(collapsed))
        self._rebuild(keep_row=None)
        row = self._layout.block_row(file)
        if row is not None:
            self._scroll_to_row(row)

    def action_toggle_side_by_side(self) -> None:
        top = self._top_row()
        self._options = LayoutOptions(
            not self._options.side_by_side, self._options.ignore_whitespace, self._options.collapsed
        )
        self._rebuild(keep_row=top)

    def action_toggle_ignore_whitespace(self) -> None:
        top = self._top_row()
        self._options = LayoutOptions(
            self._options.side_by_side, not self._options.ignore_whitespace, self._options.collapsed
        )
        self._rebuild(keep_row=top)

    def action_toggle_wrap(self) -> None:
        top = self._top_row()
        self._wrap = not self._wrap
        self.scroll_to(x=0, animate=False, immediate=True)
        self._rebuild(keep_row=top)

    def action_page_down(self) -> None:
        """A page down, without animation: the next page is painted at once."""
        self.scroll_to(y=self.scroll_y + self.scrollable_content_region.height, animate=False, immediate=True)
        paint_now(self)

    def action_page_up(self) -> None:
        self.scroll_to(y=self.scroll_y - self.scrollable_content_region.height, animate=False, immediate=True)
        paint_now(self)

    def action_scroll_home(self) -> None:
        self.scroll_to(y=0, animate=False, immediate=True)

    def action_scroll_end(self) -> None:
        self._finish_index()
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def action_show_file_list(self) -> None:
        from grader.tui.widgets.diff_files import FileListScreen

        def jump(choice: int | None) -> None:
            if choice is not None:
                self.jump_to_file(choice)

        self.app.push_screen(FileListScreen(self.files), jump)

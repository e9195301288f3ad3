"""Rows of a diff layout as styled, inert Rich segments: a fixed prefix (numbers, marker) and the code.

Shared by the diff view (which crops, wraps and splits them into strips) and `grader show` (which prints them).
Text is never parsed as markup: every segment is built from sanitized text and a `Style`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from pygments.styles import get_style_by_name
from pygments.token import Token, _TokenType
from rich.segment import Segment
from rich.style import Style

from grader.core.patches.highlight import HunkHighlighter
from grader.core.patches.index import DiffLine, FileEntry, HunkEntry
from grader.core.patches.layout import DiffLayout, Row
from grader.core.text.sanitize import MAX_LINE_CHARS, TAB_SIZE, sanitize_line, sanitize_pieces

STATUS_SYMBOLS = {
    "modified": "M",
    "added": "A",
    "deleted": "D",
    "renamed": "R",
    "copied": "C",
    "binary": "B",
    "mode-only": "m",
}


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def blend(base: str, tint: str, amount: float) -> str:
    """`tint` laid over `base` at `amount` (0..1), as #rrggbb."""
    (r1, g1, b1), (r2, g2, b2) = _rgb(base), _rgb(tint)
    mix = [round(a + (b - a) * amount) for a, b in ((r1, r2), (g1, g2), (b1, b2))]
    return "#" + "".join(f"{value:02x}" for value in mix)


def _syntax_styles(theme_name: str) -> dict[_TokenType, Style]:
    """Foreground colours (no backgrounds, so diff tints show through) from a Pygments style."""
    pygments_style = get_style_by_name(theme_name)
    styles: dict[_TokenType, Style] = {}
    for token_type, definition in pygments_style:
        if not (definition["color"] or definition["bold"] or definition["italic"]):
            continue
        styles[token_type] = Style(
            color=f"#{definition['color']}" if definition["color"] else None,
            bold=definition["bold"] or None,
            italic=definition["italic"] or None,
        )
    styles[Token.Error] = Style()  # half-typed code in a hunk is normal, not an error to paint red
    return styles


@dataclass(slots=True)
class DiffPalette:
    """Every style the diff uses; `build` derives it from a handful of theme colours."""

    text: Style
    gutter: Style
    gutter_added: Style
    gutter_removed: Style
    added: Style
    removed: Style
    added_emphasis: Style
    removed_emphasis: Style
    file_header: Style
    file_status: Style
    hunk_header: Style
    hunk_section: Style
    prose: Style
    notice: Style
    pending: Style
    syntax: dict[_TokenType, Style]
    _token_cache: dict[_TokenType, Style] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        background: str = "#1e1e1e",
        foreground: str = "#e0e0e0",
        success: str = "#4ebf71",
        error: str = "#ba3c5b",
        primary: str = "#0178d4",
        secondary: str = "#004578",
        warning: str = "#ffa62b",
        dark: bool = True,
    ) -> DiffPalette:
        muted = blend(background, foreground, 0.45)
        panel = blend(background, foreground, 0.06)
        added_bg, removed_bg = blend(background, success, 0.16), blend(background, error, 0.16)
        return cls(
            text=Style(color=foreground, bgcolor=background),
            gutter=Style(color=muted, bgcolor=panel),
            gutter_added=Style(color=blend(muted, success, 0.6), bgcolor=blend(background, success, 0.26)),
            gutter_removed=Style(color=blend(muted, error, 0.6), bgcolor=blend(background, error, 0.26)),
            added=Style(color=foreground, bgcolor=added_bg),
            removed=Style(color=foreground, bgcolor=removed_bg),
            added_emphasis=Style(bgcolor=blend(background, success, 0.42)),
            removed_emphasis=Style(bgcolor=blend(background, error, 0.42)),
            file_header=Style(color=foreground, bgcolor=blend(background, primary, 0.35), bold=True),
            file_status=Style(color=warning, bgcolor=blend(background, primary, 0.35), bold=True),
            hunk_header=Style(color=blend(muted, primary, 0.5), bgcolor=blend(background, secondary, 0.25)),
            hunk_section=Style(color=foreground, bgcolor=blend(background, secondary, 0.25), bold=True),
            prose=Style(color=muted, bgcolor=background, italic=True),
            notice=Style(color=warning, bgcolor=blend(background, warning, 0.12), bold=True),
            pending=Style(color=muted, bgcolor=background),
            syntax=_syntax_styles("github-dark" if dark else "default"),
        )

    def token_style(self, token_type: _TokenType) -> Style | None:
        found = self._token_cache.get(token_type)
        if found is None and token_type not in self._token_cache:
            walk: _TokenType | None = token_type
            while walk is not None and walk not in self.syntax:
                walk = walk.parent
            found = self.syntax.get(walk) if walk is not None and walk is not Token else None
            self._token_cache[token_type] = found  # type: ignore[assignment]
        return found


@dataclass(slots=True)
class RenderedLine:
    """One row: a prefix that stays put when scrolling sideways, the code, and the style to pad it with."""

    prefix: list[Segment]
    prefix_width: int
    code: list[Segment]
    fill: Style


@dataclass(slots=True)
class RenderedPair:
    left: RenderedLine
    right: RenderedLine
    fill: Style


def _number(value: int | None, width: int) -> str:
    return " " * width if value is None else str(value).rjust(width)


class DiffRenderer:
    """Turns layout rows into segments, with syntax colours, tints and word-level emphasis."""

    def __init__(
        self,
        layout: DiffLayout,
        palette: DiffPalette,
        highlighter: HunkHighlighter | None = None,
        *,
        tab_size: int = TAB_SIZE,
        max_chars: int = MAX_LINE_CHARS,
    ) -> None:
        self.layout = layout
        self.palette = palette
        self.highlighter = highlighter or HunkHighlighter()
        self.tab_size = tab_size
        self.max_chars = max_chars
        self._colour = True

    def number_width(self, hunk: HunkEntry) -> int:
        return max(3, len(str(max(hunk.old_start + hunk.old_count, hunk.new_start + hunk.new_count))))

    def render(self, row: Row, collapsed: bool = False, *, colour: bool = True) -> RenderedLine | RenderedPair:
        """One row; with `colour` False the code gets its tint but no syntax colours or word emphasis (fast)."""
        kind = row[0]
        palette = self.palette
        self._colour = colour
        if kind == "line":
            return self._unified(row[1], row[2])
        if kind == "same":
            return self._unified(row[1], row[3], old_index=row[2])
        if kind == "pair":
            return self._pair(row[1], row[2], row[3])
        if kind == "hunk":
            return self._hunk_header(row[1])
        if kind == "file":
            return self._file_header(row[1], collapsed)
        if kind == "prose":
            text = sanitize_line(self.layout.index.lines[row[1]], self.tab_size, self.max_chars)
            return RenderedLine([], 0, [Segment(text, palette.prose)], palette.prose)
        if kind == "notice":
            return RenderedLine([], 0, [Segment("⚠ " + sanitize_line(row[1]), palette.notice)], palette.notice)
        return RenderedLine([], 0, [Segment("…", palette.pending)], palette.pending)

    # -- headers ------------------------------------------------------------------------------------------
    def _file_header(self, file: FileEntry, collapsed: bool) -> RenderedLine:
        palette = self.palette
        info = file.info
        path = sanitize_line(info.display_path or "(file name unknown)")
        status = info.status + (f" ({sanitize_line(info.detail)})" if info.detail else "")
        counts = f"+{file.added} −{file.removed}" if file.added or file.removed else ""
        segments = [
            Segment(("▸ " if collapsed else "▾ ") + path + "  ", palette.file_header),
            Segment(status, palette.file_status),
            Segment("  " + counts + " ", palette.file_header),
        ]
        return RenderedLine([], 0, segments, palette.file_header)

    def _hunk_header(self, hunk: HunkEntry) -> RenderedLine:
        palette = self.palette
        if hunk.loose:
            numbers = sanitize_line(hunk.header)
            section = ""
        else:
            numbers = f"@@ -{hunk.old_start},{hunk.old_count} +{hunk.new_start},{hunk.new_count} @@"
            section = sanitize_line(hunk.section, self.tab_size, 500)
        segments = [Segment(numbers, palette.hunk_header)]
        if section:
            segments.append(Segment(" " + section, palette.hunk_section))
        return RenderedLine([], 0, segments, palette.hunk_header)

    # -- diff lines ---------------------------------------------------------------------------------------
    def _line_styles(self, line: DiffLine) -> tuple[Style, Style, Style | None]:
        palette = self.palette
        if line.kind == "+":
            return palette.added, palette.gutter_added, palette.added_emphasis
        if line.kind == "-":
            return palette.removed, palette.gutter_removed, palette.removed_emphasis
        return palette.text, palette.gutter, None

    def _unified(self, hunk: HunkEntry, index: int, old_index: int | None = None) -> RenderedLine:
        body = hunk.body(index)
        line = body.lines[index]
        base, gutter, _ = self._line_styles(line)
        width = self.number_width(hunk)
        old_no = line.old_no if old_index is None else body.lines[old_index].old_no
        marker = line.kind if line.kind in "+- " else " "
        if old_index is not None:
            marker = "~"
        prefix_text = f"{_number(old_no, width)} {_number(line.new_no, width)} {marker}"
        prefix = [Segment(prefix_text, gutter), Segment(" ", base)]
        return RenderedLine(prefix, len(prefix_text) + 1, self._code(hunk, index, line), base)

    def _side(self, hunk: HunkEntry, index: int, side: str) -> RenderedLine:
        width = self.number_width(hunk)
        if index < 0:
            blank = self.palette.gutter
            return RenderedLine([Segment(" " * (width + 2), blank)], width + 2, [], self.palette.pending)
        line = hunk.body(index).lines[index]
        base, gutter, _ = self._line_styles(line)
        number = line.old_no if side == "old" else line.new_no
        marker = line.kind if line.kind in "+- " else " "
        prefix_text = f"{_number(number, width)} {marker}"
        return RenderedLine(
            [Segment(prefix_text, gutter), Segment(" ", base)],
            len(prefix_text) + 1,
            self._code(hunk, index, line, side),
            base,
        )

    def _pair(self, hunk: HunkEntry, left: int, right: int) -> RenderedPair:
        return RenderedPair(self._side(hunk, left, "old"), self._side(hunk, right, "new"), self.palette.text)

    def _code(self, hunk: HunkEntry, index: int, line: DiffLine, side: str | None = None) -> list[Segment]:
        if line.kind == "\\":
            return [Segment(sanitize_line(line.text), self.palette.prose)]
        base, _, emphasis_style = self._line_styles(line)
        if not self._colour:
            return [
                Segment(piece, base) for piece, _ in sanitize_pieces([(line.text, base)], self.tab_size, self.max_chars)
            ]
        if side is None:
            side = "old" if line.kind == "-" else "new"
        spans = self.highlighter.spans(hunk, index, side)
        emphasis: list[tuple[int, int]] = []
        if line.partner >= 0 and emphasis_style is not None:
            partner = hunk.body(line.partner).lines[line.partner]
            old, new = (line.text, partner.text) if line.kind == "-" else (partner.text, line.text)
            ranges = self.highlighter.emphasis(old, new)
            if ranges is not None:
                emphasis = ranges[0] if line.kind == "-" else ranges[1]
        text = line.text
        if not spans and not emphasis:
            pieces: list[tuple[str, object]] = [(text, base)]
        else:
            pieces = self._styled_pieces(text, spans, emphasis, base, emphasis_style)
        return [
            Segment(piece, style)  # type: ignore[arg-type]
            for piece, style in sanitize_pieces(pieces, self.tab_size, self.max_chars)
            if piece
        ]

    def _styled_pieces(
        self,
        text: str,
        spans: list[tuple[int, int, _TokenType]],
        emphasis: list[tuple[int, int]],
        base: Style,
        emphasis_style: Style | None,
    ) -> list[tuple[str, object]]:
        cuts = {0, len(text)}
        for start, end, _ in spans:
            cuts.add(start)
            cuts.add(end)
        for start, end in emphasis:
            cuts.add(start)
            cuts.add(end)
        ordered = sorted(cut for cut in cuts if 0 <= cut <= len(text))
        pieces: list[tuple[str, object]] = []
        span_index = emphasis_index = 0
        for start, end in pairwise(ordered):
            while span_index < len(spans) and spans[span_index][1] <= start:
                span_index += 1
            while emphasis_index < len(emphasis) and emphasis[emphasis_index][1] <= start:
                emphasis_index += 1
            style = base
            if span_index < len(spans) and spans[span_index][0] <= start:
                token_style = self.palette.token_style(spans[span_index][2])
                if token_style is not None:
                    style = style + token_style
            if emphasis_style is not None and emphasis_index < len(emphasis) and emphasis[emphasis_index][0] <= start:
                style = style + emphasis_style
            pieces.append((text[start:end], style))
        return pieces

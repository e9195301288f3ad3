"""A patch rendered for stdout: plain (newlines are the only control characters) or coloured (SGR codes only)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich.color import ColorSystem
from rich.segment import Segment

from grader.core.patches.index import parse_patch
from grader.core.patches.layout import DiffLayout, LayoutOptions, caller_notices
from grader.core.patches.render import DiffPalette, DiffRenderer, RenderedLine, RenderedPair


def _line_text(rendered: RenderedLine | RenderedPair) -> list[Segment]:
    if isinstance(rendered, RenderedPair):
        return [
            *rendered.left.prefix,
            *rendered.left.code,
            Segment(" │ "),
            *rendered.right.prefix,
            *rendered.right.code,
        ]
    return [*rendered.prefix, *rendered.code]


def render_lines(text: str | None, *, color: bool, notices: Sequence[str] | None = None) -> Iterator[str]:
    """Each row of the unified rendering as one output line (without its newline): the notices first, as the
    diff view draws them (None is a null patch; an empty one with no notice says so)."""
    layout = DiffLayout(parse_patch(text or ""), LayoutOptions(), caller_notices(text, notices))
    layout.sync()
    renderer = DiffRenderer(layout, DiffPalette.build())
    for y in range(layout.row_count):
        yield _emit(_line_text(renderer.render(layout.row(y))), color)


def _emit(segments: list[Segment], color: bool) -> str:
    if not color:
        return "".join(segment.text for segment in segments)
    out = []
    for segment in segments:
        style = segment.style
        if style is None or not segment.text:
            out.append(segment.text)
            continue
        # Only colours and bold/italic: a style carrying a link or meta would emit more than SGR.
        out.append(style.copy().update_link(None).render(segment.text, color_system=ColorSystem.TRUECOLOR))
    return "".join(out)


def render_patch_text(text: str | None, *, color: bool, notices: Sequence[str] | None = None) -> str:
    """The whole patch as text for a terminal or a pipe."""
    return "".join(line + "\n" for line in render_lines(text, color=color, notices=notices))

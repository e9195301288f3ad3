"""Make hostile patch text inert: control characters become visible placeholders, tabs expand, lines are capped.

Nothing here interprets Rich markup or terminal escapes; callers build Rich `Text`/`Segment`s from the result.
"""

from __future__ import annotations

import re

TAB_SIZE = 4
# Beyond this many characters a line is cut with a marker, so a 100k-character line costs no more than this.
MAX_LINE_CHARS = 2000

# C0 controls (tab handled apart), DEL, C1 controls, lone surrogates, and invisible format characters that
# can reorder or hide text (bidi overrides, zero-width characters, line/paragraph separators, BOM).
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def control_picture(char: str) -> str:
    """The visible stand-in for one unsafe character: ␛ for ESC, ␇ for BEL, <U+202E> for a bidi override..."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return f"<U+{code:04X}>"


def _replace(match: re.Match[str]) -> str:
    return control_picture(match.group())


def is_clean(text: str) -> bool:
    """True when the text needs no change at all (the common case, checked in C)."""
    return text.isprintable() and len(text) <= MAX_LINE_CHARS


def sanitize_piece(text: str, column: int = 0, tab_size: int = TAB_SIZE) -> str:
    """One piece of a line made inert, tabs expanded from `column` (the cell where the piece starts)."""
    if text.isprintable():
        return text
    text = _UNSAFE.sub(_replace, text)
    if "\t" not in text:
        return text
    parts = text.split("\t")
    out = [parts[0]]
    position = column + len(parts[0])
    for part in parts[1:]:
        spaces = tab_size - (position % tab_size)
        out.append(" " * spaces)
        out.append(part)
        position += spaces + len(part)
    return "".join(out)


def sanitize_line(text: str, tab_size: int = TAB_SIZE, max_chars: int = MAX_LINE_CHARS) -> str:
    """A whole line made inert and capped at `max_chars` source characters."""
    if len(text) > max_chars:
        hidden = len(text) - max_chars
        return sanitize_piece(text[:max_chars], 0, tab_size) + f" … ({hidden:,} more characters)"
    return sanitize_piece(text, 0, tab_size)


def sanitize_pieces(
    pieces: list[tuple[str, object]], tab_size: int = TAB_SIZE, max_chars: int = MAX_LINE_CHARS
) -> list[tuple[str, object]]:
    """Styled pieces of one line made inert, keeping each piece's style; the line is capped at `max_chars`."""
    out: list[tuple[str, object]] = []
    column = 0
    budget = max_chars
    hidden = 0
    for text, style in pieces:
        if budget <= 0:
            hidden += len(text)
            continue
        if len(text) > budget:
            hidden += len(text) - budget
            text = text[:budget]
        budget -= len(text)
        clean = sanitize_piece(text, column, tab_size)
        column += len(clean)
        out.append((clean, style))
    if hidden:
        out.append((f" … ({hidden:,} more characters)", None))
    return out


def decode_patch_bytes(data: bytes) -> tuple[str, str | None]:
    """Bytes of a patch file as text, and a notice when invalid UTF-8 was replaced (U+FFFD)."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd") - data.count("\ufffd".encode())
        return text, f"invalid UTF-8: {bad:,} byte sequence(s) shown as \ufffd"


def has_surrogates(text: str) -> bool:
    """True when the text holds lone surrogates (undecodable bytes smuggled through JSON or surrogateescape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False

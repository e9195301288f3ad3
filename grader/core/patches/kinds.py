"""What a submitted patch text is: a diff, a diff wrapped in prose or fences, empty, or null."""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

_DIFF_START = re.compile(r"^(diff --git |--- \S|Index: \S)", re.MULTILINE)
_FENCE = re.compile(r"^```[ \t]*(?:diff|patch|udiff)?[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


class PatchText(NamedTuple):  # a tuple: made once per imported patch, and cheap to make
    kind: str  # diff | extracted | no_diff | empty | null
    diff: str | None  # the diff to show, None when the raw text is the diff itself
    content_hash: str
    line_count: int


def content_hash(raw: str | None) -> str:
    if raw is None:
        return ""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def classify_patch(raw: str | None) -> PatchText:
    """Classify a submitted patch and find the diff in it; the raw text is always kept by the caller."""
    if raw is None:
        return PatchText("null", "", "", 0)
    digest = content_hash(raw)
    if not raw or raw.isspace():  # no copy of the text, unlike strip()
        return PatchText("empty", "", digest, 0)
    head = raw.lstrip()
    if head.startswith(("diff --git ", "--- ", "Index: ")):
        return PatchText("diff", None, digest, raw.count("\n") + (0 if raw.endswith("\n") else 1))
    diff = extract_diff(raw)
    if diff is None:
        return PatchText("no_diff", "", digest, 0)
    return PatchText("extracted", diff, digest, diff.count("\n") + (0 if diff.endswith("\n") else 1))


def extract_diff(text: str) -> str | None:
    """The diff inside prose or a markdown fence, or None when there is none."""
    for match in _FENCE.finditer(text):
        body = match.group(1)
        start = _DIFF_START.search(body)
        if start is not None:
            return body[start.start() :]
    start = _DIFF_START.search(text)
    if start is None:
        return None
    rest = text[start.start() :]
    fence = rest.find("\n```")
    return rest[: fence + 1] if fence >= 0 else rest


def patch_diff(raw: str | None, diff_text: str | None) -> str:
    """The diff to display for a stored patch."""
    if diff_text is None:
        return raw or ""
    return diff_text


KIND_NOTICES = {
    "extracted": "The diff was extracted from prose or a markdown fence around it; the prose is not shown.",
    "empty": "The model submitted an empty patch.",
    "null": "The model submitted no patch (null).",
    "absent": "The patch text was not part of the imported set.",
}


def kind_notices(kind: str) -> list[str]:
    """What to say above a patch of this kind, the same words everywhere.

    Nothing for a plain diff, nor for text with no diff in it: the diff scanner says that itself.
    """
    return [KIND_NOTICES[kind]] if kind in KIND_NOTICES else []


def shown_text(raw: str | None, diff_text: str | None, kind: str) -> str:
    """What a reader sees of a stored patch: its diff, or all its text when it holds no diff."""
    return (raw or "") if kind == "no_diff" else patch_diff(raw, diff_text)

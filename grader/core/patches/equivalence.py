"""Patch equivalence: a normalised form of each patch and its hash, so identical patches group per task.

Normalisation removes what differs between byte-different copies of the same change: CRLF line ends,
trailing whitespace, `index` and `diff --git` lines, hunk line offsets (a hunk header becomes `@@`),
timestamps after `---`/`+++` file names, and blank lines around the patch. What the patch changes is kept.
Prose around a diff is dropped (the extracted diff is normalised); a patch with no diff at all is normalised
as text. Empty and null patches have no hash and join no group.

The stored hash (`patch.norm_hash`) is computed at import, by every importer that adds patches. For the
shared SWE-bench data that is about half a CPU-second for 44k patches, which the import splits between its
parsing process and its writer (`parse_ahead`). A store written before hashes were computed at import gets them
once, at first use (`hash_backfill.backfill_norm_hashes`, run by verifier-check, stats, session creation
and the review app; 1.7 s for the shared data, and 20 ms to find there is nothing to do).

Optionally (`grader verifier-check --ignore-whitespace`) whitespace-only changes are ignored too: on top of
the normal form, whitespace inside lines is removed, blank lines are dropped, and a run of removed lines
followed by as many added lines equal to them but for whitespace becomes context (the diff view's "ignore
whitespace" rule). That looser hash is computed when asked for, not stored.
"""

from __future__ import annotations

import hashlib
import re

from grader.core.patches.kinds import shown_text

NO_HASH_KINDS = ("empty", "null", "absent")
NOTHING = ""  # the stored hash of a patch whose normalised form is empty: it joins no group


_HEADER = re.compile(r"\n(?:(?:index |diff --git )[^\n]*|(?P<hunk>@@)[^\n]*|(?P<file>(?:---|\+\+\+) [^\t\n]*)\t[^\n]*)")


def _normal_header(match: re.Match[str]) -> str:
    if match.group("hunk"):
        return "\n@@"
    file = match.group("file")
    return "" if file is None else "\n" + file


def normalise_patch(text: str) -> str:
    """The patch with what differs between copies of one change removed.

    Line by line: trailing whitespace stripped (`str.rstrip`), `index` and `diff --git` lines dropped, a hunk
    header reduced to `@@`, a `---`/`+++` line cut at its first tab; then blank lines at either end dropped.
    Written as one `map` and one regular expression over the whole text (each header line starts after a
    newline), which is twice as fast as a loop over the lines and gives the same text.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    body = "\n" + "\n".join(map(str.rstrip, lines))
    return _HEADER.sub(_normal_header, body).strip("\n")


def normalised_hash(
    raw: str | None, diff_text: str | None, kind: str, *, ignore_whitespace: bool = False
) -> str | None:
    """The hash identical patches share, or None for an empty or null patch.

    With `ignore_whitespace`, the hash patches share when they differ at most in whitespace (not stored).
    """
    if kind in NO_HASH_KINDS or raw is None:
        return None
    normalised = normalise_patch(shown_text(raw, diff_text, kind))
    if ignore_whitespace:
        normalised = drop_whitespace_changes(normalised)
    return _digest(normalised) if normalised else None


def stored_norm_hash(raw: str | None, diff_text: str | None, kind: str) -> str | None:
    """What `patch.norm_hash` holds: None for an empty or null patch, NOTHING for one that normalises to nothing.

    Called once per imported patch, so written without the layers of `normalised_hash`.
    """
    if kind in NO_HASH_KINDS or raw is None:
        return None
    normalised = normalise_patch(shown_text(raw, diff_text, kind))
    return _digest(normalised) if normalised else NOTHING


def _digest(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()


def drop_whitespace_changes(normalised: str) -> str:
    """A normal form (`normalise_patch`) with whitespace-only changes dropped: see the module docstring."""
    out: list[str] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        if removed and removed == added:
            out.extend(" " + text for text in removed)  # a whitespace-only change: the code stays as it was
        else:
            out.extend("-" + text for text in removed)
            out.extend("+" + text for text in added)
        removed.clear()
        added.clear()

    for line in normalised.split("\n"):
        if line.startswith(("--- ", "+++ ", "@@")):
            flush()
            out.append(line)
            continue
        marker = line[:1] if line[:1] in ("+", "-", " ") else ""
        text = "".join(line[len(marker) :].split())
        if not text:
            continue  # a blank line, added, removed or kept
        if marker == "-":
            if added:
                flush()
            removed.append(text)
        elif marker == "+":
            added.append(text)
        else:
            flush()
            out.append(marker + text)
    flush()
    return "\n".join(out)

"""Patch equivalence: a normalised form of each patch and its hash, so identical patches group per task.

Normalisation removes what differs between byte-different copies of the same change: CRLF line ends,
trailing whitespace, `index` and `diff --git` lines, hunk line offsets (a hunk header becomes `@@`),
timestamps after `---`/`+++` file names, and blank lines around the patch. What the patch changes is kept.
Prose around a diff is dropped (the extracted diff is normalised); a patch with no diff at all is normalised
as text. Empty and null patches have no hash and join no group.

The hash is computed on first use and stored (`verifier_check.backfill_norm_hashes`, about 1 s for the 44k
patches of the shared data) rather than at import, where it would cost as much as the rest of the import.
"""

from __future__ import annotations

import hashlib

from grader.core.patchtext import patch_diff

NO_HASH_KINDS = ("empty", "null", "absent")
NOTHING = ""  # the stored hash of a patch whose normalised form is empty: it joins no group


def normalise_patch(text: str) -> str:
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.rstrip()
        if line.startswith(("index ", "diff --git ")):
            continue
        if line.startswith("@@"):
            line = "@@"
        elif line.startswith(("--- ", "+++ ")):
            line = line.split("\t", 1)[0]
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    start = 0
    while start < len(lines) and not lines[start]:
        start += 1
    return "\n".join(lines[start:])


def normalised_hash(raw: str | None, diff_text: str | None, kind: str) -> str | None:
    """The hash identical patches share, or None for an empty or null patch."""
    if kind in NO_HASH_KINDS or raw is None:
        return None
    text = raw if kind == "no_diff" else patch_diff(raw, diff_text)
    normalised = normalise_patch(text)
    if not normalised:
        return None
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()

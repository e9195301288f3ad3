"""Two patches of the same task (a model's patch and the reference fix) paired file by file.

Files both touch come first, in the order of the model's patch; then files only the model's patch touches, then
files only the reference fix touches. Each side of a pair is that file's own diff text (its header and hunks),
so a diff view shows it with the usual highlighting, hunk jumps and wrap.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.core.patches.index import FileEntry, PatchIndex

BOTH, PATCH_ONLY, REFERENCE_ONLY = "both", "patch only", "reference only"
WHOLE_TEXT = "(the patch as submitted: no file diffs in it)"


@dataclass(frozen=True, slots=True)
class FilePair:
    path: str
    patch: str | None  # the model patch's diff of this file (None: it does not touch the file)
    reference: str | None

    @property
    def kind(self) -> str:
        if self.patch is not None and self.reference is not None:
            return BOTH
        return PATCH_ONLY if self.patch is not None else REFERENCE_ONLY

    @property
    def marker(self) -> str:
        return {BOTH: "⇄", PATCH_ONLY: "◀", REFERENCE_ONLY: "▶"}[self.kind]


def file_diffs(text: str) -> list[tuple[str, str]]:
    """(path, that file's diff text) for each file of a patch, in order; text outside files is left out."""
    index = PatchIndex(text).finish()
    out: list[tuple[str, str]] = []
    for file in index.files:
        out.append((_path(file), "\n".join(index.lines[file.start : _end(file)]) + "\n"))
    return out


def _end(file: FileEntry) -> int:
    return max([file.header_end, *(hunk.end for hunk in file.hunks)])


def _path(file: FileEntry) -> str:
    info = file.info
    return info.new_path or info.old_path or "(file name unknown)"


def pair_files(patch: str, reference: str) -> list[FilePair]:
    """The files of both patches, aligned by path (see the module docstring for the order)."""
    ours = file_diffs(patch)
    theirs = dict(file_diffs(reference))
    pairs: list[FilePair] = []
    seen: set[str] = set()
    for path, text in ours:
        if path in theirs and path not in seen:
            pairs.append(FilePair(path, text, theirs[path]))
            seen.add(path)
    for path, text in ours:
        if path not in seen:
            pairs.append(FilePair(path, text, None))
            seen.add(path)
    for path, text in theirs.items():
        if path not in seen:
            pairs.append(FilePair(path, None, text))
    if not ours and patch.strip():
        pairs.insert(0, FilePair(WHOLE_TEXT, patch, None))  # prose or a broken diff: shown whole, on its side
    return pairs

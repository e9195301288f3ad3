"""Messages that workers post to the review screen; handlers on the screen own every state change."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from grader.core.audit.review import PatchView, ReviewQueue
from grader.core.store.verdicts import SavedVerdict


class QueueLoaded(Message):
    def __init__(self, queue: ReviewQueue, pseudonyms: dict[str, str]) -> None:
        super().__init__()
        self.queue = queue
        self.pseudonyms = pseudonyms


class PatchLoaded(Message):
    def __init__(self, view: PatchView, position: int) -> None:
        super().__init__()
        self.view = view
        self.position = position


class VerdictSaved(Message):
    """A verdict is committed to the database (only now may the screen say "saved")."""

    def __init__(
        self,
        saved: SavedVerdict,
        view: PatchView,
        revealed_at: Any,
        note: str,
        tags: tuple[str, ...],
        propagated: tuple[int, ...] = (),
    ) -> None:
        super().__init__()
        self.saved = saved
        self.view = view
        self.revealed_at = revealed_at
        self.note = note
        self.tags = tags
        self.propagated = propagated  # identical patches of the session the same commit gave a copy of it


class VerdictNotSaved(Message):
    """A verdict's commit failed: nothing of it is in the database, and the screen must say so and undo its
    optimistic "graded" (the verifier's verdict stays hidden, as nothing was committed)."""

    def __init__(self, view: PatchView, verdict: str, note: str, tags: tuple[str, ...], error: BaseException) -> None:
        super().__init__()
        self.view = view
        self.verdict = verdict
        self.note = note
        self.tags = tags
        self.error = error


class StatsUpdated(Message):
    def __init__(self, overall: dict[str, Any], by_model: dict[str, dict[str, Any]]) -> None:
        super().__init__()
        self.overall = overall
        self.by_model = by_model


class StoreFailed(Message):
    """A database operation failed; the screen says so and nothing is shown as saved."""

    def __init__(self, what: str, error: BaseException) -> None:
        super().__init__()
        self.what = what
        self.error = error


class SessionClaimed(Message):
    """The next patch leased to this reviewer in the audit session (None: nothing left for them)."""

    def __init__(self, patch_id: int | None) -> None:
        super().__init__()
        self.patch_id = patch_id

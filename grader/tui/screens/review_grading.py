"""The review screen's grading actions: a verdict, a note, tags, an undo, each handed to the save worker.

Mixed into the review screen; the screen's `@on` handlers (VerdictSaved, VerdictNotSaved) own what a save's
result does. They stay on the screen: Textual collects `@on` handlers only from classes built by its message
pump metaclass, so on a plain mixin they would never run (Textual issue #3930).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from grader.core.audit.review import PatchView, ReviewQueue
from grader.core.audit.sessions import SessionInfo
from grader.core.store.models import RETRACTED
from grader.tui.screens.dialogs import NoteScreen, TagsScreen
from grader.tui.widgets.panels import LastPanel

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel


class ReviewGrading:
    """Mixed into the review screen, which sets these attributes and renders what they change."""

    blind: bool
    rubric: tuple[str, ...]
    session: SessionInfo | None
    queue: ReviewQueue | None
    position: int
    view: PatchView | None
    _cache: dict[int, PatchView]
    _shown_at: float
    _waiting_for_claim: bool
    _pending_note: str | None
    _pending_tags: tuple[str, ...] | None
    _save_states: dict[int, str]
    _saving: dict[int, int]
    _committed_here: list[int]
    _pending_saves: int
    _last: tuple[PatchView, str] | None

    if TYPE_CHECKING:  # provided by the screen and Textual; declared here for type checkers only
        app: App[Any]

        def go_to(self, position: int) -> None: ...
        def _revealed(self, view: PatchView) -> bool: ...
        def _render_side(self) -> None: ...
        def _render_topbar(self) -> None: ...
        def save_verdict_worker(self, *args: Any) -> Any: ...
        def rubric_blocks_verdict(self, view: PatchView) -> bool: ...
        def rubric_keeps_patch(self, view: PatchView) -> bool: ...
        def rubric_answers_for(self, view: PatchView) -> Any: ...
        def call_after_refresh(self, callback: Any, *args: Any) -> bool: ...
        def query_one(self, selector: type[LastPanel]) -> LastPanel: ...
        def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information") -> None: ...

    def action_verdict(self, verdict: str) -> None:
        view = self.view
        if view is None or self.queue is None:
            return
        if self.rubric_blocks_verdict(view):
            return  # a required rubric question is open: the notice says which
        mine = view.mine
        note = self._pending_note if self._pending_note is not None else (mine.note if mine else "")
        tags = self._pending_tags if self._pending_tags is not None else (mine.tags if mine else ())
        seconds = round(time.monotonic() - self._shown_at, 3)
        self._commit(view, verdict, note, tags, seconds)
        self._last = (view, verdict)
        last = self.query_one(LastPanel)
        last.remove_class("hidden")
        # The verifier's verdict stays hidden until the commit returns (VerdictSaved), unless already shown.
        last.show_last(view, verdict, "saving…", self.blind, reveal=self._revealed(view))
        if self.rubric_keeps_patch(view):
            # Questions asked after the verdict open on this patch once it is saved; answering them moves on.
            self._render_side()
            self._render_topbar()
            return
        self._move_on_after(view)

    def _move_on_after(self, view: PatchView) -> None:
        """To the next ungraded patch (in a session, the next one claimed), or say the queue is done."""
        assert self.queue is not None
        following = self.queue.first_ungraded(self.position + 1)
        if following is None and self.session is not None:
            self._waiting_for_claim = True  # the next patch arrives with SessionClaimed
            self._render_side()
            self._render_topbar()
            return
        if following is None:
            self._render_side()
            self._render_topbar()
            self.notify("Every patch in this queue is graded.", title="Done")
            return
        self.go_to(following)

    def _commit(self, view: PatchView, verdict: str, note: str, tags: tuple[str, ...], seconds: float | None) -> None:
        assert self.queue is not None
        self._pending_saves += 1
        self._saving[view.patch_id] = self._saving.get(view.patch_id, 0) + 1
        self._save_states[view.patch_id] = "saving…"
        if verdict == RETRACTED:
            self.queue.graded.discard(view.patch_id)
        else:
            self.queue.graded.add(view.patch_id)
            self._committed_here.append(view.patch_id)
        # The write starts once the frame that answers the key is painted (a few ms later): the screen says
        # "saving…" until the commit returns, and never "saved" before it.
        revealed = self._revealed(view)
        answers = self.rubric_answers_for(view) if verdict != RETRACTED else None  # every answer goes with each row
        self.call_after_refresh(self.save_verdict_worker, view, verdict, note, tags, seconds, revealed, answers)

    def action_note(self) -> None:
        view = self.view
        if view is None:
            return
        current = self._pending_note if self._pending_note is not None else (view.mine.note if view.mine else "")

        def done(note: str | None) -> None:
            if note is None or self.view is None or self.view.patch_id != view.patch_id:
                return
            self._amend(view, note=note)

        self.app.push_screen(NoteScreen(current), done)

    def action_tags(self) -> None:
        view = self.view
        if view is None:
            return
        current = self._pending_tags if self._pending_tags is not None else (view.mine.tags if view.mine else ())

        def done(tags: tuple[str, ...] | None) -> None:
            if tags is None or self.view is None or self.view.patch_id != view.patch_id:
                return
            self._amend(view, tags=tags)

        self.app.push_screen(TagsScreen(self.rubric, current), done)

    def _amend(self, view: PatchView, *, note: str | None = None, tags: tuple[str, ...] | None = None) -> None:
        """A note or tags: kept for the coming verdict, or saved at once as a new row beside the given one."""
        current = self._cache.get(view.patch_id, view)
        if current.mine is None:
            if note is not None:
                self._pending_note = note
            if tags is not None:
                self._pending_tags = tags
            self._render_side()
            return
        new_note = note if note is not None else current.mine.note
        new_tags = tags if tags is not None else current.mine.tags
        self._commit(current, current.mine.verdict, new_note, new_tags, None)
        self._render_side()

    def action_undo(self) -> None:
        if self.queue is None:
            return
        target: PatchView | None = None
        if self.view is not None and (self.view.mine is not None or self.view.patch_id in self.queue.graded):
            target = self.view
        else:
            while self._committed_here:
                patch_id = self._committed_here.pop()
                if patch_id in self.queue.graded:
                    target = self._cache.get(patch_id)
                    break
        if target is None:
            self.notify("Nothing to undo here.", severity="warning")
            return
        if target.patch_id in self._committed_here:
            self._committed_here.remove(target.patch_id)
        self._commit(target, RETRACTED, "", (), None)
        self.query_one(LastPanel).add_class("hidden")
        self.go_to(self.queue.patch_ids.index(target.patch_id))

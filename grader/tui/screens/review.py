"""The review screen: the task, the patch, one key per verdict, the reveal, live statistics.

All database work runs in thread workers that post messages (grader.tui.messages); the handlers here own
every state change. A verdict is shown as "saved", and the verifier's verdict beside it, only when its
`VerdictSaved` message arrives, which the worker posts after the commit returned; `VerdictNotSaved` undoes
what the key press did on screen and says the verdict was not saved.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from sqlalchemy import Engine
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Rule, Static

from grader.core.audit.review import (
    PatchView,
    QueueFilter,
    ReviewerVerdict,
    ReviewQueue,
)
from grader.core.audit.rubric_review import ReviewRubric
from grader.core.audit.sessions import SessionInfo
from grader.core.patches.kinds import kind_notices
from grader.core.stats.report import LiveStats
from grader.core.store.models import RETRACTED
from grader.core.text.sanitize import sanitize_line
from grader.tui.commands import DIFF_COMMANDS, REVIEW_COMMANDS, RUBRIC_COMMANDS, bindings, key_of
from grader.tui.messages import (
    PatchLoaded,
    QueueLoaded,
    SessionClaimed,
    StatsUpdated,
    StoreFailed,
    VerdictNotSaved,
    VerdictSaved,
)
from grader.tui.paint import paint_now
from grader.tui.screens.dialogs import HelpScreen
from grader.tui.screens.reference import ReferenceScreen
from grader.tui.screens.review_grading import ReviewGrading
from grader.tui.screens.review_rubric import ReviewQuestions
from grader.tui.screens.review_workers import ReviewWorkers
from grader.tui.widgets.diff_view import COLOUR_BUDGET, DiffView
from grader.tui.widgets.panels import LastPanel, MinePanel, ReviewFooter, StatsPanel, TaskPanel, VerifierPanel
from grader.tui.widgets.review_diff import ReviewDiffView
from grader.tui.widgets.rubric_panel import RubricPanel

LEASE_RENEW_EVERY_S = 300.0  # a patch on screen keeps its lease (default 30 min) while the reviewer reads
PREFETCH_AHEAD = 3  # patches loaded ahead of the reviewer, so the next one shows without waiting
CACHE_SIZE = 64


class ReviewScreen(ReviewGrading, ReviewQuestions, ReviewWorkers, Screen[None]):
    """Grade patches one key at a time, blind to the model and the verifier until each verdict is committed."""

    BINDINGS = bindings(REVIEW_COMMANDS + DIFF_COMMANDS + RUBRIC_COMMANDS)

    def __init__(
        self,
        engine: Engine,
        *,
        reviewer: str,
        blind: bool = True,
        filters: QueueFilter = QueueFilter(),
        rubric: tuple[str, ...] = (),
        colour_budget: float | None = COLOUR_BUDGET,
        session: SessionInfo | None = None,
        review_rubric: ReviewRubric | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.review_rubric = review_rubric  # questions answered with each verdict (review_rubric.py)
        self._answers: dict[int, dict[str, str]] = {}
        self._current_question: str | None = None
        self._staying_for: int | None = None
        self.colour_budget = colour_budget
        # In an audit session patches come one lease at a time (claim_next), blind as the session says.
        self.session = session
        self._waiting_for_claim = False
        self.reviewer = reviewer
        self.blind = session.blind if session is not None else blind
        self.filters = filters
        self.rubric = rubric
        self.queue: ReviewQueue | None = None
        self.names: dict[str, str] = {}
        self.position = 0
        self.view: PatchView | None = None
        self.shown_patch_id: int | None = None  # what the screen shows now (benchmarks watch it)
        self._cache: dict[int, PatchView] = {}
        self._shown_at = time.monotonic()
        self._pending_note: str | None = None
        self._pending_tags: tuple[str, ...] | None = None
        self._save_states: dict[int, str] = {}
        self._saving: dict[int, int] = {}  # saves in flight per patch
        # Patches whose verifier verdict this screen has shown: a later verdict on one was not given blind,
        # whatever the store's reveal rows say.
        self._verifier_shown: set[int] = set()
        self._committed_here: list[int] = []  # patch ids graded in this run, for undo
        self._pending_saves = 0
        self._quit_when_saved = False
        self._last: tuple[PatchView, str] | None = None
        self._live: LiveStats | None = None
        self._live_lock = threading.Lock()
        self._task_diff_showing: str | None = None

    # -- layout -------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="topbar")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield TaskPanel(id="task")
                yield ReviewDiffView(id="task-diff", classes="hidden", colour_budget=self.colour_budget)
                yield Rule(id="pane-rule")  # under the task (or the task's diff), not under the focus bar
                yield ReviewDiffView(id="diff", colour_budget=self.colour_budget)
            with VerticalScroll(id="side"):
                if self.review_rubric is not None:
                    yield RubricPanel(id="rubric")
                yield VerifierPanel(id="verifier")
                yield MinePanel(id="mine")
                yield LastPanel(id="last", classes="hidden")
                yield StatsPanel(id="stats")
        yield ReviewFooter({c.action: c.footer_min_width for c in REVIEW_COMMANDS if c.footer_min_width})

    def on_mount(self) -> None:
        self.query_one("#topbar", Static).update("loading the queue…")
        self.query_one(StatsPanel).show_loading()
        self.query_one("#diff", DiffView).focus()
        self.load_queue_worker()
        if self.session is not None:
            self.set_interval(LEASE_RENEW_EVERY_S, self._renew_lease)

    def _renew_lease(self) -> None:
        if self.view is not None and self.queue is not None and self.view.patch_id not in self.queue.graded:
            self.renew_lease_worker(self.view.patch_id)

    # -- message handlers ---------------------------------------------------------------------------------
    @on(QueueLoaded)
    def queue_loaded(self, message: QueueLoaded) -> None:
        self.queue = message.queue
        self.names = message.pseudonyms
        if not self.queue.patch_ids:
            empty = (
                f"Nothing left for you in session {self.session.name}."
                if self.session is not None
                else "No patches to review: import some with `grader import`."
            )
            self.query_one("#topbar", Static).update(empty)
            return
        start = self.queue.first_ungraded()
        self.go_to(start if start is not None else 0)
        self.load_stats_worker()

    @on(PatchLoaded)
    def patch_loaded(self, message: PatchLoaded) -> None:
        self._remember(message.view)
        if (
            message.position == self.position
            and self.queue
            and self.queue.patch_ids[self.position] == message.view.patch_id
        ):
            self.show(message.view)

    @on(VerdictSaved)
    def verdict_saved(self, message: VerdictSaved) -> None:
        self._pending_saves -= 1
        self._saving[message.view.patch_id] -= 1
        saved, view = message.saved, message.view
        current = self._cache.get(view.patch_id, view)
        if saved.verdict == RETRACTED:
            mine = None
            state = "undone"
        else:
            mine = ReviewerVerdict(saved.verdict, message.note, message.tags, saved.created_at, saved.id)
            state = "saved ✓"
        revealed_at = message.revealed_at or current.revealed_at
        updated = replace(current, mine=mine, revealed_at=revealed_at)
        self._remember(updated)
        self._save_states[view.patch_id] = state
        if self._last is not None and self._last[0].patch_id == view.patch_id:
            self._last = (updated, saved.verdict)
            if saved.verdict != RETRACTED:
                self.query_one(LastPanel).show_last(updated, saved.verdict, state, self.blind)
                self._verifier_shown.add(view.patch_id)
        if self.view is not None and self.view.patch_id == view.patch_id:
            self.view = updated
            self.verdict_saved_for_rubric(updated)
            self._render_side()
        self._render_topbar()
        self.update_stats_worker(view.patch_id, saved.verdict, message.tags, message.propagated)
        if self._quit_when_saved and self._pending_saves == 0:
            self.app.exit()

    @on(StatsUpdated)
    def stats_updated(self, message: StatsUpdated) -> None:
        self.query_one(StatsPanel).show_stats(message.overall, message.by_model, self.names, self.blind)

    @on(VerdictNotSaved)
    def verdict_not_saved(self, message: VerdictNotSaved) -> None:
        """Undo on screen what the key press did: the count, "saving…", the move on; say what to press."""
        assert self.queue is not None
        self._pending_saves -= 1
        view, verdict = message.view, message.verdict
        patch_id = view.patch_id
        self._saving[patch_id] -= 1
        current = self._cache.get(patch_id, view)
        key = key_of("undo" if verdict == RETRACTED else f"verdict('{verdict}')")
        what = "undo" if verdict == RETRACTED else verdict.upper()
        state = f"{what} NOT saved: press {key}"
        if not self._saving[patch_id]:
            # Back to what the database holds: graded when a verdict of ours on the patch stands.
            if current.mine is None:
                self.queue.graded.discard(patch_id)
            else:
                self.queue.graded.add(patch_id)
            self._save_states[patch_id] = state
        if verdict == RETRACTED:
            self._committed_here.append(patch_id)
        elif patch_id in self._committed_here:
            del self._committed_here[len(self._committed_here) - 1 - self._committed_here[::-1].index(patch_id)]
        if self._last is not None and self._last[0].patch_id == patch_id and verdict != RETRACTED:
            self.query_one(LastPanel).show_last(current, verdict, state, self.blind, reveal=self._revealed(current))
        shown = self.view.patch_id if self.view is not None else None
        shown_failed = shown is not None and "NOT saved" in self._save_states.get(shown, "")
        if shown != patch_id and not shown_failed:
            # The key press moved on to the next patch; the verdict did not happen, so neither does the move.
            self._waiting_for_claim = False
            if patch_id in self.queue.patch_ids:
                self.go_to(self.queue.patch_ids.index(patch_id))
        if self.view is not None and self.view.patch_id == patch_id and verdict != RETRACTED:
            self._pending_note, self._pending_tags = message.note, message.tags  # kept for the retry
        self._render_side()
        self._render_topbar()
        lines = str(message.error).strip().splitlines()
        error = lines[0] if lines else type(message.error).__name__  # SQLAlchemy's first line names the problem
        quitting = " Quitting is cancelled." if self._quit_when_saved else ""
        self._quit_when_saved = False
        self.notify(
            f"Your {what} on {view.instance_id} was NOT saved ({error}). Press {key} to try again.{quitting}",
            title="Verdict NOT saved",
            severity="error",
            timeout=15,
        )

    @on(StoreFailed)
    def store_failed(self, message: StoreFailed) -> None:
        self.notify(f"{message.what} failed: {message.error}", title="Database error", severity="error", timeout=10)

    @on(SessionClaimed)
    def session_claimed(self, message: SessionClaimed) -> None:
        assert self.queue is not None
        if message.patch_id is None:
            if self._waiting_for_claim:
                self.notify("Nothing left for you in this session: every patch has its reviewers.", title="Done")
            self._waiting_for_claim = False
            return
        if message.patch_id not in self.queue.patch_ids:
            self.queue.patch_ids.append(message.patch_id)
        if self._waiting_for_claim:
            self._waiting_for_claim = False
            self.go_to(self.queue.patch_ids.index(message.patch_id))

    # -- showing ------------------------------------------------------------------------------------------
    def _remember(self, view: PatchView) -> None:
        self._cache[view.patch_id] = view
        if len(self._cache) > CACHE_SIZE:
            keep = self.view.patch_id if self.view else None
            for patch_id in list(self._cache)[: len(self._cache) - CACHE_SIZE]:
                if patch_id != keep:
                    del self._cache[patch_id]

    def go_to(self, position: int) -> None:
        """Show the patch at `position` in the queue: at once when it is loaded, else when its load arrives."""
        assert self.queue is not None
        self.position = position % len(self.queue.patch_ids)
        patch_id = self.queue.patch_ids[self.position]
        cached = self._cache.get(patch_id)
        if cached is not None:
            self.show(cached)
        else:
            self.query_one("#topbar", Static).update(f"loading patch {self.position + 1}…")
            self.load_patch_worker(patch_id, self.position)

    def _prefetch(self) -> None:
        assert self.queue is not None
        wanted: list[int] = []
        position = self.position
        for _ in range(PREFETCH_AHEAD):
            following = self.queue.first_ungraded(position + 1)
            if following is None or following == self.position:
                break
            wanted.append(following)
            position = following
        wanted.append((self.position + 1) % len(self.queue.patch_ids))
        for wanted_position in wanted:
            patch_id = self.queue.patch_ids[wanted_position]
            if patch_id not in self._cache:
                self.load_patch_worker(patch_id, -1)

    def show(self, view: PatchView) -> None:
        self.view = view
        self.shown_patch_id = view.patch_id
        self._shown_at = time.monotonic()
        self._pending_note = None
        self._pending_tags = None
        self.query_one(TaskPanel).show_task(view)
        text = None if view.patch_kind == "null" else view.diff
        self.query_one("#diff", DiffView).show_patch(text, kind_notices(view.patch_kind))
        self._hide_task_diff()
        self.start_questions(view)
        self._render_side()
        self._render_topbar()
        paint_now(self)
        self.call_after_refresh(self._prefetch)

    def _revealed(self, view: PatchView) -> bool:
        return not self.blind or view.revealed_at is not None or view.patch_id in self._verifier_shown

    def _render_side(self) -> None:
        view = self.view
        if view is None:
            return
        mine = view.mine
        verifier = self.query_one(VerifierPanel)
        if self._revealed(view):
            verifier.show_revealed(view, mine.verdict if mine else None, self.blind)
            self._verifier_shown.add(view.patch_id)
        else:
            verifier.show_hidden(view)
        note = self._pending_note if self._pending_note is not None else (mine.note if mine else "")
        tags = self._pending_tags if self._pending_tags is not None else (mine.tags if mine else ())
        state = self._save_states.get(view.patch_id, "")
        if (self._pending_note is not None or self._pending_tags is not None) and "NOT saved" not in state:
            state = "note/tags kept for your verdict" if mine is None else state
        self.query_one(MinePanel).show_mine(mine.verdict if mine else None, note, tags, state)
        self._render_rubric()

    def _progress(self) -> str:
        if self.queue is None:
            return ""
        if self.session is not None:
            return f"Session {self.session.name}: graded {len(self.queue.graded)}"
        return f"Graded {len(self.queue.graded)}/{self.queue.total}"

    def _render_topbar(self) -> None:
        if self.queue is None or self.view is None:
            return
        view = self.view
        mode = "blind" if self.blind else "open"
        who = view.pseudonym if self.blind else view.model
        text = f" {self._progress()} · #{self.position + 1} · {view.instance_id} · {who} · {self.reviewer} ({mode})"
        self.query_one("#topbar", Static).update(Content.styled(sanitize_line(text), "bold"), layout=False)

    # -- actions ------------------------------------------------------------------------------------------
    def action_next_patch(self) -> None:
        if self.queue:
            self.go_to(self.position + 1)

    def action_previous_patch(self) -> None:
        if self.queue:
            self.go_to(self.position - 1)

    def action_first_ungraded(self) -> None:
        if self.queue is None:
            return
        first = self.queue.first_ungraded()
        if first is None:
            self.notify("Every patch in this queue is graded.")
            return
        self.go_to(first)

    def _hide_task_diff(self) -> None:
        self.query_one("#task-diff", DiffView).add_class("hidden")
        self.query_one(TaskPanel).remove_class("hidden")
        self._task_diff_showing = None

    def _toggle_task_diff(self, which: str) -> None:
        view = self.view
        if view is None:
            return
        task_diff = self.query_one("#task-diff", DiffView)
        if self._task_diff_showing == which:
            self._hide_task_diff()
            return
        text = view.reference_patch if which == "reference" else view.test_patch
        notice = f"The {'reference fix' if which == 'reference' else 'test patch'} of {view.instance_id}"
        if not text.strip():
            self.notify(
                f"No {'reference fix' if which == 'reference' else 'test patch'} for this task: import the task file."
            )
            return
        task_diff.show_patch(text, [notice])
        task_diff.remove_class("hidden")
        self.query_one(TaskPanel).add_class("hidden")
        self._task_diff_showing = which

    def action_toggle_reference(self) -> None:
        self._toggle_task_diff("reference")

    def action_toggle_tests(self) -> None:
        self._toggle_task_diff("tests")

    def action_diff(self, action: str) -> None:
        """A diff key pressed with the focus elsewhere (the task, the side panels), or a diff command from the
        palette: the focused diff view runs it, else the patch's."""
        focused = self.focused
        target = focused if isinstance(focused, DiffView) else self.query_one("#diff", DiffView)
        getattr(target, f"action_{action}")()

    def action_toggle_stats(self) -> None:
        self.query_one(StatsPanel).toggle_class("hidden")

    def action_help(self) -> None:
        forwarded = {c.key for c in DIFF_COMMANDS}
        scrolling = [b for b in DiffView.BINDINGS if isinstance(b, Binding) and b.key not in forwarded]
        diff_keys = [(c.key_display, c.description) for c in DIFF_COMMANDS]
        diff_keys += [(b.key_display or b.key, b.description) for b in scrolling]
        rubric_keys = []
        if self.review_rubric is not None:
            rubric_keys = [("0-9", "Answer the current question: the option with that key (listed beside it)")]
            rubric_keys += [
                (c.key_display, c.description) for c in RUBRIC_COMMANDS if not c.action.startswith("answer")
            ]
        self.app.push_screen(HelpScreen(diff_keys, rubric_keys))

    def action_compare_reference(self) -> None:
        """The patch and the reference fix side by side, per file; the verifier's verdict is not shown there."""
        view = self.view
        if view is None:
            return
        if not view.reference_patch.strip():
            self.notify("No reference fix for this task: import the task file.")
            return
        patch = None if view.patch_kind == "null" else view.diff
        self.app.push_screen(
            ReferenceScreen(patch or "", view.reference_patch, view.instance_id, colour_budget=self.colour_budget)
        )

    def action_quit(self) -> None:
        if self._pending_saves > 0:
            self._quit_when_saved = True
            self.notify("Saving your last verdict before quitting…")
            return
        self.app.exit()

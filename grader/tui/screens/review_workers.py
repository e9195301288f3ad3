"""The review screen's thread workers: database work that never touches a widget and ends in a message."""

from __future__ import annotations

import gc
import threading
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from textual import work
from textual.message import Message

from grader.core.audit.assignment import claim_next, renew_claim
from grader.core.audit.review import PatchView, QueueFilter, ReviewQueue, load_patch_view, load_queue, pseudonyms
from grader.core.audit.rubric_review import ReviewRubric, with_answers
from grader.core.audit.session_verdicts import PROPAGATED_SOURCE, submit_session_verdict
from grader.core.audit.sessions import SessionInfo
from grader.core.patches.hash_backfill import backfill_norm_hashes
from grader.core.stats.data import load_model_names, load_stat_records
from grader.core.stats.report import LiveStats
from grader.core.store.models import RETRACTED
from grader.core.store.rubric_answers import GivenAnswers
from grader.core.store.verdicts import record_reveal, record_verdict
from grader.tui.messages import (
    PatchLoaded,
    QueueLoaded,
    SessionClaimed,
    StatsUpdated,
    StoreFailed,
    VerdictNotSaved,
    VerdictSaved,
)

STATS_PANEL_MODELS = 4  # the live panel lists the models with the most labelled items


class ReviewWorkers:
    """Mixed into the review screen, which sets these attributes; each worker posts one message when done."""

    engine: Engine
    reviewer: str
    blind: bool
    filters: QueueFilter
    session: SessionInfo | None
    review_rubric: ReviewRubric | None
    names: dict[str, str]
    _live: LiveStats | None
    _live_lock: threading.Lock

    if TYPE_CHECKING:  # provided by the screen; declared here for type checkers only

        def post_message(self, message: Message) -> bool: ...

    @work(thread=True, exclusive=True, group="queue")
    def load_queue_worker(self) -> None:
        try:
            if self.session is not None:
                claimed = claim_next(self.engine, self.session.id, self.reviewer)
                queue = ReviewQueue(self.reviewer, [claimed] if claimed is not None else [])
            else:
                queue = load_queue(self.engine, self.reviewer, self.filters)
            names = pseudonyms(self.engine)
        except Exception as exc:
            self.post_message(StoreFailed("loading the queue", exc))
            return
        self.post_message(QueueLoaded(queue, names))

    @work(thread=True, group="patches")
    def load_patch_worker(self, patch_id: int, position: int) -> None:
        try:
            view = load_patch_view(self.engine, patch_id, self.reviewer, self.names)
            if self.review_rubric is not None:
                view = with_answers(self.engine, view, self.reviewer, self.review_rubric)
        except Exception as exc:
            self.post_message(StoreFailed(f"loading patch {patch_id}", exc))
            return
        self.post_message(PatchLoaded(view, position))

    @work(thread=True, group="save")
    def save_verdict_worker(
        self,
        view: PatchView,
        verdict: str,
        note: str,
        tags: tuple[str, ...],
        seconds: float | None,
        revealed_before: bool,
        answers: GivenAnswers | None = None,
    ) -> None:
        given = {
            "patch_id": view.patch_id,
            "reviewer": self.reviewer,
            "verdict": verdict,
            "note": note,
            "tags": tags,
            "seconds_spent": seconds,
            "revealed_before": revealed_before,
            "answers": answers,
        }
        propagated: tuple[int, ...] = ()
        try:
            if self.session is not None:
                submitted = submit_session_verdict(self.engine, session_id=self.session.id, **given)  # type: ignore[arg-type]
                saved, propagated = submitted.saved, submitted.propagated
            else:
                saved = record_verdict(self.engine, **given)
        except Exception as exc:
            self.post_message(VerdictNotSaved(view, verdict, note, tags, exc))
            return
        # The verdict is committed whatever happens next: a failure to record the reveal must not unsay it.
        revealed_at = None
        if self.blind and view.revealed_at is None and verdict != RETRACTED:
            try:
                revealed_at = record_reveal(
                    self.engine, patch_id=view.patch_id, reviewer=self.reviewer, verdict_id=saved.id
                )
            except Exception as exc:
                what = f"recording the reveal on {view.instance_id} (the verdict is saved)"
                self.post_message(StoreFailed(what, exc))
        self.post_message(VerdictSaved(saved, view, revealed_at, note, tags, propagated))
        if self.session is not None and verdict != RETRACTED:
            self.claim_next_worker()

    @work(thread=True, exclusive=True, group="claim")
    def claim_next_worker(self) -> None:
        assert self.session is not None
        try:
            claimed = claim_next(self.engine, self.session.id, self.reviewer)
        except Exception as exc:
            self.post_message(StoreFailed("claiming the next patch of the session", exc))
            return
        self.post_message(SessionClaimed(claimed))

    @work(thread=True, exclusive=True, group="renew")
    def renew_lease_worker(self, patch_id: int) -> None:
        assert self.session is not None
        try:
            renew_claim(self.engine, self.session.id, self.reviewer, patch_id)
        except Exception as exc:
            self.post_message(StoreFailed("renewing your lease", exc))

    @work(thread=True, exclusive=True, group="stats")
    def load_stats_worker(self) -> None:
        try:
            benchmark = self.filters.benchmarks[0] if len(self.filters.benchmarks) == 1 else None
            session_id = self.session.id if self.session is not None else None
            records = load_stat_records(
                self.engine, models=self.filters.models, benchmark=benchmark, session_id=session_id
            )
            models = load_model_names(self.engine, benchmark=benchmark)
            if self.filters.models:
                models = [m for m in models if m in self.filters.models]
            live = LiveStats(records, models)
        except Exception as exc:
            self.post_message(StoreFailed("loading statistics", exc))
            return
        # The loaded records live as long as the screen: move them out of the collector's sight, or every
        # full collection walks them all (100-300 ms pauses with 44k patches, felt as a stuck key).
        gc.freeze()
        with self._live_lock:
            self._live = live
            self.post_message(
                StatsUpdated(live.summary(), {m: live.summary(m) for m in live.largest_models(STATS_PANEL_MODELS)})
            )
        # Identical-patch counts need each patch's normalised hash, computed at import; a store imported by an
        # older grader computes them once here, after the first patch and the statistics.
        try:
            backfill_norm_hashes(self.engine)
        except Exception as exc:
            self.post_message(StoreFailed("hashing patches for the identical-patch counts", exc))

    @work(thread=True, group="stats-update")
    def update_stats_worker(
        self, patch_id: int, verdict: str, tags: tuple[str, ...], propagated: tuple[int, ...] = ()
    ) -> None:
        """Apply a saved verdict to the live figures, and its propagated copies (grade once) with it."""
        session_id = self.session.id if self.session is not None else None
        with self._live_lock:
            if self._live is None:
                return
            try:
                overall = self._live.apply_verdict(patch_id, self.reviewer, verdict, session_id=session_id, tags=tags)
            except KeyError:
                return  # a patch outside the loaded set
            for sibling in propagated:
                try:
                    overall = self._live.apply_verdict(
                        sibling, self.reviewer, verdict, source=PROPAGATED_SOURCE, session_id=session_id, tags=tags
                    )
                except KeyError:
                    continue
            self.post_message(
                StatsUpdated(overall, {m: self._live.summary(m) for m in self._live.largest_models(STATS_PANEL_MODELS)})
            )

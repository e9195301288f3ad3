"""The review screen's rubric: number keys answer the current question, required questions gate the verdict,
questions asked after the verdict keep the patch on screen until they are answered.

Mixed into the review screen. Answers of a patch not yet graded wait on screen and are committed with the
verdict, in its transaction; on a graded patch a changed answer is committed at once as a new verdict row (the
same verdict, note and tags) carrying every answer, like a changed note.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from grader.core.audit.review import PatchView, ReviewQueue
from grader.core.audit.rubric_review import ReviewRubric
from grader.core.importers.rubrics import Question
from grader.core.store.rubric_answers import GivenAnswers
from grader.tui.widgets.rubric_panel import AnswerTextScreen, RubricPanel, askable

if TYPE_CHECKING:
    from textual.app import App


class ReviewQuestions:
    """Mixed into the review screen, which sets these attributes and calls `_render_rubric` from `_render_side`."""

    review_rubric: ReviewRubric | None
    blind: bool
    view: PatchView | None
    queue: ReviewQueue | None
    position: int
    _cache: dict[int, PatchView]
    _answers: dict[int, dict[str, str]]
    _current_question: str | None
    _staying_for: int | None  # the patch kept on screen for its after-verdict questions

    if TYPE_CHECKING:  # provided by the screen and Textual; declared here for type checkers only
        app: App[Any]

        def query_one(self, selector: Any, expect_type: Any = None) -> Any: ...
        def notify(
            self, message: str, *, title: str = "", severity: Any = "information", timeout: float = 5
        ) -> None: ...
        def _commit(
            self, view: PatchView, verdict: str, note: str, tags: tuple[str, ...], seconds: float | None
        ) -> None: ...
        def _move_on_after(self, view: PatchView) -> None: ...
        def _render_side(self) -> None: ...

    # -- state --------------------------------------------------------------------------------------------
    def answers_of(self, view: PatchView) -> dict[str, str]:
        """The answers on screen for this patch (loaded with it, then as the reviewer changes them)."""
        found = self._answers.get(view.patch_id)
        if found is None:
            found = self._answers[view.patch_id] = dict(view.rubric_answers)
        return found

    def rubric_answers_for(self, view: PatchView) -> GivenAnswers | None:
        if self.review_rubric is None:
            return None
        return GivenAnswers(self.review_rubric.rubric_id, dict(self.answers_of(view)))

    def _graded(self, view: PatchView) -> bool:
        return self._cache.get(view.patch_id, view).mine is not None

    def _open_questions(self, view: PatchView, phase: str | None = None) -> list[Question]:
        assert self.review_rubric is not None
        answers = self.answers_of(view)
        return [
            q
            for q in askable(self.review_rubric.rubric, self._graded(view))
            if (phase is None or q.phase == phase) and not answers.get(q.id)
        ]

    # -- hooks the screen calls -----------------------------------------------------------------------------
    def start_questions(self, view: PatchView) -> None:
        """A patch is shown: the cursor goes to its first open question."""
        if self.review_rubric is None:
            return
        self.answers_of(view)
        open_questions = self._open_questions(view)
        self._current_question = open_questions[0].id if open_questions else self.review_rubric.rubric.questions[0].id

    def rubric_blocks_verdict(self, view: PatchView) -> bool:
        """True (and a one-line notice) when a required question before the verdict is unanswered."""
        if self.review_rubric is None:
            return False
        missing = self.review_rubric.rubric.missing_required(self.answers_of(view), "before")
        if not missing:
            return False
        names = ", ".join(q.label for q in missing)
        self._current_question = missing[0].id
        self._render_rubric()
        self.notify(f"Answer first: {names} (number keys; Enter moves on)", severity="warning", timeout=4)
        return True

    def rubric_keeps_patch(self, view: PatchView) -> bool:
        """After a verdict: stay on the patch while questions asked after the verdict are open."""
        if self.review_rubric is None or not self.review_rubric.rubric.phase("after"):
            return False
        answers = self.answers_of(view)
        if all(answers.get(q.id) for q in self.review_rubric.rubric.phase("after")):
            return False
        self._staying_for = view.patch_id
        return True

    def verdict_saved_for_rubric(self, view: PatchView) -> None:
        """The verdict is saved: questions after the verdict open, the cursor goes to the first of them."""
        if self.review_rubric is None or self._staying_for != view.patch_id:
            return
        after = self._open_questions(view, "after")
        if after:
            self._current_question = after[0].id

    def _render_rubric(self) -> None:
        if self.review_rubric is None or self.view is None:
            return
        view = self._cache.get(self.view.patch_id, self.view)
        graded = view.mine is not None
        # Published labels only once the reviewer's own verdict is saved, when reviewing blind.
        published = view.published_labels if (graded or not self.blind) else ()
        self.query_one(RubricPanel).show_questions(
            self.review_rubric.rubric, self.answers_of(view), self._current_question, graded=graded, published=published
        )

    # -- actions --------------------------------------------------------------------------------------------
    def _question(self) -> Question | None:
        if self.review_rubric is None or self.view is None:
            return None
        rubric = self.review_rubric.rubric
        shown = [q.id for q in askable(rubric, self._graded(self.view))]
        if self._current_question not in shown:
            self._current_question = shown[0] if shown else None
        return rubric.question(self._current_question) if self._current_question else None

    def action_answer(self, key: str) -> None:
        question = self._question()
        if question is None or self.view is None:
            return
        if question.kind == "text":
            self.action_next_question()
            return
        option = question.option_for_key(key)
        if option is None:
            self.notify(f"{question.label}: keys {' '.join(question.keys())}", severity="warning", timeout=3)
            return
        answers = self.answers_of(self.view)
        if question.kind == "multi":
            chosen = set(json.loads(answers.get(question.id) or "[]")) ^ {option.value}
            self._set_answer(self.view, question, json.dumps([o.value for o in question.options if o.value in chosen]))
            return  # a multi-select stays until Enter
        self._set_answer(self.view, question, option.value)
        self._step(1, open_only=True)

    def action_next_question(self) -> None:
        question = self._question()
        if question is None or self.view is None:
            return
        if question.kind == "text":
            view = self.view
            current = self.answers_of(view).get(question.id, "")

            def done(text: str | None) -> None:
                if text is None or self.view is None or self.view.patch_id != view.patch_id:
                    return
                self._set_answer(view, question, text.strip())
                self._step(1, open_only=True)

            self.app.push_screen(AnswerTextScreen(question.prompt, current), done)
            return
        self._step(1)

    def action_skip_question(self) -> None:
        self._step(1)

    def action_previous_question(self) -> None:
        self._step(-1)

    def _step(self, direction: int, *, open_only: bool = False) -> None:
        if self.review_rubric is None or self.view is None:
            return
        shown = askable(self.review_rubric.rubric, self._graded(self.view))
        ids = [q.id for q in shown]
        start = ids.index(self._current_question) if self._current_question in ids else 0
        answers = self.answers_of(self.view)
        for offset in range(1, len(ids) + 1):
            candidate = ids[(start + direction * offset) % len(ids)]
            if not open_only or not answers.get(candidate):
                self._current_question = candidate
                break
        self._render_rubric()

    def _set_answer(self, view: PatchView, question: Question, value: str) -> None:
        answers = self.answers_of(view)
        if value:
            answers[question.id] = question.check(value)
        else:
            answers.pop(question.id, None)
        current = self._cache.get(view.patch_id, view)
        if current.mine is not None:
            # A graded patch: the change is a new verdict row now, carrying every answer.
            self._commit(current, current.mine.verdict, current.mine.note, current.mine.tags, None)
            if self._staying_for == view.patch_id and not self._open_questions(current, "after"):
                self._staying_for = None
                self._render_side()
                self._move_on_after(current)
                return
        self._render_side()

"""The rubric's questions on the review screen: the current one marked with its options and their number keys,
each answer so far, required questions still open, and (only once the reviewer's own verdict is saved, in blind
review) the published labels of the task.

Answers and labels are stored text: sanitised and assembled into Content, never parsed as markup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from grader.core.importers.rubrics import Question, Rubric
from grader.core.text.sanitize import sanitize_line
from grader.tui.widgets.panels import SIDE_PANEL_CSS, ContentPanel, Part, clip


def askable(rubric: Rubric, graded: bool) -> list[Question]:
    """The questions the reviewer may answer now: those before the verdict, and those after it once graded."""
    return [q for q in rubric.questions if q.phase == "before" or graded]


def short_answer(question: Question, value: str | None) -> str:
    if value is None or value == "":
        return "—"
    if question.kind == "text":
        return "✎ " + sanitize_line(value.replace("\n", " "))
    if question.kind == "multi":
        keys = dict(zip((o.value for o in question.options), question.keys(), strict=True))
        chosen = json.loads(value)
        return ",".join(keys.get(v, "?") for v in chosen) or "none"
    return sanitize_line(question.shown(value))


class RubricPanel(ContentPanel):
    """The questions of the rubric, one line each, the current one opened up with its options."""

    DEFAULT_CSS = f"""
    RubricPanel {{ border: round $accent; {SIDE_PANEL_CSS} min-height: 4; }}
    """

    FITS_LINES = True

    def show_questions(
        self,
        rubric: Rubric,
        answers: Mapping[str, str],
        current: str | None,
        *,
        graded: bool,
        published: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """`published` (rater, question, value): shown beside the questions; the screen passes them only when
        the reviewer may see them (their verdict saved, or an open review)."""
        self.border_title = clip(f"Rubric {rubric.name}", max(4, self.room() - 2))
        room = self.room()
        by_question: dict[str, list[tuple[str, str]]] = {}
        for rater, question_id, value in published:
            by_question.setdefault(question_id, []).append((rater, value))
        parts: list[Part] = []
        for question in rubric.questions:
            if parts:
                parts.append("\n")
            value = answers.get(question.id)
            waiting = question.phase == "after" and not graded
            is_current = question.id == current
            open_required = question.required and not value and not waiting
            marker = "▸" if is_current else " "
            flag = "*" if open_required else " "
            label = question.label
            answer = "(after)" if waiting else short_answer(question, value)
            label_room = max(6, min(18, room - 14))  # a fixed column, so the answers line up
            head = f"{marker}{flag}{clip(label, label_room):<{label_room}} "
            style = "bold" if is_current else ("dim" if waiting else "")
            parts.append((head, style))
            answer_style = "italic dim" if waiting or not value else ("$success" if not open_required else "")
            parts.append((clip(answer, max(1, room - cell_len(head))), answer_style))
            for rater, label_value in by_question.get(question.id, ()):
                shown = "note" if question.kind == "text" else sanitize_line(question.shown(label_value))
                parts += ["\n", (clip(f"  {rater}: {shown}", room), "$secondary")]
            if is_current and not waiting:
                if question.kind == "text":
                    parts += ["\n", ("   Enter: write", "dim")]
                    continue
                chosen = _chosen(question, value)
                for key, option in zip(question.keys(), question.options, strict=True):
                    tick = "✓" if option.value in chosen else " "
                    line = f"   {key} {sanitize_line(option.label)}"
                    parts += ["\n", (clip(line, room - 1), "$accent" if tick == "✓" else ""), (tick, "$success")]
                if question.kind == "multi":
                    parts += ["\n", ("   Enter: done", "dim")]
        self.show_parts(*parts)


def _chosen(question: Question, value: str | None) -> set[str]:
    if not value:
        return set()
    if question.kind == "multi":
        return set(json.loads(value))
    return {value}


class AnswerTextScreen(ModalScreen[str | None]):
    """Write a free-text answer; Enter saves, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, value: str) -> None:
        super().__init__()
        self._prompt = prompt
        self._value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(sanitize_line(self._prompt) + " (Enter to keep, Escape to cancel)"))
            yield Input(value=self._value, id="answer-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)

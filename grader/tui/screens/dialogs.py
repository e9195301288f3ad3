"""Small modal screens: the note editor, the rubric tag chooser, and help."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, SelectionList, Static

from grader.tui.commands import REVIEW_COMMANDS


class NoteScreen(ModalScreen[str | None]):
    """Edit the note on the current patch; Enter saves, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, note: str) -> None:
        super().__init__()
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Note on this patch (Enter to save, Escape to cancel)")
            yield Input(value=self._note, placeholder="what did you see?", id="note-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TagsScreen(ModalScreen[tuple[str, ...] | None]):
    """Choose rubric tags: space toggles, Enter saves, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("enter", "save", "Save", priority=True)]

    def __init__(self, rubric: Sequence[str], chosen: Sequence[str]) -> None:
        super().__init__()
        self._rubric = list(dict.fromkeys([*rubric, *chosen]))
        self._chosen = set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Rubric tags (space toggles, Enter saves, Escape cancels)")
            yield SelectionList[str](*[(Text(tag), tag, tag in self._chosen) for tag in self._rubric], id="tags")

    def action_save(self) -> None:
        chosen = self.query_one("#tags", SelectionList).selected
        self.dismiss(tuple(tag for tag in self._rubric if tag in chosen))

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key of the review screen and of the diff view."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, diff_keys: Sequence[tuple[str, str]], rubric_keys: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__()
        self._diff_keys = diff_keys
        self._rubric_keys = rubric_keys

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 2), show_header=False, expand=False)
        table.add_column(style="bold cyan", no_wrap=True, width=10)
        table.add_column()
        group = None
        for command in REVIEW_COMMANDS:
            if command.group != group:
                group = command.group
                table.add_row(Text(group, style="bold underline"), "")
            table.add_row(command.key_display, command.description)
        table.add_row(Text("Diff", style="bold underline"), "")
        for key, description in self._diff_keys:
            table.add_row(key, description)
        if self._rubric_keys:
            table.add_row(Text("Rubric", style="bold underline"), "")
            for key, description in self._rubric_keys:
                table.add_row(key, description)
        table.add_row(Text("Anywhere", style="bold underline"), "")
        table.add_row("ctrl+p", "Command palette: every command by name")
        with VerticalScroll(classes="dialog help"):
            yield Label("grader — keys (Escape closes)")
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)

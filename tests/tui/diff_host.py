"""A tiny app hosting one DiffView, for Pilot tests, snapshots and the bench."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType

from grader.tui.widgets.diff_view import DiffView


class DiffHostApp(App[None]):
    """Shows `patches[0]` on mount; `o` opens the next patch of the list (the bench times that key)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("o", "open_next", "Open next")]

    def __init__(
        self, patches: list[str] | None = None, *, side_by_side: bool = False, colour_budget: float | None = None
    ) -> None:
        super().__init__()
        self.colour_budget = colour_budget
        self.patches = patches or [""]
        self.position = 0
        self.start_side_by_side = side_by_side

    def compose(self) -> ComposeResult:
        yield DiffView(id="diff", colour_budget=self.colour_budget)

    def on_mount(self) -> None:
        view = self.query_one(DiffView)
        view.focus()
        view.show_patch(self.patches[0])
        if self.start_side_by_side:
            view.action_toggle_side_by_side()

    def action_open_next(self) -> None:
        self.position = (self.position + 1) % len(self.patches)
        self.query_one(DiffView).show_patch(self.patches[self.position])


def host_for_file(path: Path, *, side_by_side: bool = False) -> DiffHostApp:
    return DiffHostApp([path.read_text(encoding="utf-8")], side_by_side=side_by_side)

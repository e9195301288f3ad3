"""The model's patch and the task's reference fix side by side, one file at a time (`R` on the review screen).

Files both touch are aligned; files only one touches are listed with a marker (◀ patch only, ▶ reference only).
Each side is the usual diff view (highlighting, hunk jumps `n`/`N`, wrap `w`, split `v`) on that file's diff.
The reference fix is not blinded; nothing here shows the verifier's verdict or the model's name.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from grader.core.patches.file_pairs import BOTH, FilePair, pair_files
from grader.core.text.sanitize import sanitize_line
from grader.tui.widgets.diff_view import COLOUR_BUDGET, DiffView
from grader.tui.widgets.review_diff import ReviewDiffView

NOT_TOUCHED = {
    "patch": "The model's patch does not touch this file.",
    "reference": "The reference fix does not touch this file.",
}


class ReferenceScreen(Screen[None]):
    """Patch (left) and reference fix (right), file pair by file pair."""

    DEFAULT_CSS = """
    ReferenceScreen #pairs { height: auto; max-height: 6; padding: 0 1; background: $primary-background; }
    ReferenceScreen #sides { height: 1fr; }
    ReferenceScreen .side { width: 1fr; }
    ReferenceScreen .side-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    ReferenceScreen ReviewDiffView { height: 1fr; scrollbar-size-horizontal: 0; border-left: blank; }
    ReferenceScreen ReviewDiffView:focus { border-left: outer $accent; }
    ReferenceScreen #reference-keys { height: 1; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape,R,q", "close", "Back", priority=True),
        Binding("right_square_bracket", "pair(1)", "Next file", priority=True),
        Binding("left_square_bracket", "pair(-1)", "Prev file", priority=True),
        Binding("w", "both('toggle_wrap')", "Wrap", priority=True),
        Binding("W", "both('toggle_ignore_whitespace')", "Ignore whitespace", priority=True),
    ]

    def __init__(
        self, patch: str, reference: str, instance_id: str, *, colour_budget: float | None = COLOUR_BUDGET
    ) -> None:
        super().__init__()
        self.pairs: list[FilePair] = pair_files(patch, reference)
        self.instance_id = instance_id
        self.colour_budget = colour_budget
        self.current = 0

    def compose(self) -> ComposeResult:
        yield Static(id="pairs")
        with Horizontal(id="sides"):
            with Vertical(classes="side"):
                yield Static("Model's patch", classes="side-title", id="patch-title")
                yield ReviewDiffView(id="patch-side", colour_budget=self.colour_budget)
            with Vertical(classes="side"):
                yield Static("Reference fix", classes="side-title", id="reference-title")
                yield ReviewDiffView(id="reference-side", colour_budget=self.colour_budget)
        yield Static("] [ file pair · n N hunk · w wrap · W whitespace · Tab side · Esc back", id="reference-keys")

    def on_mount(self) -> None:
        self.query_one("#patch-side", DiffView).focus()
        self._show()

    def _show(self) -> None:
        if not self.pairs:
            self.query_one("#pairs", Static).update(
                Content(f"{sanitize_line(self.instance_id)}: neither patch has a file diff")
            )
            return
        pair = self.pairs[self.current]
        both = sum(1 for p in self.pairs if p.kind == BOTH)
        head = Content.assemble(
            (sanitize_line(self.instance_id), "bold"),
            f"  file {self.current + 1}/{len(self.pairs)} · {both} touched by both",
        )
        lines = [head]
        for i, p in enumerate(self.pairs):
            mark = "▸" if i == self.current else " "
            style = "bold" if i == self.current else ("" if p.kind == BOTH else "dim")
            lines.append(Content.styled(f"{mark} {p.marker} {sanitize_line(p.path)}  ({p.kind})", style))
        self.query_one("#pairs", Static).update(Content("\n").join(lines))
        for side, text in (("patch", pair.patch), ("reference", pair.reference)):
            view = self.query_one(f"#{side}-side", DiffView)
            if text is None:
                view.show_patch("", [NOT_TOUCHED[side]])
            else:
                view.show_patch(text)

    def action_pair(self, step: int) -> None:
        if self.pairs:
            self.current = (self.current + step) % len(self.pairs)
            self._show()

    def action_both(self, action: str) -> None:
        for view in self.query(DiffView):
            getattr(view, f"action_{action}")()

    def action_close(self) -> None:
        self.dismiss(None)

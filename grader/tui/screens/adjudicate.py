"""The adjudication screen: a session's disagreements, the reviewers' verdicts, notes and tags side by side.

A third person reads the patch and the verdicts and records the label the statistics use (`p` pass, `f` fail).
Database work runs in thread workers that post messages; the handlers own the state.
"""

from __future__ import annotations

from sqlalchemy import Engine
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Rule, Static

from grader.core.audit.adjudication import AdjudicationCase, adjudication_queue, record_adjudication
from grader.core.audit.review import PatchView, load_patch_view
from grader.core.audit.sessions import SessionInfo, model_display_names
from grader.core.patches.kinds import kind_notices
from grader.core.store.verdicts import SavedVerdict
from grader.core.text.sanitize import sanitize_line
from grader.tui.commands import DIFF_COMMANDS, bindings
from grader.tui.messages import StoreFailed
from grader.tui.paint import paint_now
from grader.tui.widgets.diff_view import DiffView
from grader.tui.widgets.panels import ContentPanel, Part, TaskPanel
from grader.tui.widgets.review_diff import ReviewDiffView


class CasesLoaded(Message):
    def __init__(self, cases: list[AdjudicationCase], names: dict[str, str]) -> None:
        super().__init__()
        self.cases = cases
        self.names = names


class CaseLoaded(Message):
    def __init__(self, view: PatchView, position: int) -> None:
        super().__init__()
        self.view = view
        self.position = position


class AdjudicationSaved(Message):
    def __init__(self, saved: SavedVerdict, position: int) -> None:
        super().__init__()
        self.saved = saved
        self.position = position


class VerdictsPanel(ContentPanel):
    """The reviewers' verdicts on the patch, side by side, and the adjudication once given."""

    DEFAULT_CSS = """
    VerdictsPanel { border: round $accent-darken-1; padding: 0 1; height: auto; }
    """

    FIXED_HEIGHT = False

    def on_mount(self) -> None:
        self.border_title = "Verdicts"

    def show_case(self, case: AdjudicationCase, shown_model: str, adjudicated: str | None) -> None:
        parts: list[Part] = [(shown_model, "bold")]
        for side in case.verdicts:
            style = {"pass": "bold $success", "fail": "bold $error"}.get(side.verdict, "bold $warning")
            parts += ["\n\n", (sanitize_line(side.reviewer), "bold"), ": ", (side.verdict.upper(), style)]
            if side.note:
                parts += ["\n", (sanitize_line(side.note.replace("\n", " ")), "italic")]
            if side.tags:
                parts += ["\n", ("tags: ", "dim"), ", ".join(sanitize_line(t) for t in side.tags)]
        if adjudicated:
            parts += ["\n\n", ("Adjudicated: ", "dim"), (adjudicated.upper(), "bold"), (" saved ✓", "$success")]
        else:
            parts += ["\n\n", ("p pass · f fail records the label", "dim")]
        self.show_parts(*parts)


class AdjudicationScreen(Screen[None]):
    """Settle a session's disagreements one patch at a time."""

    # The pane with the focus has a bar down its left edge, as on the review screen (grader.tcss).

    BINDINGS = [
        Binding("p", "adjudicate('pass')", "Pass", tooltip="Record pass as the adjudicated label"),
        Binding("f", "adjudicate('fail')", "Fail", tooltip="Record fail as the adjudicated label"),
        Binding("full_stop", "move(1)", "Next", key_display="."),
        Binding("comma", "move(-1)", "Prev", key_display=","),
        Binding("q", "app.quit", "Quit"),
        *bindings(DIFF_COMMANDS),  # the diff's keys work wherever the focus is (action_diff)
    ]

    def __init__(self, engine: Engine, *, session: SessionInfo, adjudicator: str) -> None:
        super().__init__()
        self.engine = engine
        self.session = session
        self.adjudicator = adjudicator
        self.cases: list[AdjudicationCase] = []
        self.names: dict[str, str] = {}
        self.position = 0
        self.adjudicated: dict[int, str] = {}
        self.shown_patch_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="topbar")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield TaskPanel(id="task")
                yield Rule(id="pane-rule")  # under the task, not under the focus bar
                yield ReviewDiffView(id="diff")
            with VerticalScroll(id="side"):
                yield VerdictsPanel(id="verdicts")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#topbar", Static).update("loading the disagreements…")
        self.query_one("#diff", DiffView).focus()
        self.load_cases_worker()

    @work(thread=True, exclusive=True, group="cases")
    def load_cases_worker(self) -> None:
        try:
            cases = adjudication_queue(self.engine, self.session.id)
            names = model_display_names(self.engine, self.session)
        except Exception as exc:
            self.post_message(StoreFailed("loading the disagreements", exc))
            return
        self.post_message(CasesLoaded(cases, names))

    @work(thread=True, exclusive=True, group="case")
    def load_case_worker(self, position: int) -> None:
        case = self.cases[position]
        try:
            view = load_patch_view(self.engine, case.patch_id, self.adjudicator, self.names)
        except Exception as exc:
            self.post_message(StoreFailed(f"loading patch {case.patch_id}", exc))
            return
        self.post_message(CaseLoaded(view, position))

    @work(thread=True, group="adjudicate")
    def save_worker(self, position: int, verdict: str) -> None:
        case = self.cases[position]
        try:
            saved = record_adjudication(
                self.engine,
                session_id=self.session.id,
                patch_id=case.patch_id,
                adjudicator=self.adjudicator,
                verdict=verdict,
            )
        except Exception as exc:
            self.post_message(StoreFailed(f"saving the adjudication of {case.task_id}", exc))
            return
        self.post_message(AdjudicationSaved(saved, position))

    @on(CasesLoaded)
    def cases_loaded(self, message: CasesLoaded) -> None:
        self.cases = message.cases
        self.names = message.names
        if not self.cases:
            self.query_one("#topbar", Static).update(f"No open disagreements in session {self.session.name}.")
            return
        self.load_case_worker(0)

    @on(CaseLoaded)
    def case_loaded(self, message: CaseLoaded) -> None:
        if message.position != self.position:
            return
        view = message.view
        case = self.cases[self.position]
        self.shown_patch_id = view.patch_id
        self.query_one(TaskPanel).show_task(view)
        self.query_one("#diff", DiffView).show_patch(view.diff, kind_notices(view.patch_kind))
        shown = self.names.get(case.model, view.pseudonym)
        self.query_one(VerdictsPanel).show_case(case, shown, self.adjudicated.get(case.patch_id))
        done = len(self.adjudicated)
        text = (
            f" Adjudicating {self.session.name} · case {self.position + 1}/{len(self.cases)} · {done} settled · "
            f"{view.instance_id} · {self.adjudicator}"
        )
        self.query_one("#topbar", Static).update(Content.styled(sanitize_line(text), "bold"))
        paint_now(self)

    @on(AdjudicationSaved)
    def adjudication_saved(self, message: AdjudicationSaved) -> None:
        case = self.cases[message.position]
        self.adjudicated[case.patch_id] = message.saved.verdict
        if message.position == self.position:
            self.load_case_worker(self.position)  # repaint with the saved label
        following = next(
            (i for i in range(message.position + 1, len(self.cases)) if self.cases[i].patch_id not in self.adjudicated),
            None,
        )
        if following is None:
            self.notify("Every disagreement in this session is settled.", title="Done")
        elif message.position == self.position:
            self.action_move(following - self.position)

    @on(StoreFailed)
    def store_failed(self, message: StoreFailed) -> None:
        self.notify(f"{message.what} failed: {message.error}", title="Database error", severity="error", timeout=10)

    def action_adjudicate(self, verdict: str) -> None:
        if self.cases and self.shown_patch_id == self.cases[self.position].patch_id:
            self.save_worker(self.position, verdict)

    def action_diff(self, action: str) -> None:
        """A diff key pressed with the focus elsewhere (the task, the verdicts), or a diff command from the
        palette: the diff view runs it."""
        getattr(self.query_one("#diff", DiffView), f"action_{action}")()

    def action_move(self, step: int) -> None:
        if not self.cases:
            return
        self.position = (self.position + step) % len(self.cases)
        self.load_case_worker(self.position)

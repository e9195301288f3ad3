"""GraderApp: the Textual application; the engine and the reviewer are given to it, never made here."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from functools import partial

from sqlalchemy import Engine
from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen

from grader.core.audit.review import QueueFilter, rubric_tags
from grader.core.audit.rubric_review import ReviewRubric
from grader.core.audit.sessions import SessionInfo
from grader.tui.commands import DIFF_COMMANDS, REVIEW_COMMANDS
from grader.tui.idle_gc import IdleCollector
from grader.tui.screens.adjudicate import AdjudicationScreen
from grader.tui.screens.review import ReviewScreen
from grader.tui.widgets.diff_view import COLOUR_BUDGET

UI_SWITCH_INTERVAL_S = 0.001


class GraderApp(App[None]):
    """The review application: one review screen, its dialogs, and the command palette."""

    CSS_PATH = "grader.tcss"
    TITLE = "grader"

    def __init__(
        self,
        engine: Engine,
        *,
        reviewer: str,
        blind: bool = True,
        filters: QueueFilter = QueueFilter(),
        rubric: Iterable[str] | None = None,
        colour_budget: float | None = COLOUR_BUDGET,
        session: SessionInfo | None = None,
        adjudicate: bool = False,
        review_rubric: ReviewRubric | None = None,
    ) -> None:
        """`colour_budget`: seconds of syntax colouring per paint (None: colour everything at once, as
        snapshot tests want)."""
        super().__init__()
        self.colour_budget = colour_budget
        self.session = session
        self.adjudicate = adjudicate
        self.idle_collector = IdleCollector(self)
        self.engine = engine
        self.reviewer = reviewer
        self.blind = blind
        self.filters = filters
        self.rubric = rubric_tags(list(rubric) if rubric else None)
        self.review_rubric = review_rubric  # questions answered with each verdict (grader.core.audit.rubric_review)

    def on_mount(self) -> None:
        self.idle_collector.install()
        # Worker threads (saves, loads, statistics) hand the GIL back to the UI thread within a millisecond
        # instead of Python's default 5 ms, so a paint never waits behind a database call.
        sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
        if self.adjudicate:
            assert self.session is not None, "adjudication needs a session"
            self.push_screen(AdjudicationScreen(self.engine, session=self.session, adjudicator=self.reviewer))
            return
        self.push_screen(
            ReviewScreen(
                self.engine,
                reviewer=self.reviewer,
                blind=self.blind,
                filters=self.filters,
                rubric=self.rubric,
                colour_budget=self.colour_budget,
                session=self.session,
                review_rubric=self.review_rubric,
            )
        )

    def on_unmount(self) -> None:
        self.idle_collector.uninstall()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.idle_collector.saw_input()
        await super().on_event(event)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ReviewScreen):
            for command in REVIEW_COMMANDS + DIFF_COMMANDS:
                yield SystemCommand(
                    f"{command.label} ({command.key_display})",
                    command.description,
                    partial(screen.run_action, command.action),
                )

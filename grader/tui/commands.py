"""Every review command declared once: its key, footer label and help/palette text.

The review screen's bindings, the footer, the help screen and the command palette are all built from
`REVIEW_COMMANDS`, so a key cannot be documented in one place and different in another.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class Command:
    action: str  # the action on the review screen, without the `action_` prefix
    key: str  # a Textual key list, e.g. "p" or "full_stop"
    key_display: str  # how the key reads in the footer and help
    label: str  # the footer label
    description: str  # the help screen and command palette text
    group: str
    footer: bool = True


REVIEW_COMMANDS: tuple[Command, ...] = (
    Command("verdict('pass')", "p", "p", "Pass", "Commit a pass verdict and go to the next patch", "Verdict"),
    Command("verdict('fail')", "f", "f", "Fail", "Commit a fail verdict and go to the next patch", "Verdict"),
    Command("verdict('unsure')", "u", "u", "Unsure", "Commit an unsure verdict and go to the next patch", "Verdict"),
    Command("note", "c", "c", "Note", "Write a note on this patch (saved with the verdict)", "Verdict"),
    Command("tags", "T", "T", "Tags", "Choose rubric tags for this patch", "Verdict"),
    Command("undo", "U", "U", "Undo", "Withdraw your last verdict (a superseding row; nothing is deleted)", "Verdict"),
    Command("next_patch", "full_stop", ".", "Next", "Go to the next patch", "Move"),
    Command("previous_patch", "comma", ",", "Prev", "Go to the previous patch", "Move", footer=False),
    Command(
        "first_ungraded", "J", "J", "Ungraded", "Jump to the first patch you have not graded", "Move", footer=False
    ),
    Command("toggle_reference", "r", "r", "Ref fix", "Show or hide the reference fix", "Task"),
    Command("toggle_tests", "e", "e", "Tests", "Show or hide the test patch", "Task", footer=False),
    Command("toggle_stats", "s", "s", "Stats", "Show or hide the live statistics", "View", footer=False),
    Command("help", "question_mark", "?", "Help", "Show every key", "View"),
    Command("quit", "q", "q", "Quit", "Quit (waits for verdicts still being saved)", "View"),
)


def bindings(commands: tuple[Command, ...] = REVIEW_COMMANDS) -> list[Binding]:
    return [
        Binding(c.key, c.action, c.label, show=c.footer, key_display=c.key_display, tooltip=c.description)
        for c in commands
    ]


def key_of(action: str, commands: tuple[Command, ...] = REVIEW_COMMANDS) -> str:
    """How the key of a command reads, e.g. "p" for "verdict('pass')"."""
    return next(c.key_display for c in commands if c.action == action)

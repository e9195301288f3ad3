"""Every review command declared once: its key, footer label and help/palette text.

The review screen's bindings, the footer, the help screen and the command palette are all built from
`REVIEW_COMMANDS` and `DIFF_COMMANDS`, so a key cannot be documented in one place and different in another.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from grader.tui.widgets.diff_view import DiffView


@dataclass(frozen=True, slots=True)
class Command:
    action: str  # the action on the review screen, without the `action_` prefix
    key: str  # a Textual key list, e.g. "p" or "full_stop"
    key_display: str  # how the key reads in the footer and help
    label: str  # the footer label
    description: str  # the help screen and command palette text
    group: str
    footer: bool = True
    footer_min_width: int = 0  # a narrower terminal leaves the key out of the footer (it still works)


REVIEW_COMMANDS: tuple[Command, ...] = (
    Command("verdict('pass')", "p", "p", "Pass", "Commit a pass verdict and go to the next patch", "Verdict"),
    Command("verdict('fail')", "f", "f", "Fail", "Commit a fail verdict and go to the next patch", "Verdict"),
    Command("verdict('unsure')", "u", "u", "Unsure", "Commit an unsure verdict and go to the next patch", "Verdict"),
    Command("note", "c", "c", "Note", "Write a note on this patch (saved with the verdict)", "Verdict"),
    Command("tags", "T", "T", "Tags", "Choose rubric tags for this patch", "Verdict"),
    Command("undo", "U", "U", "Undo", "Withdraw your last verdict (a superseding row; nothing is deleted)", "Verdict"),
    # At 80 columns every footer key but these two fits beside the palette's; they give way to ? and q.
    Command("next_patch", "full_stop", ".", "Next", "Go to the next patch", "Move", footer_min_width=100),
    Command("previous_patch", "comma", ",", "Prev", "Go to the previous patch", "Move", footer=False),
    Command(
        "first_ungraded", "J", "J", "Ungraded", "Jump to the first patch you have not graded", "Move", footer=False
    ),
    Command("toggle_reference", "r", "r", "Ref fix", "Show or hide the reference fix", "Task", footer_min_width=100),
    Command("toggle_tests", "e", "e", "Tests", "Show or hide the test patch", "Task", footer=False),
    Command(
        "compare_reference",
        "R",
        "R",
        "Patch vs ref",
        "The patch and the reference fix side by side, file by file (the verifier stays hidden)",
        "Task",
        footer=False,
    ),
    Command("toggle_stats", "s", "s", "Stats", "Show or hide the live statistics", "View", footer=False),
    Command(
        "app.focus_next",
        "tab",
        "Tab",
        "Focus",
        "Move the focus to the next pane, marked by a bar (Shift+Tab: back); the arrows scroll it",
        "View",
        footer=False,
    ),
    Command("help", "question_mark", "?", "Help", "Show every key", "View"),
    Command("quit", "q", "q", "Quit", "Quit (waits for verdicts still being saved)", "View"),
)


# With a rubric (`--rubric`): the number keys answer the current question in order, Enter moves on (or writes a
# free-text answer), < and > move between the questions. Listed in help; the side panel shows each option's key.
ANSWER_COMMANDS = tuple(
    Command(
        f"answer('{digit}')",
        digit,
        digit,
        f"Answer {digit}",
        f"Rubric: choose option {digit} of the current question",
        "Rubric",
        footer=False,
    )
    for digit in "0123456789"
)
RUBRIC_COMMANDS: tuple[Command, ...] = (
    *ANSWER_COMMANDS,
    Command(
        "next_question",
        "enter",
        "Enter",
        "Next question",
        "Rubric: the next question (on free text: write the answer)",
        "Rubric",
        footer=False,
    ),
    Command(
        "previous_question",
        "less_than_sign",
        "<",
        "Prev question",
        "Rubric: the previous question",
        "Rubric",
        footer=False,
    ),
    Command(
        "skip_question",
        "greater_than_sign",
        ">",
        "Skip question",
        "Rubric: the next question, leaving this one",
        "Rubric",
        footer=False,
    ),
)


def bindings(commands: tuple[Command, ...] = REVIEW_COMMANDS) -> list[Binding]:
    return [
        Binding(c.key, c.action, c.label, show=c.footer, key_display=c.key_display, tooltip=c.description)
        for c in commands
    ]


def key_of(action: str, commands: tuple[Command, ...] = REVIEW_COMMANDS) -> str:
    """How the key of a command reads, e.g. "p" for "verdict('pass')"."""
    return next(c.key_display for c in commands if c.action == action)


# The diff view declares these keys; the review screen binds them too and hands them to the diff, so they work
# wherever the focus is (on the task, on the side panels) and from the command palette.
DIFF_HELP = {
    "next_hunk": "Go to the next hunk of the diff",
    "previous_hunk": "Go to the previous hunk of the diff",
    "next_file": "Go to the next file of the diff",
    "previous_file": "Go to the previous file of the diff",
    "toggle_collapse": "Fold or unfold the diff's file at the top of the view",
    "toggle_side_by_side": "Show the diff split (side by side) or unified",
    "toggle_wrap": "Wrap the diff's long lines, or not",
    "toggle_ignore_whitespace": "Ignore whitespace changes in the diff, or not",
    "show_file_list": "List the diff's files and jump to one",
}
KEY_DISPLAYS = {"right_square_bracket": "]", "left_square_bracket": "["}


def diff_commands() -> tuple[Command, ...]:
    """The diff view's commands as review commands: the action `diff('toggle_wrap')` runs the diff's own."""
    return tuple(
        Command(
            f"diff('{binding.action}')",
            binding.key,
            binding.key_display or KEY_DISPLAYS.get(binding.key, binding.key),
            binding.description,
            DIFF_HELP[binding.action],
            "Diff",
            footer=False,
        )
        for binding in DiffView.BINDINGS
        if isinstance(binding, Binding) and binding.action in DIFF_HELP
    )


DIFF_COMMANDS = diff_commands()

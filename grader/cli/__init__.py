"""The `grader` command line: a thin client of grader.core (and of grader.tui for the screens)."""

from grader.cli import (
    data_commands,
    gold_commands,
    report_commands,
    review_commands,
    rubric_commands,
    session_commands,
    show_command,
    stats_commands,
    verifier_commands,
)
from grader.cli.app import app

COMMAND_MODULES = (
    data_commands,
    gold_commands,
    report_commands,
    review_commands,
    rubric_commands,
    session_commands,
    show_command,
    stats_commands,
    verifier_commands,
)  # importing registers them


def main() -> None:
    app()


__all__ = ["app", "main"]

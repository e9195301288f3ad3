"""The `grader` command line: a thin client of grader.core (and of grader.tui for the screens)."""

import grader.cli.stats_commands  # noqa: F401  (registers commands)
from grader.cli import data_commands  # noqa: F401  (registers commands)
from grader.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]

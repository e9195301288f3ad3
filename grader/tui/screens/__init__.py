"""Screens of the grader TUI."""

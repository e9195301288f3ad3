"""Reusable widgets of the grader TUI."""

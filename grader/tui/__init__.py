"""The Textual user interface of grader."""

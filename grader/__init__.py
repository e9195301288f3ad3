"""grader: grade AI-written code patches by hand, blind, against the automated verifier."""

__version__ = "0.1.0"

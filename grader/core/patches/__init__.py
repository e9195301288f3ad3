"""Patches as text to read and compare: what a submitted text is (kinds), the tolerant lazy index of files, hunks
and lines, layouts (unified, side by side), inert styled rendering with per-side highlighting, plain stdout
rendering, and the normalised form that groups identical patches. Imports `grader.core.store` and
`grader.core.text`.
"""

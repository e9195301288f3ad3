"""Hostile text made inert for where it goes: a terminal (control characters shown as marks) and a spreadsheet
(cells that would run as formulas). The bottom layer: imports nothing else from grader.
"""

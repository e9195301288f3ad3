"""What leaves the store for other tools: the graded set as CSV (audit-script columns first) or JSON Lines. The top
layer of `grader.core`: may import every other package.
"""

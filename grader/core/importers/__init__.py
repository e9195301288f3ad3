"""Importers: one module per source format; each import is one transaction. Imports `grader.core.patches`,
`grader.core.store` and `grader.core.text`.
"""

from grader.core.importers.common import BadInput, ImportReport, SkippedRow

__all__ = ["BadInput", "ImportReport", "SkippedRow"]

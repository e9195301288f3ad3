"""Importers: one module per source format; each import is one transaction."""

from grader.core.importers.common import BadInput, ImportReport, SkippedRow

__all__ = ["BadInput", "ImportReport", "SkippedRow"]

"""CSV cells that a spreadsheet will not run as formulas, and back again without loss."""

from __future__ import annotations

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
ESCAPE = "'"


def neutralise(cell: str) -> str:
    """Prefix a quote to a cell a spreadsheet would evaluate (and to one that starts with the quote)."""
    if cell and (cell.startswith(FORMULA_STARTS) or cell.startswith(ESCAPE)):
        return ESCAPE + cell
    return cell


def restore(cell: str) -> str:
    """Undo `neutralise`."""
    return cell[1:] if cell.startswith(ESCAPE) else cell

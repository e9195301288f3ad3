"""The audit report as Markdown for a pull request: the same sections and numbers, tables, charts as text bars."""

from __future__ import annotations

from grader.core.export.report import Cell, Fig, IntervalChart, LeaderboardChart, Report, Table

BAR_CELLS = 20


def _cell(cell: Cell) -> str:
    if isinstance(cell, Fig):
        return cell.text() if cell.value is not None else "—"
    if isinstance(cell, tuple):
        value, low, high = cell
        if value.value is None:
            return "—"
        if low.value is None or high.value is None:
            return value.text()
        return f"{value.text()} [{low.text()}, {high.text()}]"
    return cell.replace("|", "\\|").replace("\n", " ")


def _table(table: Table) -> list[str]:
    lines = [f"*{_cell(table.caption)}*", ""] if table.caption else []
    lines.append("| " + " | ".join(_cell(h) for h in table.header) + " |")
    lines.append("|" + "---|" * len(table.header))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return [*lines, ""]


def _bar(value: float | None) -> str:
    if value is None:
        return "·" * BAR_CELLS
    filled = round(min(1.0, max(0.0, value)) * BAR_CELLS)
    return "█" * filled + "░" * (BAR_CELLS - filled)


def _leaderboard(chart: LeaderboardChart) -> list[str]:
    width = max((len(p.model) for p in chart.pairs), default=5)
    lines = ["```"]
    for pair in chart.pairs:
        lines.append(f"{pair.model:<{width}}  verifier  {_bar(pair.verifier[0].value)} {_cell(pair.verifier)}")
        lines.append(f"{'':<{width}}  corrected {_bar(pair.corrected[0].value)} {_cell(pair.corrected)}")
    return [*lines, "```", ""]


def _intervals(chart: IntervalChart) -> list[str]:
    width = max((len(name) for name, _, _ in chart.rows), default=5)
    lines = ["```"]
    for name, first, second in chart.rows:
        lines.append(f"{name:<{width}}  {chart.series[0]:<14} {_bar(first[0].value)} {_cell(first)}")
        lines.append(f"{'':<{width}}  {chart.series[1]:<14} {_bar(second[0].value)} {_cell(second)}")
    return [*lines, "```", ""]


def render_markdown(report: Report) -> str:
    lines = [f"# {report.title}", "", report.subtitle, ""]
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines += _table(block)
            elif isinstance(block, LeaderboardChart):
                lines += _leaderboard(block)
            elif isinstance(block, IntervalChart):
                lines += _intervals(block)
            else:
                lines += [block, ""]
    lines += ["---", ""]
    lines += [f"{line}  " for line in report.footer]
    return "\n".join(lines) + "\n"

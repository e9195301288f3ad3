"""The audit report as one self-contained HTML file: inline CSS and SVG, no script, font or network reference.

Every number is a `<data value="…" data-key="/json/pointer">` element: its value attribute is the exact number
of `grader stats --json` at that pointer, its text the number as read (tests compare the two in a browser).
Text from the store (model names, rubric labels) is escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template

from grader.core.export.report import (
    BarPair,
    Cell,
    Fig,
    IntervalChart,
    LeaderboardChart,
    Report,
    Table,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
CHART_WIDTH = 640
LABEL_WIDTH = 190


def fig_html(fig: Fig) -> str:
    if fig.value is None:
        reason = f" ({escape(fig.reason)})" if fig.reason else ""
        return f'<span class="na">—{reason}</span>'
    return (
        f'<data value="{fig.value!r}" data-key="{escape(fig.key)}" data-kind="{fig.kind}">{escape(fig.text())}</data>'
    )


def cell_html(cell: Cell) -> str:
    if isinstance(cell, Fig):
        return fig_html(cell)
    if isinstance(cell, tuple):
        value, low, high = cell
        if value.value is None or low.value is None or high.value is None:
            return fig_html(value)
        return f'{fig_html(value)} <span class="ci">[{fig_html(low)}, {fig_html(high)}]</span>'
    return escape(cell)


def table_html(table: Table) -> str:
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    rows = "".join("<tr>" + "".join(f"<td>{cell_html(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _x(value: float | None) -> float:
    span = CHART_WIDTH - LABEL_WIDTH - 20
    return LABEL_WIDTH + span * min(1.0, max(0.0, value or 0.0))


def _axis(height: float) -> str:
    ticks = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = _x(tick)
        ticks.append(f'<line class="axis" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height:.1f}"/>')
        ticks.append(f'<text x="{x:.1f}" y="{height + 14:.1f}" text-anchor="middle">{int(tick * 100)}%</text>')
    return "".join(ticks)


def _whisker(low: Fig, high: Fig, y: float) -> str:
    if low.value is None or high.value is None:
        return ""
    x1, x2 = _x(low.value), _x(high.value)
    return (
        f'<line class="whisker" x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}"/>'
        f'<line class="whisker" x1="{x1:.1f}" y1="{y - 4:.1f}" x2="{x1:.1f}" y2="{y + 4:.1f}"/>'
        f'<line class="whisker" x1="{x2:.1f}" y1="{y - 4:.1f}" x2="{x2:.1f}" y2="{y + 4:.1f}"/>'
    )


def _label(text: str, y: float) -> str:
    shown = text if len(text) <= 28 else text[:27] + "…"
    return f'<text x="0" y="{y:.1f}"><title>{escape(text)}</title>{escape(shown)}</text>'


def leaderboard_svg(chart: LeaderboardChart) -> str:
    row_height = 40
    height = row_height * len(chart.pairs) + 4
    parts = [_axis(height)]
    for i, pair in enumerate(chart.pairs):
        parts.append(_pair_svg(pair, i * row_height + 4))
    legend = (
        '<p class="legend"><span style="background:var(--verifier)"></span>verifier pass rate'
        '<span style="background:var(--corrected)"></span>corrected (human-audited) pass rate, 95% interval</p>'
    )
    return (
        f'<figure class="leaderboard"><svg role="img" aria-label="Corrected leaderboard" width="{CHART_WIDTH}" '
        f'height="{height + 20}" viewBox="0 0 {CHART_WIDTH} {height + 20}">{"".join(parts)}</svg>'
        f"<figcaption>{legend}</figcaption></figure>"
    )


def _pair_svg(pair: BarPair, top: float) -> str:
    bars = []
    for offset, (value, low, high), css in ((0, pair.verifier, "verifier"), (16, pair.corrected, "corrected")):
        y = top + offset
        width = _x(value.value) - _x(0) if value.value is not None else 0
        bars.append(f'<rect class="{css}" x="{_x(0):.1f}" y="{y:.1f}" width="{width:.1f}" height="12"/>')
        bars.append(_whisker(low, high, y + 6))
    return f'<g class="bar-pair" data-model="{escape(pair.model)}">{_label(pair.model, top + 18)}{"".join(bars)}</g>'


def interval_svg(chart: IntervalChart) -> str:
    row_height = 34
    height = row_height * len(chart.rows) + 4
    parts = [_axis(height)]
    for i, (name, first, second) in enumerate(chart.rows):
        top = i * row_height + 4
        marks = [_label(name, top + 16)]
        for offset, (value, low, high), css in ((6, first, "accept"), (20, second, "reject")):
            y = top + offset
            marks.append(_whisker(low, high, y))
            if value.value is not None:
                marks.append(f'<circle class="{css}" cx="{_x(value.value):.1f}" cy="{y:.1f}" r="4"/>')
        parts.append(f'<g class="interval-row" data-model="{escape(name)}">{"".join(marks)}</g>')
    legend = (
        f'<p class="legend"><span style="background:var(--accept)"></span>{escape(chart.series[0])}'
        f'<span style="background:var(--reject)"></span>{escape(chart.series[1])}'
        " (share of labelled items, 95% interval)</p>"
    )
    return (
        f'<figure class="intervals"><svg role="img" aria-label="{escape(" and ".join(chart.series))}" '
        f'width="{CHART_WIDTH}" height="{height + 20}" viewBox="0 0 {CHART_WIDTH} {height + 20}">{"".join(parts)}</svg>'
        f"<figcaption>{legend}</figcaption></figure>"
    )


def render_html(report: Report, *, version: str) -> str:
    body = [f'<header><h1>{escape(report.title)}</h1><p class="subtitle">{escape(report.subtitle)}</p>']
    body.append("<nav><ol>" + "".join(f'<li><a href="#{s.anchor}">{escape(s.title)}</a></li>' for s in report.sections))
    body.append("</ol></nav></header><main>")
    for section in report.sections:
        body.append(f'<section id="{section.anchor}"><h2>{escape(section.title)}</h2>')
        for block in section.blocks:
            if isinstance(block, Table):
                body.append(table_html(block))
            elif isinstance(block, LeaderboardChart):
                body.append(leaderboard_svg(block))
            elif isinstance(block, IntervalChart):
                body.append(interval_svg(block))
            else:
                body.append(f"<p>{escape(block)}</p>")
        body.append("</section>")
    body.append("</main><footer>" + "".join(f"<p>{escape(line)}</p>" for line in report.footer) + "</footer>")
    template = Template((TEMPLATES / "report.html").read_text(encoding="utf-8"))
    return template.substitute(
        title=escape(report.title),
        version=escape(version),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        body="\n".join(body),
    )

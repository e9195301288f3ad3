"""The review screen's panels: the task, the verifier (hidden until you commit), your verdict, live stats.

Text from the store (problem statements, notes, tags, names) is hostile: it is sanitised and put into Rich
`Text` objects directly, never parsed as markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from grader.core.review import PatchView
from grader.core.sanitize import sanitize_line


def inert(text: str, style: str = "") -> Text:
    """Any stored text as inert Rich text: controls shown as symbols, markup left as characters."""
    return Text("\n".join(sanitize_line(line) for line in text.splitlines()), style=style)


NO_PROBLEM_STATEMENT = "(no problem statement: import the task file with `grader import tasks`)"


class TaskPanel(VerticalScroll):
    """The task's problem statement (the reference fix and test patch replace it on request)."""

    DEFAULT_CSS = """
    TaskPanel { height: 30%; min-height: 4; border-bottom: solid $primary-darken-2; padding: 0 1; }
    TaskPanel > Static { width: 100%; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="task-text")

    def show_task(self, view: PatchView, pseudonym_only: bool) -> None:
        title = Text()
        title.append(sanitize_line(view.instance_id), style="bold")
        if view.repo:
            title.append("  ")
            title.append(sanitize_line(view.repo), style="dim")
        body = (
            view.problem_statement.strip() or "(no problem statement: import the task file with `grader import tasks`)"
        )
        parts: list[Any] = [title, inert(body)]
        if view.hints_text.strip():
            parts += [Text("\nHints", style="bold"), inert(view.hints_text.strip(), style="italic")]
        self.query_one("#task-text", Static).update(Group(*parts))
        self.scroll_home(animate=False)


def _percent(rate: dict[str, Any] | None) -> str:
    if not rate or rate.get("value") is None:
        return "—"
    low, high = rate.get("ci_low"), rate.get("ci_high")
    if low is None or high is None:
        return f"{rate['value']:.0%}"
    return f"{rate['value']:.0%} [{max(0.0, low):.0%}–{min(1.0, high):.0%}]"


def _coefficient(value: dict[str, Any] | None) -> str:
    if not value or value.get("value") is None:
        return "—"
    return f"{value['value']:+.2f}"


class VerifierPanel(Static):
    """The verifier's verdict, hidden in blind mode until the reviewer has committed theirs."""

    DEFAULT_CSS = """
    VerifierPanel { border: round $primary-darken-1; padding: 0 1; height: auto; }
    """

    def show_hidden(self, view: PatchView) -> None:
        text = Text()
        text.append(view.pseudonym, style="bold")
        text.append("\nVerifier: ", style="dim")
        text.append("hidden until you commit", style="italic")
        self.border_title = "Verifier"
        self.update(text)

    def show_revealed(self, view: PatchView, mine: str | None, blind: bool) -> None:
        text = Text()
        text.append(view.pseudonym if blind else sanitize_line(view.model), style="bold")
        text.append("\nVerifier says ", style="dim")
        style = {"pass": "bold green", "fail": "bold red", "error": "bold yellow"}.get(view.verifier_verdict, "bold")
        text.append(view.verifier_verdict.upper(), style=style)
        if view.verifier_status:
            text.append(f" ({sanitize_line(view.verifier_status)})", style="dim")
        if mine is not None:
            text.append("\nYou said ", style="dim")
            text.append(mine.upper(), style="bold")
            if mine in ("pass", "fail") and view.verifier_verdict in ("pass", "fail", "error"):
                agree = (mine == "pass") == (view.verifier_verdict == "pass")
                text.append("  agree" if agree else "  DISAGREE", style="green" if agree else "bold red")
        tokens = [
            f"{view.input_tokens:,} in" if view.input_tokens is not None else "",
            f"{view.output_tokens:,} out" if view.output_tokens is not None else "",
        ]
        if any(tokens):
            text.append("\nTokens " + " / ".join(t for t in tokens if t), style="dim")
        if view.cost_usd is not None:
            text.append(f"\nCost ${view.cost_usd:.4f}", style="dim")
        self.border_title = "Verifier"
        self.update(text)


class MinePanel(Static):
    """The reviewer's own verdict, note and tags on this patch, and the save state."""

    DEFAULT_CSS = """
    MinePanel { border: round $accent-darken-1; padding: 0 1; height: auto; }
    """

    def show_mine(self, verdict: str | None, note: str, tags: tuple[str, ...], save_state: str, progress: str) -> None:
        text = Text()
        text.append(progress + "\n", style="bold")
        text.append("Your verdict: ", style="dim")
        if verdict:
            style = {"pass": "bold green", "fail": "bold red"}.get(verdict, "bold yellow")
            text.append(verdict.upper(), style=style)
        else:
            text.append("none yet", style="italic")
        if save_state:
            text.append(f"  {save_state}", style="green" if save_state.startswith("saved") else "yellow")
        if note:
            text.append("\nNote: ", style="dim")
            text.append(sanitize_line(note.replace("\n", " ")))
        if tags:
            text.append("\nTags: ", style="dim")
            text.append(", ".join(sanitize_line(t) for t in tags))
        self.border_title = "You"
        self.update(text)


class LastPanel(Static):
    """The reveal of the patch just committed: your verdict beside the verifier's."""

    DEFAULT_CSS = """
    LastPanel { border: round $secondary; padding: 0 1; height: auto; }
    """

    def show_last(self, view: PatchView, verdict: str, save_state: str, blind: bool) -> None:
        text = Text()
        text.append(f"{sanitize_line(view.instance_id)}\n", style="bold")
        text.append("You ", style="dim")
        text.append(verdict.upper(), style="bold")
        text.append(" · Verifier ", style="dim")
        text.append(view.verifier_verdict.upper(), style="bold")
        if verdict in ("pass", "fail") and view.verifier_verdict != "unknown":
            agree = (verdict == "pass") == (view.verifier_verdict == "pass")
            text.append("\nagree" if agree else "\nDISAGREE", style="green" if agree else "bold red")
        text.append(f"\n{view.pseudonym if blind else sanitize_line(view.model)}", style="dim")
        text.append("\n")
        text.append(save_state, style="green" if save_state.startswith("saved") else "yellow")
        self.border_title = "Last"
        self.update(text)


class StatsPanel(Static):
    """Live agreement between the humans and the verifier over the loaded set."""

    DEFAULT_CSS = """
    StatsPanel { border: round $primary-darken-2; padding: 0 1; height: auto; }
    """

    def show_stats(
        self, overall: dict[str, Any], by_model: dict[str, dict[str, Any]], names: dict[str, str], blind: bool
    ) -> None:
        table = overall.get("table", {})
        grid = Table.grid(padding=(0, 1))
        grid.add_column("", style="dim")
        grid.add_column("human✓", justify="right")
        grid.add_column("human✗", justify="right")
        grid.add_row("", Text("human✓", style="dim"), Text("human✗", style="dim"))
        grid.add_row("auto✓", str(table.get("auto_pass_human_pass", 0)), str(table.get("auto_pass_human_fail", 0)))
        grid.add_row("auto✗", str(table.get("auto_fail_human_pass", 0)), str(table.get("auto_fail_human_fail", 0)))
        lines = Text()
        lines.append(f"n={overall.get('n', 0)}", style="bold")
        if overall.get("small_sample"):
            lines.append(" (small)", style="yellow")
        lines.append(f"\nfalse accept {_percent(overall.get('false_accept_rate'))}")
        lines.append(f"\nfalse reject {_percent(overall.get('false_reject_rate'))}")
        lines.append(f"\nκ {_coefficient(overall.get('cohen_kappa'))}  AC1 {_coefficient(overall.get('gwet_ac1'))}")
        labelled = sorted(((m, s) for m, s in by_model.items() if s.get("n")), key=lambda kv: -kv[1]["n"])[:4]
        for model, summary in labelled:
            name = names.get(model, "Model ?") if blind else sanitize_line(model)
            lines.append(f"\n{name[:14]:<14} n={summary['n']} FA {_percent(summary.get('false_accept_rate'))}")
        self.border_title = "Live stats"
        self.update(Group(grid, lines))

    def show_loading(self) -> None:
        self.border_title = "Live stats"
        self.update(Text("loading…", style="dim italic"))

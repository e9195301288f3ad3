"""The review screen's panels: the task, the verifier (hidden until you commit), your verdict, live stats,
and its footer.

Text from the store (problem statements, notes, tags, names) is hostile: it is sanitised and assembled into
Textual `Content` directly, never parsed as markup. Content (not Rich renderables) keeps a panel's repaint
cheap, and a panel whose content is unchanged is not repainted at all.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Static

from grader.core.audit.review import PatchView
from grader.core.text.sanitize import sanitize_line

Part = str | tuple[str, str]
VERDICT_STYLES = {"pass": "bold $success", "fail": "bold $error", "error": "bold $warning"}
NO_PROBLEM_STATEMENT = "(no problem statement: import the task file with `grader import tasks`)"


def inert(text: str) -> str:
    """Stored text made inert: control characters shown as symbols, one sanitised line at a time."""
    return "\n".join(sanitize_line(line) for line in text.splitlines())


class ContentPanel(Static):
    """A Static that repaints only when what it shows changed."""

    # A panel with a fixed height repaints without a layout pass over the whole screen.
    FIXED_HEIGHT = True
    # A panel that fits its lines (height: auto, text-wrap: nowrap: one line per "\n") needs a layout pass
    # only when its number of lines changes.
    FITS_LINES = False

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: tuple[Part, ...] | None = None
        self._line_count = 0

    def show_parts(self, *parts: Part) -> None:
        if parts == self._shown:
            return
        self._shown = parts
        content = Content.assemble(*parts)
        line_count = content.plain.count("\n") + 1
        layout = line_count != self._line_count if self.FITS_LINES else not self.FIXED_HEIGHT
        self.update(content, layout=layout)
        self._line_count = line_count

    def room(self) -> int:
        """The cells a line has (a very wide panel before the first layout: the stylesheet's ellipsis cuts)."""
        return self.content_size.width or 1_000


def clip(text: str, room: int, *, middle: bool = False) -> str:
    """`text` cut to `room` cells with an ellipsis; `middle` keeps both ends (an instance id keeps its number)."""
    if cell_len(text) <= room:
        return text
    if room < 2:
        return "…"[:room]
    if middle:
        tail = (room - 1) // 2
        return text[: room - 1 - tail] + "…" + text[len(text) - tail :]
    return text[: room - 1] + "…"


class TaskPanel(ScrollView, can_focus=True):
    """The task's problem statement, wrapped as far as the screen shows and painted line by line (Line API).

    Showing a new task wraps the paragraphs the panel can show now; the rest is wrapped just after the paint,
    so a long problem statement costs a key press no more than a short one.
    """

    DEFAULT_CSS = """
    TaskPanel { height: 30%; min-height: 4; border-bottom: solid $primary-darken-2; scrollbar-gutter: stable; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._paragraphs: list[Text] = []
        self._next_paragraph = 0
        self._lines: list[Strip] = []
        self._wrapped_width = -1
        self._generation = 0

    def show_task(self, view: PatchView) -> None:
        text = Text()
        text.append(sanitize_line(view.instance_id), style="bold")
        if view.repo:
            text.append("  ")
            text.append(sanitize_line(view.repo), style="dim")
        text.append("\n")
        text.append(inert(view.problem_statement.strip() or NO_PROBLEM_STATEMENT))
        if view.hints_text.strip():
            text.append("\n\nHints\n", style="bold")
            text.append(inert(view.hints_text.strip()), style="italic")
        self._paragraphs = list(text.split("\n", allow_blank=True))
        self._generation += 1
        self._restart_wrap()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def _restart_wrap(self) -> None:
        self._lines = []
        self._next_paragraph = 0
        self._wrapped_width = self._text_width()
        self._wrap_until(self.size.height + 4)
        self.call_after_refresh(self._wrap_rest, self._generation)

    def _text_width(self) -> int:
        return self.scrollable_content_region.width - 2

    def _wrap_until(self, line_count: int | None, *, resize: bool = True) -> None:
        width = self._wrapped_width
        if width <= 0:
            return
        console = self.app.console
        while self._next_paragraph < len(self._paragraphs) and (line_count is None or len(self._lines) < line_count):
            paragraph = self._paragraphs[self._next_paragraph]
            self._next_paragraph += 1
            wrapped = paragraph.wrap(console, width) if paragraph.plain else [paragraph]
            self._lines.extend(Strip(list(line.render(console))) for line in wrapped)
        if resize:
            remaining = sum(1 + len(p.plain) // width for p in self._paragraphs[self._next_paragraph :])
            self.virtual_size = Size(width + 2, len(self._lines) + remaining)

    def _wrap_rest(self, generation: int) -> None:
        if generation == self._generation and self._next_paragraph < len(self._paragraphs):
            self._wrap_until(None)
            self.refresh()

    def on_resize(self) -> None:
        if self._text_width() != self._wrapped_width:
            self._restart_wrap()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + self.scroll_offset.y
        style = self.rich_style
        if index >= len(self._lines) and self._next_paragraph < len(self._paragraphs):
            # Scrolled past what is wrapped so far (before the rest was): wrap on, size it after the paint.
            self._wrap_until(index + self.size.height, resize=False)
            self.call_after_refresh(self._wrap_rest, self._generation)
        if index >= len(self._lines):
            return Strip.blank(width, style)
        segments = [Segment(" "), *self._lines[index]]
        return Strip(Segment.apply_style(segments, style)).crop_extend(0, width, style)


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


def _agreement(mine: str, verifier: str) -> Part | None:
    if mine not in ("pass", "fail") or verifier not in ("pass", "fail", "error"):
        return None
    agree = (mine == "pass") == (verifier == "pass")
    return ("agree", "$success") if agree else ("DISAGREE", "bold $error")


def _save_state(state: str) -> Part:
    """A save state coloured: saved in green, not saved in red, anything in between ("saving…") in amber."""
    if state.startswith("saved"):
        return (state, "$success")
    return (state, "bold $error") if "NOT saved" in state else (state, "$warning")


def _identical(view: PatchView) -> str:
    """How many other models submitted this same change (a count only: no names, blind or not)."""
    others = view.identical_elsewhere
    return f"  +{others} identical" if others else ""


# The side panels fit their lines (nowrap: a line too long ends in an ellipsis, never pushes the next one out
# of sight), at least as tall as their usual content so the panels below do not jump from patch to patch.
SIDE_PANEL_CSS = "height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;"


class VerifierPanel(ContentPanel):
    """The verifier's verdict, hidden in blind mode until the reviewer has committed theirs."""

    DEFAULT_CSS = f"""
    VerifierPanel {{ border: round $primary-darken-1; {SIDE_PANEL_CSS} min-height: 6; }}
    """

    FITS_LINES = True

    def on_mount(self) -> None:
        self.border_title = "Verifier"

    def _name_line(self, name: str, view: PatchView) -> list[Part]:
        """The model's name (or pseudonym) cut to leave room for the identical-patch count after it."""
        identical = _identical(view)
        parts: list[Part] = [(clip(name, self.room() - cell_len(identical)), "bold")]
        return [*parts, (identical, "$accent")] if identical else parts

    def show_hidden(self, view: PatchView) -> None:
        self.show_parts(*self._name_line(view.pseudonym, view), "\n", ("hidden until you commit", "italic"))

    def show_revealed(self, view: PatchView, mine: str | None, blind: bool) -> None:
        room = self.room()
        says = view.verifier_verdict.upper()
        parts: list[Part] = [(clip(view.pseudonym if blind else sanitize_line(view.model), room), "bold"), "\n"]
        parts += [("Verifier says ", "dim"), (says, VERDICT_STYLES.get(view.verifier_verdict, "bold"))]
        if view.verifier_status:
            status = f"({sanitize_line(view.verifier_status)})"
            fits = cell_len(f"Verifier says {says} {status}") <= room
            parts += [" " if fits else "\n", (clip(status, room), "dim")]
        if mine is not None:
            parts += ["\n", ("You said ", "dim"), (mine.upper(), "bold")]
            agreement = _agreement(mine, view.verifier_verdict)
            if agreement:
                parts += ["  ", agreement]
        usage = []
        if view.input_tokens is not None or view.output_tokens is not None:
            usage.append(f"{view.input_tokens or 0:,}+{view.output_tokens or 0:,} tok")
        if view.cost_usd is not None:
            usage.append(f"${view.cost_usd:.4f}")
        if usage:
            parts += ["\n", (clip(" · ".join(usage), room), "dim")]
        self.show_parts(*parts)


class MinePanel(ContentPanel):
    """The reviewer's own verdict, note and tags on this patch, and the save state."""

    DEFAULT_CSS = f"""
    MinePanel {{ border: round $accent-darken-1; {SIDE_PANEL_CSS} min-height: 5; }}
    """

    FITS_LINES = True

    def on_mount(self) -> None:
        self.border_title = "You"

    def show_mine(self, verdict: str | None, note: str, tags: tuple[str, ...], save_state: str) -> None:
        # Progress lives in the top bar: this panel repaints only when your verdict on the patch changes.
        room = self.room()
        said = verdict.upper() if verdict else "none yet"
        parts: list[Part] = [
            ("Your verdict: ", "dim"),
            (said, VERDICT_STYLES.get(verdict, "bold $warning")) if verdict else (said, "italic"),
        ]
        if save_state:
            # The state follows the verdict when it fits; one that says NOT saved has a line of its own.
            fits = "NOT saved" not in save_state and cell_len(f"Your verdict: {said} {save_state}") <= room
            parts += [" " if fits else "\n", _save_state(clip(save_state, room))]
        if note:
            parts += ["\n", ("Note: ", "dim"), clip(sanitize_line(note.replace("\n", " ")), room - 6)]
        if tags:
            parts += ["\n", ("Tags: ", "dim"), clip(", ".join(sanitize_line(t) for t in tags), room - 6)]
        self.show_parts(*parts)


class LastPanel(ContentPanel):
    """The reveal of the patch just committed: your verdict beside the verifier's (once the commit returned)."""

    DEFAULT_CSS = f"""
    LastPanel {{ border: round $secondary; {SIDE_PANEL_CSS} min-height: 5; }}
    """

    FITS_LINES = True

    def on_mount(self) -> None:
        self.border_title = "Last"

    def show_last(self, view: PatchView, verdict: str, save_state: str, blind: bool, *, reveal: bool = True) -> None:
        """`reveal`: show the verifier's verdict (only once your verdict is committed, or already revealed).

        The verdicts, the agreement and the save state come first on their lines; the instance id is cut in
        its middle and the model's name last, so neither can push them out of sight.
        """
        room = self.room()
        parts: list[Part] = [(clip(sanitize_line(view.instance_id), room, middle=True), "bold"), "\n"]
        parts += [("You ", "dim"), (verdict.upper(), "bold"), (" · Verifier ", "dim")]
        if not reveal:
            parts += [("hidden", "italic"), "\n", _save_state(clip(save_state, room))]
            self.show_parts(*parts)
            return
        parts.append((view.verifier_verdict.upper(), VERDICT_STYLES.get(view.verifier_verdict, "bold")))
        parts.append("\n")
        agreement = _agreement(verdict, view.verifier_verdict)
        if agreement:
            parts += [agreement, " "]
        parts.append(_save_state(save_state))
        line_start = len(parts) - parts[::-1].index("\n")
        used = sum(cell_len(part if isinstance(part, str) else part[0]) for part in parts[line_start:])
        name = view.pseudonym if blind else sanitize_line(view.model)
        if room - used > 2:
            parts += [" ", (clip(name, room - used - 1), "dim")]
        self.show_parts(*parts)


class StatsPanel(ContentPanel):
    """Live agreement between the humans and the verifier over the loaded set."""

    DEFAULT_CSS = """
    StatsPanel { border: round $primary-darken-2; padding: 0 1; height: 1fr; min-height: 5; }
    """

    def on_mount(self) -> None:
        self.border_title = "Live stats"

    def show_stats(
        self, overall: dict[str, Any], by_model: dict[str, dict[str, Any]], names: dict[str, str], blind: bool
    ) -> None:
        table = overall.get("table", {})
        cells = [
            table.get("auto_pass_human_pass", 0),
            table.get("auto_pass_human_fail", 0),
            table.get("auto_fail_human_pass", 0),
            table.get("auto_fail_human_fail", 0),
        ]
        width = max(6, *(len(str(c)) for c in cells))
        parts: list[Part] = [
            (f"{'verif.':7}{'human✓':>{width}} {'human✗':>{width}}", "dim"),
            "\n",
            ("auto✓  ", "dim"),
            f"{cells[0]:>{width}} {cells[1]:>{width}}",
            "\n",
            ("auto✗  ", "dim"),
            f"{cells[2]:>{width}} {cells[3]:>{width}}",
            "\n",
            (f"n={overall.get('n', 0)}", "bold"),
        ]
        if overall.get("small_sample"):
            parts.append((" (small n)", "$warning"))
        parts += [
            f"\nfalse accept {_percent(overall.get('false_accept_rate'))}",
            f"\nfalse reject {_percent(overall.get('false_reject_rate'))}",
            f"\nκ {_coefficient(overall.get('cohen_kappa'))}  AC1 {_coefficient(overall.get('gwet_ac1'))}",
        ]
        labelled = sorted(((m, s) for m, s in by_model.items() if s.get("n")), key=lambda kv: -kv[1]["n"])[:4]
        for model, summary in labelled:
            name = names.get(model, "Model ?") if blind else sanitize_line(model)
            parts.append(f"\n{name[:12]:<12} n={summary['n']} FA {_percent(summary.get('false_accept_rate'))}")
        self.show_parts(*parts)

    def show_loading(self) -> None:
        self.show_parts(("loading…", "dim italic"))


class ReviewFooter(Footer):
    """The footer, leaving out the keys that want a wider terminal than this one, so that the keys after them
    (help, quit) are not cut off; the keys left out still work and are listed in help."""

    def __init__(self, min_widths: dict[str, int]) -> None:
        """`min_widths`: for some actions, the terminal width below which their key is left out."""
        super().__init__()
        self._min_widths = min_widths
        self._left_out: frozenset[str] = frozenset()

    def _too_wide(self) -> frozenset[str]:
        width = self.app.size.width
        return frozenset(action for action, min_width in self._min_widths.items() if width < min_width)

    def compose(self) -> ComposeResult:
        self._left_out = self._too_wide()
        for widget in super().compose():
            if getattr(widget, "action", None) not in self._left_out:  # a FooterKey's action
                yield widget

    def on_resize(self) -> None:
        if self._too_wide() != self._left_out:
            self.call_after_refresh(self.recompose)

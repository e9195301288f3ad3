"""Diff view speed: time from a key to the screen painted, measured inside the app, against a naive baseline.

A key's time runs from the start of its action to the end of the next compositor refresh
(`Screen._compositor_refresh` is wrapped). Patches: the median-size and the largest real SWE-bench patch
(GRADER_SHARED_DATA, default /work/shared/data), a sample of real patches, and a generated 50,000-line
patch. The naive baseline renders the whole patch with `rich.syntax.Syntax` into a `Static`, in the same
process. `floor_scroll_ms_p95` pages through the same patch in a trivial Line-API widget (four styled
segments a line, nothing cached): about what Textual costs for a full repaint. The real view can read lower,
as it paints prefetched, cached strips and skips the truecolor filter. Peak RSS is measured in a child process that
only opens the 50k patch (the whole process's peak).

    python bench/diff_view.py [--json] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from grader.tui.idle_gc import IdleCollector
from grader.tui.paint import paint_now
from grader.tui.widgets.diff_view import DiffView

LARGEST_SUBMISSION = "lite/20250104_patched_codes_claude-3.5-sonnet-20241022"
LARGEST_INSTANCE = "sympy__sympy-17630"
SIZE = (120, 40)


def shared_data() -> Path:
    return Path(os.environ.get("GRADER_SHARED_DATA", "/work/shared/data"))


def prediction_rows(path: Path) -> Iterator[dict]:
    """Rows of a predictions file: JSONL, or one JSON array under a .jsonl name."""
    with path.open(encoding="utf-8") as handle:
        first = handle.read(1)
        handle.seek(0)
        if first == "[":
            yield from json.load(handle)
            return
        for line in handle:
            if line.strip():
                yield json.loads(line)


def real_patches(seed: int = 7, sample_size: int = 200) -> tuple[str, str, list[str]]:
    """(median-size patch, largest real patch, a random sample of real patches)."""
    root = shared_data() / "swebench"
    sizes: list[tuple[int, Path, str]] = []
    largest = ""
    for path in sorted(root.glob("*/*/all_preds.jsonl")):
        submission = f"{path.parent.parent.name}/{path.parent.name}"
        for row in prediction_rows(path):
            patch = row.get("model_patch")
            if isinstance(patch, str) and patch.strip():
                sizes.append((len(patch), path, row.get("instance_id", "")))
                if submission == LARGEST_SUBMISSION and row.get("instance_id") == LARGEST_INSTANCE:
                    largest = patch
    sizes.sort(key=lambda item: item[0])
    wanted = {sizes[len(sizes) // 2]}
    sample = set(random.Random(seed).sample(sizes, min(sample_size, len(sizes))))
    found: dict[tuple[int, Path, str], str] = {}
    for entry in wanted | sample:
        for row in prediction_rows(entry[1]):
            if row.get("instance_id") == entry[2] and len(row.get("model_patch") or "") == entry[0]:
                found[entry] = row["model_patch"]
                break
    median = found[sizes[len(sizes) // 2]]
    return median, largest, [found[entry] for entry in sorted(sample) if entry in found]


def generated_patch(line_count: int = 50_000, seed: int = 3) -> str:
    """A realistic Python patch of about `line_count` lines: many files, hunks of context, removals, additions."""
    rng = random.Random(seed)
    words = ["value", "result", "config", "items", "index", "name", "payload", "total", "cache", "node"]
    out: list[str] = []
    file_number = 0
    while len(out) < line_count:
        file_number += 1
        path = f"pkg/module_{file_number}/core_{file_number}.py"
        out += [f"diff --git a/{path} b/{path}", "index 1a2b3c4..5d6e7f8 100644", f"--- a/{path}", f"+++ b/{path}"]
        old_line = new_line = 1
        for _ in range(20):
            old_line += rng.randint(5, 40)
            new_line = old_line + rng.randint(-3, 3)
            context, removed, added = 3, rng.randint(0, 6), rng.randint(1, 8)
            body: list[str] = []
            for _ in range(context):
                body.append(f"     {rng.choice(words)} = compute({rng.choice(words)}, {rng.randint(0, 99)})")
            for _ in range(removed):
                body.append(f"-    return {rng.choice(words)}.get('{rng.choice(words)}', None)  # old")
            for _ in range(added):
                body.append(f'+    return {rng.choice(words)}.get("{rng.choice(words)}", {rng.randint(0, 9)})  # new')
            for _ in range(context):
                body.append(f"     log.debug('%s', {rng.choice(words)})")
            out.append(f"@@ -{old_line},{context * 2 + removed} +{new_line},{context * 2 + added} @@ def func_{_}():")
            out += body
            old_line += context * 2 + removed
    return "\n".join(out[:line_count]) + "\n"


class NaiveView(VerticalScroll):
    """The baseline: the whole patch through rich.syntax.Syntax into one Static."""

    def compose(self) -> ComposeResult:
        yield Static(id="naive")

    def show_patch(self, text: str) -> None:
        self.query_one(Static).update(Syntax(text, "diff", line_numbers=True, word_wrap=False))


class FloorView(ScrollView, can_focus=True):
    """The reference: a trivial Line-API widget (each line as four styled segments, built afresh at every
    paint, nothing cached or coloured). Its page scroll is about what Textual costs for a full repaint."""

    BINDINGS = [Binding("pagedown", "page_down", "Page down")]
    STYLES = tuple(Style(color=c) for c in ("#ff7b72", "#d2a8ff", "#e6edf3", "#6e7681"))

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def show_patch(self, text: str) -> None:
        self.lines = text.splitlines()
        self.virtual_size = Size(self.size.width, len(self.lines))
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        line = self.lines[index] if index < len(self.lines) else ""
        quarter = max(1, len(line) // 4)
        pieces = [line[i * quarter : (i + 1) * quarter] for i in range(3)] + [line[3 * quarter :]]
        segments = [Segment(piece, style) for piece, style in zip(pieces, self.STYLES, strict=True)]
        return Strip(segments).crop_extend(0, self.size.width, None)

    def action_page_down(self) -> None:
        self.scroll_to(y=self.scroll_y + self.size.height, animate=False, immediate=True)
        paint_now(self)


class BenchApp(App[None]):
    """Hosts the view under test; `o` opens the next patch of `self.patches`."""

    BINDINGS = [Binding("o", "open_next", "Open")]

    def __init__(self, naive: bool = False, floor: bool = False) -> None:
        super().__init__()
        self.naive = naive
        self.floor = floor
        self.patches: list[str] = [""]
        self.position = 0

    def compose(self) -> ComposeResult:
        yield NaiveView() if self.naive else FloorView() if self.floor else DiffView()

    def on_mount(self) -> None:
        self.view.focus()
        # The garbage-collection policy of grader's app: the start-up heap frozen, full collections deferred
        # to idle moments (they walk every object: 20-40 ms here, in the middle of a key otherwise).
        self.idle_collector = IdleCollector(self)
        self.idle_collector.install()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and hasattr(self, "idle_collector"):
            self.idle_collector.saw_input()
        await super().on_event(event)

    @property
    def view(self) -> DiffView | NaiveView | FloorView:
        if self.naive:
            return self.query_one(NaiveView)
        return self.query_one(FloorView) if self.floor else self.query_one(DiffView)

    def action_open_next(self) -> None:
        self.position = (self.position + 1) % len(self.patches)
        self.view.show_patch(self.patches[self.position])


class RefreshClock:
    """Times from `start()` (called at the start of an action) to the end of the next compositor refresh."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.samples: list[float] = []
        original = Screen._compositor_refresh
        clock = self

        def timed_refresh(screen: Screen) -> None:
            original(screen)
            if clock.started is not None:
                clock.samples.append((time.perf_counter() - clock.started) * 1000)
                clock.started = None

        Screen._compositor_refresh = timed_refresh  # type: ignore[method-assign]

    def start(self) -> None:
        self.started = time.perf_counter()

    def wrap(self, owner: type, name: str) -> None:
        original: Callable = getattr(owner, name)
        clock = self

        def timed(self_: object, *args: object, **kwargs: object) -> object:
            clock.start()
            return original(self_, *args, **kwargs)

        setattr(owner, name, timed)


CLOCK = RefreshClock()
CLOCK.wrap(BenchApp, "action_open_next")
CLOCK.wrap(DiffView, "action_page_down")
CLOCK.wrap(FloorView, "action_page_down")


async def settle(app: BenchApp, timeout: float = 5.0) -> None:
    """Wait until the measured refresh happened and the view finished its background indexing."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.02)
        view = app.view
        indexed = not isinstance(view, DiffView) or view.index.done
        if CLOCK.started is None and indexed:
            break
    await asyncio.sleep(0.03)


async def time_opens(patches: list[str], repeat: int, naive: bool = False) -> list[float]:
    """Milliseconds per open, opening each patch (`repeat` rounds) with the `o` key."""
    app = BenchApp(naive=naive)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)  # mount, theme, lexer warm-up
        app.patches = ["", *patches]
        CLOCK.samples.clear()
        for _ in range(repeat):
            for _ in patches:
                await pilot.press("o")
                await settle(app)
            app.position = 0
        return list(CLOCK.samples)


async def time_scroll(patch: str, pages: int, floor: bool = False) -> list[float]:
    app = BenchApp(floor=floor)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        app.patches = ["", patch]
        await pilot.press("o")
        await settle(app)
        CLOCK.samples.clear()
        for _ in range(pages):
            await pilot.press("pagedown")
            await settle(app)
        return list(CLOCK.samples)


def p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def child_peak_rss(line_count: int) -> float:
    """Peak RSS (MB) of a fresh process that opens the generated patch in the view and pages through it."""
    code = (
        "import asyncio, resource, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "import diff_view as bench\n"
        "async def main():\n"
        "    app = bench.BenchApp()\n"
        "    async with app.run_test(size=bench.SIZE) as pilot:\n"
        "        await pilot.pause(0.3)\n"
        f"        app.patches = ['', bench.generated_patch({line_count})]\n"
        "        await pilot.press('o')\n"
        "        await bench.settle(app)\n"
        "        for key in ['pagedown'] * 20 + ['G', 'v', 'w', 'g']:\n"
        "            await pilot.press(key)\n"
        "            await bench.settle(app)\n"
        "asyncio.run(main())\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
        "print(int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


async def run(repeat: int) -> dict[str, float | int | str]:
    median, largest, sample = real_patches()
    fifty_k = generated_patch()
    open_median = await time_opens([median], repeat)
    open_largest = await time_opens([largest], max(repeat // 2, 5))
    open_50k = await time_opens([fifty_k], max(repeat // 2, 5))
    open_sample = await time_opens(sample, 1)
    scroll = await time_scroll(largest, repeat)
    floor_scroll = await time_scroll(largest, repeat, floor=True)
    naive_50k = await time_opens([fifty_k], 2, naive=True)
    naive_median = await time_opens([median], 5, naive=True)
    figures: dict[str, float | int | str] = {
        "open_ms_p95_median": round(p95(open_median), 2),
        "open_ms_p95_largest_real": round(p95(open_largest), 2),
        "open_ms_p95_50k": round(p95(open_50k), 2),
        "open_ms_p95_real_sample": round(p95(open_sample), 2),
        "naive_open_ms_50k": round(statistics.median(naive_50k), 1),
        "naive_open_ms_median": round(statistics.median(naive_median), 2),
        "scroll_ms_p95": round(p95(scroll), 2),
        "floor_scroll_ms_p95": round(p95(floor_scroll), 2),
        "peak_rss_mb_50k": round(child_peak_rss(50_000), 1),
        "speedup_50k": round(statistics.median(naive_50k) / max(p95(open_50k), 1e-6), 1),
        "median_patch_lines": median.count("\n"),
        "largest_real_lines": largest.count("\n"),
        "real_sample_size": len(sample),
        "samples_per_figure": repeat,
        "bench_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeat", type=int, default=30, help="opens per figure")
    args = parser.parse_args()
    figures = asyncio.run(run(args.repeat))
    if args.json:
        print(json.dumps(figures))
        return
    targets = {"open_ms_p95_median": 16, "open_ms_p95_largest_real": 16, "open_ms_p95_50k": 16, "scroll_ms_p95": 8}
    targets["peak_rss_mb_50k"] = 150
    for key, value in figures.items():
        target = targets.get(key)
        verdict = "" if target is None else ("  ok" if float(value) <= target else f"  OVER target {target}")
        print(f"{key:28} {value}{verdict}")


if __name__ == "__main__":
    main()

"""Review loop speed on a store holding the whole shared SWE-bench data (44k patches).

    python bench/review_loop.py [--data DIR] [--db PATH] [--verdicts N] [--json]

Measured inside the app, in a fresh process (so peak RSS is the review process alone):
- startup_s: from creating the app to the end of the first compositor refresh that shows a patch;
- verdict_to_next_ms: from the start of the verdict key's action to the end of the first compositor refresh
  that shows the next patch, whatever workers and messages lie between (Screen._compositor_refresh wrapped);
- the same for a naive baseline in the same process: a screen that saves the verdict, loads the next patch
  and renders it with rich.syntax.Syntax into a Static, all on the UI thread.
The store is built once (import of all submissions and task files) and reused from --db.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def default_data() -> Path:
    env = os.environ.get("GRADER_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def build_store(data: Path, db: Path) -> None:
    from grader.core.importers.swebench import import_swebench
    from grader.core.importers.tasks import import_tasks
    from grader.core.patches.hash_backfill import backfill_norm_hashes
    from grader.core.store.db import make_engine

    engine = make_engine(f"sqlite:///{db}")
    import_swebench(engine, data / "swebench")
    for tasks in sorted((data / "tasks").glob("*.jsonl")):
        import_tasks(engine, tasks)
    backfill_norm_hashes(engine)  # a no-op after this import (hashes are computed at import), as in the app
    engine.dispose()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def measure_grader(db: Path, verdicts: int, size: tuple[int, int] = (120, 40)) -> dict[str, float]:
    from textual.screen import Screen

    from grader.core.store.db import make_engine
    from grader.tui.app import GraderApp
    from grader.tui.screens.review import ReviewScreen

    started = time.perf_counter()
    first_paint: list[float] = []
    pending: dict[str, float | int | None] = {"t": None, "from": None}
    samples: list[float] = []
    original_refresh = Screen._compositor_refresh
    original_verdict = ReviewScreen.action_verdict

    def refresh(self: Screen) -> None:
        original_refresh(self)
        if isinstance(self, ReviewScreen) and self.shown_patch_id is not None:
            if not first_paint:
                first_paint.append(time.perf_counter() - started)
            if pending["t"] is not None and self.shown_patch_id != pending["from"]:
                samples.append((time.perf_counter() - float(pending["t"])) * 1000)
                pending["t"] = None

    def verdict(self: ReviewScreen, value: str) -> None:
        pending["from"] = self.shown_patch_id
        pending["t"] = time.perf_counter()
        original_verdict(self, value)

    Screen._compositor_refresh = refresh  # type: ignore[method-assign]
    ReviewScreen.action_verdict = verdict  # type: ignore[method-assign]
    engine = make_engine(f"sqlite:///{db}")
    reviewer = f"bench-{os.getpid()}"
    app = GraderApp(engine, reviewer=reviewer)
    async with app.run_test(size=size) as pilot:
        while not first_paint:
            await pilot.pause(0.005)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        while screen._live is None:  # the live stats load in a worker; a reviewer reads the first patch meanwhile
            await pilot.pause(0.05)
        for index in range(verdicts):
            await pilot.press("pfu"[index % 3])
            while pending["t"] is not None or screen._pending_saves:
                await pilot.pause(0.002)
            await pilot.pause(0.02)
    engine.dispose()
    return {
        "startup_s": round(first_paint[0], 3),
        "verdict_to_next_ms_p95": round(p95(samples), 2),
        "verdict_to_next_ms_median": round(statistics.median(samples), 2),
        "samples": len(samples),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


async def measure_naive(db: Path, verdicts: int, size: tuple[int, int] = (120, 40)) -> dict[str, float]:
    """The baseline: everything on the UI thread, whole patch rendered by rich.syntax.Syntax into a Static."""
    from rich.syntax import Syntax
    from textual.app import App, ComposeResult
    from textual.screen import Screen
    from textual.widgets import Static

    from grader.core.audit.review import load_patch_view, load_queue, pseudonyms
    from grader.core.store.db import make_engine
    from grader.core.store.verdicts import record_verdict

    engine = make_engine(f"sqlite:///{db}")
    reviewer = f"naive-{os.getpid()}"
    queue = load_queue(engine, reviewer)
    names = pseudonyms(engine)
    samples: list[float] = []
    pending: dict[str, float | None] = {"t": None}

    class NaiveApp(App[None]):
        BINDINGS = [("p", "verdict", "Pass")]

        def compose(self) -> ComposeResult:
            yield Static(id="diff")

        def on_mount(self) -> None:
            self.position = 0
            self.show_position()

        def show_position(self) -> None:
            view = load_patch_view(engine, queue.patch_ids[self.position], reviewer, names)
            self.current = view
            self.query_one("#diff", Static).update(Syntax(view.diff, "diff", theme="monokai"))

        def action_verdict(self) -> None:
            pending["t"] = time.perf_counter()
            record_verdict(engine, patch_id=self.current.patch_id, reviewer=reviewer, verdict="pass")
            self.position += 1
            self.show_position()

    original_refresh = Screen._compositor_refresh

    def refresh(self: Screen) -> None:
        original_refresh(self)
        if pending["t"] is not None:
            samples.append((time.perf_counter() - float(pending["t"])) * 1000)
            pending["t"] = None

    Screen._compositor_refresh = refresh  # type: ignore[method-assign]
    app = NaiveApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.2)
        for _ in range(verdicts):
            await pilot.press("p")
            while pending["t"] is not None:
                await pilot.pause(0.002)
    Screen._compositor_refresh = original_refresh  # type: ignore[method-assign]
    engine.dispose()
    return {"naive_verdict_to_next_ms_p95": round(p95(samples), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--db", type=Path, default=Path("/tmp/grader-bench-review.db"))
    parser.add_argument("--verdicts", type=int, default=120)
    parser.add_argument("--size", default="120x40", help="terminal size, WIDTHxHEIGHT")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--measure", choices=("grader", "naive"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure = measure_grader if args.measure == "grader" else measure_naive
        width, height = (int(v) for v in args.size.split("x"))
        print(json.dumps(asyncio.run(measure(args.db, args.verdicts, (width, height)))))
        return
    if not args.db.exists():
        build_store(args.data, args.db)
    figures: dict[str, float | str] = {"terminal": args.size}
    for which in ("grader", "naive"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--db",
                str(args.db),
                "--verdicts",
                str(args.verdicts),
                "--size",
                args.size,
                "--measure",
                which,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        figures.update(json.loads(out.stdout.strip().splitlines()[-1]))
    figures["ratio_vs_naive"] = round(figures["verdict_to_next_ms_p95"] / figures["naive_verdict_to_next_ms_p95"], 3)
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:<28} {value}")
    print("\ntargets: verdict_to_next_ms_p95 <= 25, startup_s < 1, peak_rss_mb < 200")


if __name__ == "__main__":
    main()

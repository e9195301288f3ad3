"""Parse the next files in a forked worker process while this one writes the database."""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

Plan = TypeVar("Plan")
Parsed = TypeVar("Parsed")

PARALLEL_MIN_FILES = 4  # fewer files than this are parsed here, in order
PARSE_AHEAD = 4  # parsed files waiting to be written, at most


def parsed_in_order(plans: list[Plan], parse: Callable[[Plan], Parsed]) -> Iterator[Parsed]:
    """`parse(plan)` for each plan, in order.

    With many files, a forked worker process parses ahead while this process writes: parsing is pure Python
    and writing is SQLite, so two cores share the work. No thread runs in this process, because a second
    thread here would fight SQLite's writer for the GIL on every row. An exception in the worker is raised
    here, at the file it happened in.
    """
    if len(plans) < PARALLEL_MIN_FILES or "fork" not in multiprocessing.get_all_start_methods():
        for plan in plans:
            yield parse(plan)
        return
    context = multiprocessing.get_context("fork")
    results = context.Queue(maxsize=PARSE_AHEAD)
    worker = context.Process(target=_parse_worker, args=(plans, parse, results), daemon=True)
    worker.start()
    try:
        for _ in plans:
            status, payload = _next_result(results, worker)
            if status == "error":
                raise payload
            yield payload
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()
        results.close()


def _next_result(results: Any, worker: Any) -> tuple[str, Any]:
    while True:
        try:
            return results.get(timeout=0.5)
        except queue.Empty:
            if not worker.is_alive():
                raise RuntimeError(f"the parsing process died (exit code {worker.exitcode})") from None


def _parse_worker(plans: list[Any], parse: Callable[[Any], Any], results: Any) -> None:
    for plan in plans:
        try:
            results.put(("ok", parse(plan)))
        except BaseException as exc:  # every failure goes back to the importing process
            results.put(("error", exc))
            break
    results.close()
    results.join_thread()

"""Parse the next files in a forked worker process while this one writes the database."""

from __future__ import annotations

import multiprocessing
import pickle
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

Plan = TypeVar("Plan")
Parsed = TypeVar("Parsed")

PARALLEL_MIN_FILES = 4  # fewer files than this are parsed here, in order
PARSE_AHEAD = 8  # parsed files waiting to be written, at most
WRITER_BUSY = 2  # parsed files waiting when the worker finishes work for the writer
UNDECIDED, WANTED, UNWANTED = 0, 1, 2


def parsed_in_order(
    plans: Sequence[Plan],
    parse: Callable[[Plan], Parsed],
    *,
    wanted: Callable[[], Sequence[bool]] | None = None,
    finish: Callable[[Parsed, Callable[[], bool]], Parsed] | None = None,
) -> Iterator[tuple[Plan, Parsed]]:
    """`(plan, parse(plan))` for each wanted plan, in order, and finished (`finish`) when it is given.

    With many files, a forked worker process parses ahead while this process writes: parsing is pure Python
    and writing is SQLite, so two cores share the work. An exception in the worker is raised here, at the
    file it happened in.

    `wanted()` says which plans to parse (all when it is None). It runs here while the worker already parses
    the first files, so a step that reads every file first (fingerprints against earlier imports) costs no
    time on a fresh import; the worker skips the plans found unwanted, and what it parsed of them is dropped.

    `finish(parsed, more)` is work either process can do, in small steps: it goes on while `more()` is true
    and must accept a partly finished result. The worker takes steps while the writer has parsed files
    waiting (it would only wait for the writer otherwise), and this process finishes the rest before it
    yields: neither core waits for the other.

    Neither process runs a second thread: in the worker, a thread sending results (as multiprocessing.Queue
    does) waits for the parsing thread's GIL, and here one would fight SQLite's writer for it on every row.
    The worker pickles each parsed file into a private temporary folder and sends its number down a pipe
    (skips and errors travel in the message itself); a semaphore bounds how far it runs ahead.
    """
    if len(plans) < PARALLEL_MIN_FILES or "fork" not in multiprocessing.get_all_start_methods():
        decided = list(wanted()) if wanted else [True] * len(plans)
        for plan, keep in zip(plans, decided, strict=True):
            if keep:
                parsed = parse(plan)
                yield plan, finish(parsed, _always) if finish else parsed
        return
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="grader-parse-") as folder:
        receiver, sender = context.Pipe(duplex=False)
        slots = context.Semaphore(PARSE_AHEAD)
        mask = context.Array("b", len(plans), lock=False)
        worker = context.Process(
            target=_parse_worker, args=(plans, parse, finish, mask, sender, slots, Path(folder)), daemon=True
        )
        worker.start()
        sender.close()
        try:
            decided = list(wanted()) if wanted else [True] * len(plans)
            for index, keep in enumerate(decided):
                mask[index] = WANTED if keep else UNWANTED
            last = max((i for i, keep in enumerate(decided) if keep), default=-1)
            for index in range(last + 1):
                status, payload = _next_result(receiver, worker, Path(folder), index)
                slots.release()
                if not decided[index]:
                    continue  # parsed before it was known to be unwanted, or skipped
                if status == "error":
                    raise payload
                yield plans[index], finish(payload, _always) if finish else payload
        finally:
            if worker.is_alive():
                worker.terminate()
            worker.join()
            receiver.close()


def _next_result(receiver: Any, worker: Any, folder: Path, index: int) -> tuple[str, Any]:
    while not receiver.poll(0.5):
        if not worker.is_alive():
            raise RuntimeError(f"the parsing process died (exit code {worker.exitcode})")
    try:
        sent, inline = pickle.loads(receiver.recv_bytes())
    except EOFError:
        worker.join(5)  # the pipe closed as the process ended: wait for its exit code
        raise RuntimeError(f"the parsing process died (exit code {worker.exitcode})") from None
    assert sent == index, f"parsed file {sent} arrived when {index} was due"
    if inline is not None:
        return inline
    path = folder / f"{index}.pickle"
    with path.open("rb") as file:
        result = pickle.load(file)
    path.unlink()
    return result


def _always() -> bool:
    return True


def _writer_is_busy(slots: Any) -> Callable[[], bool]:
    """Whether parsed files wait for the writer, so the worker has time to finish work for it."""

    def busy() -> bool:
        try:
            return PARSE_AHEAD - slots.get_value() >= WRITER_BUSY
        except NotImplementedError:  # macOS has no sem_getvalue: the writer finishes everything
            return False

    return busy


def _parse_worker(
    plans: Sequence[Any],
    parse: Callable[[Any], Any],
    finish: Callable[[Any, Callable[[], bool]], Any] | None,
    mask: Any,
    sender: Any,
    slots: Any,
    folder: Path,
) -> None:
    busy = _writer_is_busy(slots)
    for index, plan in enumerate(plans):
        result: tuple[str, Any] = ("skipped", None)
        stop = False
        if mask[index] != UNWANTED:
            try:
                parsed = parse(plan)
                result = ("ok", finish(parsed, busy) if finish is not None else parsed)
            except Exception as exc:  # every failure goes back to the importing process, which may not want it
                result = ("error", exc)
            except BaseException as exc:
                result, stop = ("error", exc), True
        slots.acquire()
        sender.send_bytes(_hand_over(folder / f"{index}.pickle", index, result))
        if stop:
            break
    sender.close()


def _hand_over(path: Path, index: int, result: tuple[str, Any]) -> bytes:
    """The message for the pipe: a parsed file goes into `path`, a skip or an error travels in the message.

    What cannot be passed on (an exception class pickle cannot find, a full disk) becomes an error naming it.
    """
    try:
        if result[0] != "ok":
            return pickle.dumps((index, result), protocol=pickle.HIGHEST_PROTOCOL)
        with path.open("wb") as file:
            pickle.dump(result, file, protocol=pickle.HIGHEST_PROTOCOL)
        return pickle.dumps((index, None))
    except Exception as exc:
        failure = RuntimeError(
            f"{result[1]!r} (could not be passed on: {exc})"
            if result[0] == "error"
            else f"could not pass the parsed file on to the importing process: {exc}"
        )
        return pickle.dumps((index, ("error", failure)))

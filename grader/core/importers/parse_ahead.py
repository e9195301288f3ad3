"""Parse the next files in a forked worker process while this one writes the database."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import shutil
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
PARENT_CHECK_S = 1.0  # how often a waiting worker checks that the importing process still exists

# Messages from the worker, one per plan: (index, what, payload).
IN_FILE = "file"  # the parsed plan is pickled in the folder, as <index>.pickle
INLINE = "inline"  # payload: a pickled ("skipped", None) or ("error", exception)
GIVE_UP = "give up"  # payload: why the worker cannot hand results over; the rest is parsed here


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
    file it happened in. If the worker dies or cannot hand its results over (a full temporary disk), this
    process parses the wanted plans that are left itself.

    `wanted()` says which plans to parse (all when it is None). It runs here while the worker already parses
    the first files, so a step that reads every file first (fingerprints against earlier imports) costs no
    time on a fresh import; the worker skips the plans found unwanted, and what it parsed of them, errors
    included, is dropped unread.

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
        yield from _parse_here(plans, _decide(wanted, len(plans)), parse, finish)
        return
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="grader-parse-") as name:
        folder = Path(name)
        receiver, sender = context.Pipe(duplex=False)
        slots = context.Semaphore(PARSE_AHEAD)
        mask = context.Array("b", len(plans), lock=False)
        worker = context.Process(
            target=_parse_worker, args=(plans, parse, finish, mask, sender, slots, folder, os.getpid()), daemon=True
        )
        # The worker must never collect an object inherited from here, such as a pooled database connection
        # whose finaliser would write on this process's socket: everything alive at the fork is frozen.
        gc.freeze()
        try:
            worker.start()
        finally:
            gc.unfreeze()
        sender.close()
        try:
            decided = _decide(wanted, len(plans))
            for index, keep in enumerate(decided):
                mask[index] = WANTED if keep else UNWANTED
            last = max((i for i, keep in enumerate(decided) if keep), default=-1)
            index = 0
            while index <= last:
                message = _receive(receiver, worker)
                if message is None or message[1] == GIVE_UP:
                    # The worker is gone (killed, or out of temporary disk): parse what is left here.
                    yield from _parse_here(plans[index:], decided[index:], parse, finish)
                    return
                sent, what, payload = message
                assert sent == index, f"parsed file {sent} arrived when {index} was due"
                path = folder / f"{index}.pickle"
                if decided[index]:
                    status, value = _load(path) if what == IN_FILE else pickle.loads(payload)
                    slots.release()
                    if status == "error":
                        raise value
                    yield plans[index], finish(value, _always) if finish else value
                else:  # parsed before it was known to be unwanted, or skipped
                    path.unlink(missing_ok=True)
                    slots.release()
                index += 1
        finally:
            if worker.is_alive():
                worker.terminate()
            worker.join()
            receiver.close()


def _decide(wanted: Callable[[], Sequence[bool]] | None, count: int) -> list[bool]:
    decided = list(wanted()) if wanted else [True] * count
    if len(decided) != count:
        raise ValueError(f"wanted() answered for {len(decided)} plans, not {count}")
    return decided


def _parse_here(
    plans: Sequence[Plan],
    decided: Sequence[bool],
    parse: Callable[[Plan], Parsed],
    finish: Callable[[Parsed, Callable[[], bool]], Parsed] | None,
) -> Iterator[tuple[Plan, Parsed]]:
    for plan, keep in zip(plans, decided, strict=True):
        if keep:
            parsed = parse(plan)
            yield plan, finish(parsed, _always) if finish else parsed


def _receive(receiver: Any, worker: Any) -> tuple[int, str, Any] | None:
    """The worker's next message, or None when it is gone without one."""
    while not receiver.poll(0.5):
        if not worker.is_alive() and not receiver.poll(0):  # it may have sent its last message as it ended
            return None
    try:
        return pickle.loads(receiver.recv_bytes())
    except (EOFError, OSError):  # closed as the process ended, or cut off in the middle of a message
        return None


def _load(path: Path) -> Any:
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
    parent: int,
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
        while not slots.acquire(timeout=PARENT_CHECK_S):
            if os.getppid() != parent:  # the importing process was killed: nobody will read what is left
                shutil.rmtree(folder, ignore_errors=True)
                return
        message, gave_up = _hand_over(folder / f"{index}.pickle", index, result)
        sender.send_bytes(message)
        if stop or gave_up:
            break
    sender.close()


def _hand_over(path: Path, index: int, result: tuple[str, Any]) -> tuple[bytes, bool]:
    """The message for the pipe, and whether the worker gives up.

    A parsed file goes into `path`; a skip or an error travels in the message.

    An error that cannot cross to the other process (its class cannot be found there, or cannot be rebuilt
    from its arguments) is replaced by a RuntimeError naming it. A parsed file that cannot be written (a
    full disk) makes the worker give up, and the importing process parses the rest itself.
    """
    if result[0] != "ok":
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.loads(payload)
        except Exception as exc:
            failure = RuntimeError(f"{result[1]!r} (could not be passed on: {exc!r})")
            payload = pickle.dumps(("error", failure))
        return pickle.dumps((index, INLINE, payload)), False
    try:
        with path.open("wb") as file:
            pickle.dump(result, file, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        path.unlink(missing_ok=True)
        return pickle.dumps((index, GIVE_UP, f"could not hand the parsed file over: {exc!r}")), True
    return pickle.dumps((index, IN_FILE, None)), False

"""The import's parse-ahead worker: order, unwanted files, errors, and work shared between two processes."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.core.importers.common import ImportReport, RowErrors
from grader.core.importers.parse_ahead import PARALLEL_MIN_FILES, PARENT_CHECK_S, parsed_in_order
from grader.core.importers.swebench_parse import hash_rows, parse_submission
from grader.core.patches.equivalence import stored_norm_hash

MAIN = os.getpid()


def _square(plan: int) -> int:
    return plan * plan


def test_results_come_in_order_from_the_worker() -> None:
    plans = list(range(40))
    assert list(parsed_in_order(plans, _square)) == [(n, n * n) for n in plans]


def test_few_files_are_parsed_here() -> None:
    plans = list(range(PARALLEL_MIN_FILES - 1))
    seen: list[int] = []

    def parse(plan: int) -> int:
        seen.append(os.getpid())
        return plan

    assert [p for p, _ in parsed_in_order(plans, parse)] == plans
    assert seen == [MAIN] * len(plans)


def test_unwanted_plans_are_dropped_even_when_parsed_before_it_was_known() -> None:
    def wanted() -> list[bool]:
        time.sleep(0.05)  # the worker parses ahead meanwhile
        return [n % 3 == 0 for n in range(20)]

    def parse(plan: int) -> int:
        if plan % 3 == 1:
            raise ValueError(f"bad file {plan}")  # unwanted: its error must not surface
        return plan

    assert [p for p, _ in parsed_in_order(list(range(20)), parse, wanted=wanted)] == list(range(0, 20, 3))


def test_nothing_wanted_stops_at_once() -> None:
    start = time.perf_counter()
    assert list(parsed_in_order(list(range(50)), lambda p: time.sleep(0.05), wanted=lambda: [False] * 50)) == []
    assert time.perf_counter() - start < 2.0  # the worker is stopped, not waited for (50 x 0.05 s)


def test_an_error_is_raised_at_its_file() -> None:
    def parse(plan: int) -> int:
        if plan == 7:
            raise ValueError("line 3: not valid JSON")
        return plan

    got: list[int] = []
    with pytest.raises(ValueError, match="line 3"):
        for plan, _ in parsed_in_order(list(range(12)), parse):
            got.append(plan)
    assert got == list(range(7))


def test_an_exception_that_cannot_be_pickled_is_described() -> None:
    class Local(Exception):  # a local class: pickle cannot find it by name
        pass

    def parse(plan: int) -> int:
        if plan == 2:
            raise Local("odd failure")
        return plan

    with pytest.raises(RuntimeError, match="odd failure"):
        list(parsed_in_order(list(range(6)), parse))


def test_when_the_worker_dies_the_plans_left_are_parsed_here() -> None:
    def parse(plan: int) -> tuple[int, int]:
        if plan == 3 and os.getpid() != MAIN:
            os._exit(3)  # killed, say, by the out-of-memory killer
        return plan, os.getpid()

    got = list(parsed_in_order(list(range(8)), parse))
    assert [plan for plan, _ in got] == list(range(8))
    assert all(pid == MAIN for plan, (_, pid) in got if plan >= 3)


def test_a_worker_that_dies_on_an_unwanted_plan_does_not_fail_the_import() -> None:
    def wanted() -> list[bool]:
        time.sleep(0.2)  # the worker reaches plan 1 before it knows that plan 1 is not wanted
        return [plan != 1 for plan in range(6)]

    def parse(plan: int) -> int:
        if plan == 1 and os.getpid() != MAIN:
            raise KeyboardInterrupt  # a BaseException stops the worker
        return plan

    assert [plan for plan, _ in parsed_in_order(list(range(6)), parse, wanted=wanted)] == [0, 2, 3, 4, 5]


def test_a_wanted_answer_of_the_wrong_length_is_refused() -> None:
    for count in (PARALLEL_MIN_FILES - 1, PARALLEL_MIN_FILES + 4):
        with pytest.raises(ValueError, match="answered for"):
            list(parsed_in_order(list(range(count)), _square, wanted=lambda n=count: [True] * (n - 1)))


class _NeedsTwo(Exception):
    """Pickles, but cannot be rebuilt from its args (the common custom-exception mistake)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


def test_an_error_that_cannot_be_rebuilt_is_described_and_dropped_when_unwanted() -> None:
    def parse(plan: int) -> int:
        if plan in (1, 4):
            raise _NeedsTwo("preds.jsonl", f"bad file {plan}")
        return plan

    def wanted() -> list[bool]:
        time.sleep(0.1)
        return [plan != 1 for plan in range(6)]

    with pytest.raises(RuntimeError, match="bad file 4"):
        list(parsed_in_order(list(range(6)), parse, wanted=wanted))


def test_a_killed_importer_does_not_leave_its_worker_or_files(tmp_path: Path) -> None:
    script = tmp_path / "importer.py"
    script.write_text(
        "import multiprocessing, os, signal, sys, time\n"
        "from grader.core.importers.parse_ahead import parsed_in_order\n"
        "for plan, _ in parsed_in_order(list(range(40)), lambda p: p):\n"
        "    print(multiprocessing.active_children()[0].pid, flush=True)\n"
        "    time.sleep(0.5)  # the worker fills its read-ahead and waits\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == -signal.SIGKILL, run.stderr
    worker = int(run.stdout.split()[0])
    deadline = time.monotonic() + 10 * PARENT_CHECK_S
    while time.monotonic() < deadline and (_alive(worker) or any(scratch.iterdir())):
        time.sleep(0.1)
    assert not _alive(worker)
    assert list(scratch.iterdir()) == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # an exited child of init may linger as a zombie for a moment
        return stat.read().split()[2] != "Z"


def _steps(plan: int) -> dict[str, list[int]]:
    return {"todo": list(range(5)), "done_by": []}


def _finish(parsed: dict[str, list[int]], more: Callable[[], bool]) -> dict[str, list[int]]:
    while len(parsed["done_by"]) < len(parsed["todo"]) and more():
        parsed["done_by"].append(os.getpid())
    return parsed


def test_finishing_work_is_shared_and_always_completed() -> None:
    done: list[list[int]] = []
    for _, parsed in parsed_in_order(list(range(30)), _steps, finish=_finish):
        done.append(parsed["done_by"])
        time.sleep(0.01)  # a slow writer: parsed files wait, so the worker finishes some
    assert all(len(steps) == 5 for steps in done)
    assert any(pid != MAIN for steps in done for pid in steps)
    assert len(done) == 30


def test_finishing_work_falls_to_the_writer_when_it_is_idle() -> None:
    def slow_parse(plan: int) -> dict[str, list[int]]:
        time.sleep(0.03)  # a slow parser: the writer waits, so the worker leaves the work to it
        return _steps(plan)

    done = [parsed["done_by"] for _, parsed in parsed_in_order(list(range(8)), slow_parse, finish=_finish)]
    assert all(len(steps) == 5 for steps in done)
    assert all(pid == MAIN for steps in done for pid in steps)


def test_hash_rows_in_steps_and_across_a_pickle(data_dir: Path) -> None:
    preds = data_dir / "subs" / "verified" / "alpha_agent" / "all_preds.jsonl"
    sub = parse_submission(preds, results=None, name=None, benchmark=None, errors=RowErrors(False, ImportReport("")))
    assert len(sub.rows) >= 2 and sub.norm_hashes == []
    answers = iter([True, False])
    hash_rows(sub, lambda: next(answers), step=1)
    assert len(sub.norm_hashes) == 1  # one step, then told to stop
    travelled = pickle.loads(pickle.dumps(sub))
    hash_rows(travelled)
    assert travelled.norm_hashes == [stored_norm_hash(r.raw_patch, r.diff_text, r.patch_kind) for r in sub.rows]
    assert travelled.rows == sub.rows and type(travelled.rows[0]) is type(sub.rows[0])


class _DiskFull:
    def __reduce__(self) -> tuple[object, ...]:
        raise OSError(28, "No space left on device")


def test_when_the_worker_cannot_hand_a_file_over_the_rest_is_parsed_here() -> None:
    def parse(plan: int) -> object:
        return _DiskFull() if plan == 4 else (plan, os.getpid())

    got = list(parsed_in_order(list(range(6)), parse))
    assert [plan for plan, _ in got] == list(range(6))
    assert isinstance(got[4][1], _DiskFull)  # parsed here: it never had to be pickled
    assert got[5][1] == (5, MAIN)

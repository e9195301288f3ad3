"""The task importer: a later file updates what it carries, and adds no task it cannot describe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from grader.core.importers.common import BadInput
from grader.core.importers.tasks import import_tasks
from grader.core.store.models import ImportRecord, Task


def _tasks(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        return {r.instance_id: dict(r._mapping) for r in conn.execute(select(Task.__table__))}


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_tags_file_merges_into_meta_and_keeps_every_field(engine: Engine, data_dir: Path, tmp_path: Path) -> None:
    import_tasks(engine, data_dir / "tasks_verified.csv")
    before = _tasks(engine)
    tags = tmp_path / "tags_verified.csv"
    tags.write_text(
        'instance_id,tags\nacme__calc-1,"[""arith"", ""easy""]"\nacme__calc-2,style\nacme__calc-99,"[""x""]"\n'
    )
    report = import_tasks(engine, tags)
    after = _tasks(engine)
    assert report.updated == 2 and report.added == {}
    assert set(after) == {"acme__calc-1", "acme__calc-2"}  # no placeholder for acme__calc-99
    assert json.loads(after["acme__calc-1"]["meta"]) == {
        "FAIL_TO_PASS": ["tests/test_calc.py::test_add"],
        "tags": ["arith", "easy"],
    }
    assert json.loads(after["acme__calc-2"]["meta"]) == {"FAIL_TO_PASS": [], "tags": "style"}
    for iid, task in after.items():
        assert {k: v for k, v in task.items() if k != "meta"} == {k: v for k, v in before[iid].items() if k != "meta"}
    assert "updated in 2 task(s): meta.tags (2)" in report.notes
    assert any("left out 1 instance id(s)" in n and "acme__calc-99" in n for n in report.notes)
    assert report.summary().splitlines()[0] == f"{tags}: 2 updated"
    assert "meta.tags (2)" in report.summary() and "acme__calc-99" in report.summary()


def test_a_later_file_changes_only_the_values_it_carries(engine: Engine, data_dir: Path, tmp_path: Path) -> None:
    import_tasks(engine, data_dir / "tasks_verified.csv")
    before = _tasks(engine)["acme__calc-1"]
    later = tmp_path / "later_verified.jsonl"
    rows = [
        {
            "instance_id": "acme__calc-1",
            "hints_text": "Look at the operator.",
            "problem_statement": "",
            "FAIL_TO_PASS": "",
        },
        {"instance_id": "acme__calc-1", "test_patch": None, "version": "1.0"},  # a repeat: the later row counts
    ]
    later.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = import_tasks(engine, later)
    after = _tasks(engine)["acme__calc-1"]
    assert report.updated == 1 and report.unchanged == 0
    assert after["hints_text"] == before["hints_text"]  # the earlier row was replaced by the repeat
    assert json.loads(after["meta"]) == {"FAIL_TO_PASS": ["tests/test_calc.py::test_add"], "version": "1.0"}
    assert {k: after[k] for k in ("problem_statement", "reference_patch", "test_patch", "repo")} == {
        k: before[k] for k in ("problem_statement", "reference_patch", "test_patch", "repo")
    }
    later.write_text(json.dumps(rows[0]) + "\n")
    report = import_tasks(engine, later)
    after = _tasks(engine)["acme__calc-1"]
    assert after["hints_text"] == "Look at the operator."
    # Empty values blank nothing: not the problem statement, not a meta key.
    assert after["problem_statement"] == before["problem_statement"]
    assert json.loads(after["meta"])["FAIL_TO_PASS"] == ["tests/test_calc.py::test_add"]
    assert report.notes == ["updated in 1 task(s): hints_text (1)"]


def test_a_file_that_describes_no_task_in_the_store_is_refused(engine: Engine, data_dir: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("instance_id,difficulty\nacme__calc-1,easy\nacme__calc-2,hard\n")
    with pytest.raises(BadInput) as caught:
        import_tasks(engine, labels)
    assert caught.value.path == str(labels) and "problem_statement" in caught.value.problem
    assert "none of its 2 instance id(s) is a task of swe-bench" in caught.value.problem
    assert _count(engine, Task.__table__) == 0 and _count(engine, ImportRecord.__table__) == 0
    # The same labels once the tasks are there (in the benchmark the file names).
    import_tasks(engine, data_dir / "tasks_verified.csv")
    assert import_tasks(engine, labels, benchmark="swe-bench-verified").updated == 2


def test_openai_annotations_update_the_verified_tasks_and_add_none(engine: Engine, shared_data: Path) -> None:
    import_tasks(engine, shared_data / "tasks" / "swebench_verified_tasks.jsonl")
    report = import_tasks(engine, shared_data / "openai_swebench_verified_ensembled_annotations_public.csv")
    assert report.added == {} and report.updated == 500
    assert any(n.startswith("left out 1199 instance id(s)") for n in report.notes)
    assert _count(engine, Task.__table__) == 500
    meta = json.loads(_tasks(engine)["astropy__astropy-12907"]["meta"])
    assert meta["FAIL_TO_PASS"] and meta["PASS_TO_PASS"] and meta["base_commit"] and meta["version"]
    assert {"underspecified", "false_negative", "filter_out"} <= meta.keys()

"""The importers on the real SWE-bench submissions and task files in the shared data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from grader.core.importers.swebench import find_predictions, import_swebench
from grader.core.importers.tasks import import_tasks
from grader.core.patches.equivalence import stored_norm_hash
from grader.core.store.models import Patch, Submission, Task

pytestmark = pytest.mark.realdata


def _pass_counts(engine: Engine) -> dict[tuple[str, str], int]:
    p, s = Patch.__table__, Submission.__table__
    query = (
        select(s.c.benchmark, s.c.name, func.count(p.c.id))
        .join(p, p.c.submission_id == s.c.id)
        .where(p.c.verifier_verdict == "pass")
        .group_by(s.c.benchmark, s.c.name)
    )
    with engine.connect() as conn:
        return {(b, n): int(c) for b, n, c in conn.execute(query)}


def _expected(submission_dir: Path) -> int:
    return len(json.loads((submission_dir / "results" / "results.json").read_text())["resolved"])


def test_whole_shared_data_in_one_command(sqlite_engine: Engine, shared_data: Path) -> None:
    root = shared_data / "swebench"
    report = import_swebench(sqlite_engine, root)
    files = find_predictions(root)
    assert report.added["submissions"] == len(files) >= 112
    counts = _pass_counts(sqlite_engine)
    benchmark = {"verified": "swe-bench-verified", "lite": "swe-bench-lite"}
    for preds in files:
        key = (benchmark[preds.parent.parent.name], preds.parent.name)
        assert counts.get(key, 0) == _expected(preds.parent), key
    with sqlite_engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(Patch.__table__)).scalar_one()
        kinds = dict(
            conn.execute(
                select(Patch.__table__.c.patch_kind, func.count()).group_by(Patch.__table__.c.patch_kind)
            ).all()
        )
    assert total == 44421  # unique instances per submission
    assert kinds["null"] > 0 and kinds["empty"] > 0 and kinds["extracted"] > 0
    # The normalised hash is computed at import, part by the parsing process and part by the writer:
    # every patch holds the hash computed again here, one by one.
    p = Patch.__table__
    with sqlite_engine.connect() as conn:
        stored = conn.execute(select(p.c.raw_patch, p.c.diff_text, p.c.patch_kind, p.c.norm_hash)).all()
    wrong = [row for row in stored if row.norm_hash != stored_norm_hash(row.raw_patch, row.diff_text, row.patch_kind)]
    assert not wrong and len(stored) == 44421
    assert import_swebench(sqlite_engine, root).total_added == 0


@pytest.mark.parametrize(
    "submission",
    [
        "verified/20241028_solver",  # a JSON array under a .jsonl name
        "verified/20240820_epam-ai-run-gpt-4o",  # rows without model_name_or_path
        "lite/20240402_sweagent_gpt4",  # repeated instances, null patches
    ],
)
def test_warty_submissions_on_both_backends(engine: Engine, shared_data: Path, submission: str) -> None:
    folder = shared_data / "swebench" / submission
    import_swebench(engine, folder / "all_preds.jsonl")
    (count,) = _pass_counts(engine).values()
    assert count == _expected(folder)


def test_task_files_fill_in_placeholders(engine: Engine, shared_data: Path) -> None:
    import_swebench(engine, shared_data / "swebench" / "verified" / "20231010_rag_claude2")
    report = import_tasks(engine, shared_data / "tasks" / "swebench_verified_tasks.jsonl")
    assert report.updated == 500 and report.added == {}
    with engine.connect() as conn:
        task = conn.execute(
            select(Task.__table__).where(Task.__table__.c.instance_id == "astropy__astropy-12907")
        ).one()
    assert task.benchmark == "swe-bench-verified" and task.repo == "astropy/astropy"
    assert "separability_matrix" in task.problem_statement
    assert task.reference_patch.startswith("diff --git a/astropy/modeling/separable.py")
    assert json.loads(task.meta)["FAIL_TO_PASS"] == [
        "astropy/modeling/tests/test_separable.py::test_separable[compound_model6-result6]",
        "astropy/modeling/tests/test_separable.py::test_separable[compound_model9-result9]",
    ]

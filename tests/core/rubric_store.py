"""A small store for the rubric tests: tasks acme__t-N, models' patches with verifier verdicts, graded with answers."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from grader.core.importers.rubrics import Rubric, load_rubric
from grader.core.store.models import Patch, Submission, Task
from grader.core.store.rubric_answers import GivenAnswers, store_rubric
from grader.core.store.verdicts import record_verdict


def build_store(engine: Engine, tasks: int, models: Mapping[str, list[str]]) -> dict[tuple[str, int], int]:
    """`models`: name -> the verifier verdict of its patch for each task. Returns (model, task) -> patch id."""
    ids: dict[tuple[str, int], int] = {}
    with engine.begin() as conn:
        task_ids = [
            int(
                conn.execute(
                    Task.__table__.insert().values(
                        benchmark="swe-bench-verified", instance_id=f"acme__t-{n}", repo="acme/t", problem_statement="x"
                    )
                ).inserted_primary_key[0]
            )
            for n in range(tasks)
        ]
        for name, verdicts in models.items():
            sub = conn.execute(
                Submission.__table__.insert().values(benchmark="swe-bench-verified", name=name)
            ).inserted_primary_key[0]
            for n, verdict in enumerate(verdicts):
                ids[(name, n)] = int(
                    conn.execute(
                        Patch.__table__.insert().values(
                            task_id=task_ids[n], submission_id=sub, raw_patch=f"p{n}", verifier_verdict=verdict
                        )
                    ).inserted_primary_key[0]
                )
    return ids


def stored(engine: Engine, name: str) -> tuple[Rubric, int]:
    rubric = load_rubric(name)
    return rubric, store_rubric(engine, name=rubric.name, digest=rubric.digest, text=rubric.text)


def grade(engine: Engine, patch_id: int, reviewer: str, verdict: str, rubric_id: int, **answers: str) -> None:
    record_verdict(
        engine, patch_id=patch_id, reviewer=reviewer, verdict=verdict, answers=GivenAnswers(rubric_id, answers)
    )

"""Rubrics: TOML files and built-ins, errors naming the line, answers stored with their verdict and append-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from grader.core.importers.rubrics import RubricError, builtin_rubric_names, load_rubric, parse_rubric
from grader.core.store.rubric_answers import GivenAnswers, current_answers, store_rubric, task_answers
from grader.core.store.verdicts import record_verdict, reviewer_id

from .test_db import _one_patch

GOOD = """\
name = "mine"
title = "A small rubric"

[[question]]
id = "severity"
prompt = "How bad?"
kind = "ordinal"
level = "task"
required = true
options = [
  { value = "0", label = "fine" },
  { value = "1", label = "bad" },
]

[[question]]
id = "kinds"
prompt = "Which?"
kind = "multi"
options = ["a", "b", "c"]

[[question]]
id = "why"
prompt = "Why?"
kind = "text"
phase = "after"
"""


def test_a_rubric_file_reads_every_kind_of_question(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    rubric = load_rubric(path)
    assert [q.id for q in rubric.questions] == ["severity", "kinds", "why"]
    severity, kinds, why = rubric.questions
    assert (severity.kind, severity.level, severity.required, severity.phase) == ("ordinal", "task", True, "before")
    assert severity.keys() == ("0", "1")  # a 0-1 scale answers with 0 and 1
    assert kinds.keys() == ("1", "2", "3")  # other options are numbered from 1
    assert (why.kind, why.phase, why.required) == ("text", "after", False)
    assert kinds.check('["c","a"]') == '["a", "c"]'  # canonical order
    assert rubric.missing_required({}) == [severity]
    assert rubric.missing_required({"severity": "1"}) == []
    assert rubric.column_names() == ["mine:severity", "mine:kinds", "mine:why"]


@pytest.mark.parametrize(
    ("broken", "line", "problem"),
    [
        (GOOD.replace('kind = "multi"', 'kind = "several"'), 18, "`kind` must be one of"),
        (GOOD.replace('level = "task"', 'level = "repo"'), 8, "`level` must be task or patch"),
        (GOOD.replace('phase = "after"', 'phase = "later"'), 25, "`phase` must be before or after"),
        (GOOD.replace("required = true", 'required = "yes"'), 9, "`required` must be true or false"),
        (GOOD.replace('{ value = "1", label = "bad" }', '{ value = "0", label = "bad" }'), 12, "listed twice"),
        (GOOD.replace('id = "kinds"', 'id = "severity"'), 16, "used twice"),
        (GOOD.replace('options = ["a", "b", "c"]', 'options = ["a"]'), 19, "2 or more options"),
        (GOOD.replace('title = "A small rubric"', 'title = "A small rubric'), 2, "not valid TOML"),
        (GOOD.replace('prompt = "Why?"', 'prompt = ""'), 23, "`prompt` must be a non-empty string"),
        (GOOD.replace('name = "mine"', 'name = "Mine!"'), 1, "`name` must be"),
        (GOOD.replace('prompt = "How bad?"', 'prompt = "How bad?"\ncolour = "red"'), 7, "unknown key 'colour'"),
    ],
)
def test_errors_name_the_file_and_the_line(tmp_path: Path, broken: str, line: int, problem: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(broken)
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert problem in message
    assert "\n" not in message


def test_the_built_in_rubrics_load() -> None:
    assert {"swebench-verified", "swebench-plus", "patchdiff", "verifier-audit", "agentless-lite"} <= set(
        builtin_rubric_names()
    )
    verified = load_rubric("swebench-verified")
    assert [q.id for q in verified.questions if q.kind != "text"] == [
        "underspecified",
        "false_negative",
        "other_major_issues",
        "difficulty",
    ]
    assert verified.question("underspecified").ensemble == "max"
    assert load_rubric("swebench-plus").question("weak_tests").phase == "after"
    with pytest.raises(RubricError, match=r"built-ins: .*swebench-verified"):
        load_rubric("no-such-rubric")


def test_answers_outside_the_rubric_are_refused() -> None:
    rubric = parse_rubric(GOOD)
    with pytest.raises(RubricError, match="not one of 0, 1"):
        rubric.question("severity").check("2")
    with pytest.raises(RubricError, match="unknown option 'z'"):
        rubric.question("kinds").check('["a", "z"]')


def test_answers_are_stored_with_the_verdict_and_are_append_only(engine: Engine) -> None:
    rubric = parse_rubric(GOOD)
    rubric_id = store_rubric(engine, name=rubric.name, digest=rubric.digest, text=rubric.text)
    assert store_rubric(engine, name=rubric.name, digest=rubric.digest, text=rubric.text) == rubric_id
    patch_id = _one_patch(engine)
    given = GivenAnswers(rubric_id, {"severity": "1", "kinds": json.dumps(["a"])})
    record_verdict(engine, patch_id=patch_id, reviewer="ana", verdict="fail", answers=given)
    with engine.connect() as conn:
        ana = reviewer_id(conn, "ana")
        assert current_answers(conn, patch_id, ana) == {"severity": "1", "kinds": '["a"]'}
    for statement in ("UPDATE rubric_answer SET value = '0'", "DELETE FROM rubric_answer", "DELETE FROM rubric"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    # A changed answer is a new verdict row carrying the full set; the old rows stay.
    record_verdict(
        engine, patch_id=patch_id, reviewer="ana", verdict="fail", answers=GivenAnswers(rubric_id, {"severity": "0"})
    )
    with engine.connect() as conn:
        assert current_answers(conn, patch_id, ana) == {"severity": "0"}
        assert conn.execute(text("SELECT count(*) FROM rubric_answer")).scalar() == 3
        assert task_answers(conn, patch_id, ana, ["severity"]) == {"severity": "0"}
    # An undo leaves no current answers.
    record_verdict(engine, patch_id=patch_id, reviewer="ana", verdict="retracted")
    with engine.connect() as conn:
        assert current_answers(conn, patch_id, ana) == {}


def test_a_verdict_whose_answers_fail_is_not_saved_either(engine: Engine) -> None:
    patch_id = _one_patch(engine)
    with pytest.raises(DBAPIError):
        # No rubric 999: the answers' insert fails, and the verdict's transaction with it.
        record_verdict(engine, patch_id=patch_id, reviewer="ana", verdict="pass", answers=GivenAnswers(999, {"q": "x"}))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM verdict")).scalar() == 0


def test_answers_are_exported_one_column_per_question(sqlite_engine: Engine) -> None:
    import csv
    import io

    from grader.core.export.graded_set import write_csv, write_jsonl

    from .rubric_store import build_store, grade, stored

    ids = build_store(sqlite_engine, 2, {"m1": ["pass", "fail"]})
    _, rubric_id = stored(sqlite_engine, "patchdiff")
    grade(
        sqlite_engine,
        ids[("m1", 0)],
        "ana",
        "fail",
        rubric_id,
        divergent="yes",
        correctness="incorrect",
        divergence=json.dumps(["functional", "exception"]),
    )
    # A later answer replaces the earlier one (a new verdict row): only the current one is exported.
    grade(sqlite_engine, ids[("m1", 1)], "ana", "pass", rubric_id, divergent="yes", correctness="unsure")
    grade(sqlite_engine, ids[("m1", 1)], "ana", "pass", rubric_id, divergent="no", correctness="correct")
    out = io.StringIO()
    write_csv(sqlite_engine, out, include_patch=False)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    header = out.getvalue().splitlines()[0].split(",")
    assert header[-3:] == ["patchdiff:divergent", "patchdiff:correctness", "patchdiff:divergence"]
    by_task = {row["task_id"]: row for row in rows}
    assert by_task["acme__t-0"]["patchdiff:divergence"] == "functional; exception"
    assert by_task["acme__t-1"]["patchdiff:divergent"] == "no"
    assert by_task["acme__t-1"]["patchdiff:correctness"] == "correct"
    assert by_task["acme__t-1"]["patchdiff:divergence"] == ""
    lines = io.StringIO()
    write_jsonl(sqlite_engine, lines, include_patch=False)
    first = json.loads(lines.getvalue().splitlines()[0])
    assert first["patchdiff:divergence"] == ["functional", "exception"]

"""`grader session ...`, `stats --session` and `export --session`: blind until unblinded, disagreements shown."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import Engine
from typer.testing import CliRunner

from grader.cli import app
from grader.core.audit.adjudication import record_adjudication
from grader.core.audit.assignment import claim_next
from grader.core.audit.session_verdicts import submit_session_verdict
from grader.core.audit.sessions import get_session
from grader.core.audit.synthetic import add_synthetic_patches
from grader.core.export.graded_set import COLUMNS, SESSION_COLUMNS


def _run(engine: Engine, *args: str) -> str:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, [*args, "--db", url], env={"GRADER_REVIEWER": "lead"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _grade_all(engine: Engine, session_id: int) -> None:
    answers = {"ana": "pass", "ben": "fail"}
    for reviewer, verdict in answers.items():
        while (patch_id := claim_next(engine, session_id, reviewer)) is not None:
            submit_session_verdict(engine, session_id=session_id, patch_id=patch_id, reviewer=reviewer, verdict=verdict)


def test_session_commands_blind_until_unblinded(engine: Engine) -> None:
    add_synthetic_patches(engine, 40, models=2, seed=3)
    created = json.loads(
        _run(
            engine,
            "session",
            "create",
            "q1",
            "--per-stratum",
            "2",
            "--seed",
            "9",
            "--overlap",
            "2",
            "--reviewers",
            "ana,ben",
            "--json",
        )
    )
    assert created["progress"]["items"] == 8  # 2 models x pass/fail x 2
    assert all(s["sample"] == 2 and s["population"] >= 2 for s in created["strata"])
    assert all(p["model"].startswith("Model ") for p in created["patches"])
    assert all(s["stratum"]["model"].startswith("Model ") for s in created["strata"])
    info = get_session(engine, "q1")
    _grade_all(engine, info.id)
    shown = json.loads(_run(engine, "session", "show", "q1", "--json"))
    assert shown["disagreements"] == {"count": 8, "resolved": 0}
    first = shown["patches"][0]
    assert set(first) >= {"task_id", "model", "verdicts", "disagreement", "adjudicated"}
    # Adjudicate one patch; stats and export show it.
    from grader.core.audit.sessions import session_patches

    patch_id = session_patches(engine, info.id)[0].patch_id
    record_adjudication(engine, session_id=info.id, patch_id=patch_id, adjudicator="cy", verdict="pass")
    stats = json.loads(_run(engine, "stats", "--session", "q1", "--json"))
    assert stats["session"]["disagreements"] == 8 and stats["session"]["adjudicated"] == 1
    assert all(name.startswith("Model ") for name in stats["by_model"])
    assert stats["overall"]["n"] == 1  # only the adjudicated patch has a label: the others are 1-1 ties
    exported = list(csv.DictReader(io.StringIO(_run(engine, "export", "--session", "q1", "--no-patch"))))
    assert list(exported[0]) == [*COLUMNS[:-1], *SESSION_COLUMNS]
    assert len(exported) == 8 * 2 + 1
    assert {row["model"] for row in exported} <= {p["model"] for p in created["patches"]}
    assert all(row["disagreement"] == "true" for row in exported)
    assert sum(row["verdict_source"] == "adjudication" for row in exported) == 1
    assert {row["adjudicated_verdict"] for row in exported} == {"pass", ""}
    # Unblinding is recorded and shows the names everywhere.
    assert "unblinded by lead" in _run(engine, "session", "unblind", "q1")
    stats = json.loads(_run(engine, "stats", "--session", "q1", "--json"))
    assert set(stats["by_model"]) == {"model-0", "model-1"} and stats["session"]["unblinded_by"] == "lead"
    exported = list(csv.DictReader(io.StringIO(_run(engine, "export", "--session", "q1", "--no-patch"))))
    assert {row["model"] for row in exported} == {"model-0", "model-1"}
    assert "model=model-0" in _run(engine, "session", "show", "q1")
    _run(engine, "session", "close", "q1")
    listed = json.loads(_run(engine, "session", "list", "--json"))["sessions"]
    assert listed == [
        {
            "name": "q1",
            "id": info.id,
            "state": "closed",
            "blind": True,
            "unblinded": True,
            "items": 8,
            "overlap": 2,
            "done": 16,
            "slots": 16,
        }
    ]


def test_session_create_errors_are_clear(engine: Engine) -> None:
    add_synthetic_patches(engine, 10, models=2)
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["session", "create", "t", "--size", "4", "--strata", "tag", "--db", url])
    assert result.exit_code == 1 and "no tag data" in result.output
    result = CliRunner().invoke(app, ["session", "show", "nope", "--db", url])
    assert result.exit_code == 1 and "no session named" in result.output


def test_close_and_unblind_print_json(engine: Engine) -> None:
    add_synthetic_patches(engine, 10, models=2, seed=1)
    _run(engine, "session", "create", "q2", "--size", "4")
    unblinded = json.loads(_run(engine, "session", "unblind", "q2", "--json"))
    info = get_session(engine, "q2")
    assert info.unblinded_at is not None
    assert unblinded == {
        "name": "q2",
        "id": info.id,
        "unblinded_at": info.unblinded_at.isoformat(),
        "unblinded_by": "lead",
    }
    closed = json.loads(_run(engine, "session", "close", "q2", "--json"))
    info = get_session(engine, "q2")
    assert info.closed_at is not None
    assert closed == {"name": "q2", "id": info.id, "closed_at": info.closed_at.isoformat(), "closed_by": "lead"}

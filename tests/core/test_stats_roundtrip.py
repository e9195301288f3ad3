"""Import → grade → stats: a graded CSV in, `grader stats --json` out, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import Engine
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

from grader.cli import app
from grader.core.store.db import write_transaction
from grader.core.store.models import Patch
from grader.core.store.verdicts import insert_verdict, record_verdict

# (task, model, verifier, [(reviewer, verdict, tags)]) — ungraded patches widen the population.
ROWS = [
    ("org__a-1", "alpha", "pass", [("ana", "pass", "tests"), ("bo", "pass", "")]),
    ("org__a-2", "alpha", "pass", [("ana", "fail", "tests;scope"), ("bo", "fail", "")]),
    ("org__a-3", "alpha", "fail", [("ana", "pass", ""), ("bo", "fail", "")]),  # a tie: unlabelled
    ("org__a-4", "alpha", "error", [("ana", "fail", "")]),
    ("org__a-5", "alpha", "pass", [("ana", "pass", ""), ("bo", "unsure", "")]),
    ("org__a-6", "alpha", "fail", []),
    ("org__a-7", "alpha", "pass", []),
    ("org__b-1", "beta", "pass", [("ana", "fail", ""), ("bo", "fail", ""), ("cy", "pass", "")]),
    ("org__b-2", "beta", "fail", [("ana", "pass", ""), ("bo", "pass", "")]),
    ("org__b-3", "beta", "unknown", [("ana", "pass", "")]),
    ("org__b-4", "beta", "fail", [("cy", "fail", "")]),
    ("org__b-5", "beta", "pass", [("cy", "pass", "")]),
    ("org__b-6", "beta", "fail", []),
]


def write_graded_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["task_id", "model", "auto_verdict", "human_verdict", "reviewer", "tags", "input_cost_usd", "benchmark"]
        )
        for task, model, verifier, verdicts in ROWS:
            for reviewer, verdict, tags in verdicts or [("", "", "")]:
                writer.writerow([task, model, verifier, verdict.upper(), reviewer, tags, "0.25", "verified"])


def db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def import_csv(engine: Engine, path: Path) -> None:
    # The importer's bulk mode on SQLite needs the file to itself: close the fixture's pooled connections.
    engine.dispose()
    result = CliRunner().invoke(app, ["import", "csv", str(path), "--db", db_url(engine)])
    assert result.exit_code == 0, result.output


def run_json(*args: str) -> dict:
    result = CliRunner().invoke(app, [*args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_graded_csv_in_stats_json_out(engine: Engine, tmp_path: Path) -> None:
    graded = tmp_path / "graded.csv"
    write_graded_csv(graded)
    import_csv(engine, graded)

    report = run_json("stats", "--json", "--db", db_url(engine))
    overall = report["overall"]
    # Labelled with a verifier verdict: a-1 pp, a-2 pf, a-4 ff (error = fail), a-5 pp, b-1 pf, b-2 fp, b-4 ff, b-5 pp.
    assert overall["n"] == 8 and overall["n_items"] == 13
    assert overall["table"] == {
        "auto_pass_human_pass": 3,
        "auto_pass_human_fail": 2,
        "auto_fail_human_pass": 1,
        "auto_fail_human_fail": 2,
    }
    assert overall["n_unknown_verifier"] == 1 and overall["n_unlabelled"] == 4
    low, high = proportion_confint(2, 5, method="wilson")
    accepts = overall["false_accept_given_auto_pass"]
    assert (accepts["count"], accepts["n"], accepts["value"]) == (2, 5, 0.4)
    assert abs(accepts["ci_low"] - low) < 1e-12 and abs(accepts["ci_high"] - high) < 1e-12
    assert abs(overall["total_cost"] - 8 * 0.25) < 1e-12
    assert abs(overall["cost_per_human_pass"] - 2.0 / 4) < 1e-12
    assert set(report["by_model"]) == {"alpha", "beta"}
    alpha = report["by_model"]["alpha"]["population"]
    # alpha: verifier pass 4 patches, 3 audited, 2 human passes; verifier fail (fail + error) 3 patches, 1 audited.
    assert alpha["N"] == 7 and abs(alpha["estimate"] - (4 / 7 * 2 / 3 + 3 / 7 * 0)) < 1e-12
    assert alpha["se"] is None and alpha["reason"].startswith("CI n/a: stratum alpha / verifier fail")
    assert report["overall"]["human_agreement"]["n_raters"] == 3

    by_tag = run_json("stats", "--json", "--by", "tag", "--db", db_url(engine))["by"]["groups"]
    assert by_tag["tests"]["n"] == 2 and by_tag["scope"]["n"] == 1
    only_beta = run_json("stats", "--json", "--model", "beta", "--db", db_url(engine))
    assert set(only_beta["by_model"]) == {"beta"} and only_beta["overall"]["n"] == 4


def test_verdicts_recorded_in_the_store_reach_stats(engine: Engine, tmp_path: Path) -> None:
    graded = tmp_path / "graded.csv"
    write_graded_csv(graded)
    import_csv(engine, graded)
    before = run_json("stats", "--json", "--db", db_url(engine))["overall"]
    # Settle the a-3 tie by adjudication, retract one of a-5's verdicts, grade a-6 in session 7.
    ids = _patch_ids(engine)
    with write_transaction(engine) as conn:
        insert_verdict(conn, patch_id=ids["org__a-3"], reviewer="lead", verdict="pass", source="adjudication")
    record_verdict(engine, patch_id=ids["org__a-5"], reviewer="ana", verdict="retracted")
    record_verdict(engine, patch_id=ids["org__a-6"], reviewer="cy", verdict="fail", session_id=7)
    after = run_json("stats", "--json", "--db", db_url(engine))["overall"]
    assert after["table"]["auto_fail_human_pass"] == before["table"]["auto_fail_human_pass"] + 1
    assert after["table"]["auto_pass_human_pass"] == before["table"]["auto_pass_human_pass"] - 1
    assert after["table"]["auto_fail_human_fail"] == before["table"]["auto_fail_human_fail"] + 1
    session = run_json("stats", "--json", "--session", "7", "--db", db_url(engine))
    assert session["overall"]["n"] == 1 and session["overall"]["population"]["N"] == 12
    groups = run_json("stats", "--json", "--by", "session", "--db", db_url(engine))["by"]["groups"]
    assert set(groups) == {"7", "no session"}
    text = CliRunner().invoke(app, ["stats", "--db", db_url(engine)])
    assert text.exit_code == 0 and "Leaderboard" in text.stdout and "nan" not in text.stdout.lower()
    plan = run_json("plan", "--half-width", "0.2", "--json", "--db", db_url(engine))
    assert set(plan["by_model"]) == {"alpha", "beta"}


def _patch_ids(engine: Engine) -> dict[str, int]:
    from sqlalchemy import select

    from grader.core.store.models import Task

    p, t = Patch.__table__, Task.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.instance_id, p.c.id).select_from(p.join(t, t.c.id == p.c.task_id)))
        # alpha's patches are the a-* tasks, so instance ids are unique here.
        return {instance: int(pid) for instance, pid in rows}

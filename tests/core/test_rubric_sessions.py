"""Rubrics in audit sessions and on the command line: `session create --rubric`, answers given in the session,
design-weighted shares by the session's own design, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from grader.cli import app
from grader.core.audit.assignment import claim_next
from grader.core.audit.rubric_review import session_rubric
from grader.core.audit.session_verdicts import submit_session_verdict
from grader.core.audit.sessions import get_session
from grader.core.audit.synthetic import add_synthetic_patches
from grader.core.stats.rubric_scope import rubric_figures
from grader.core.stats.session import load_session_design
from grader.core.store.rubric_answers import GivenAnswers

LABELS = Path(__file__).resolve().parent.parent / "data" / "labels"


def _invoke(engine: Engine, *args: str) -> tuple[int, str]:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, [*args, "--db", url], env={"GRADER_REVIEWER": "lead"})
    return result.exit_code, result.output


def test_a_session_asks_its_rubric_and_weighs_the_shares_by_its_design(sqlite_engine: Engine) -> None:
    add_synthetic_patches(sqlite_engine, 60, models=2, seed=5)
    code, output = _invoke(
        sqlite_engine, "session", "create", "r1", "--per-stratum", "3", "--strata", "model,verdict",
        "--rubric", "verifier-audit", "--json",
    )  # fmt: skip
    assert code == 0, output
    assert json.loads(output)["rubric"]["name"] == "verifier-audit"
    info = get_session(sqlite_engine, "r1")
    asked = session_rubric(sqlite_engine, info.id)
    assert asked is not None and asked.rubric.name == "verifier-audit"
    # Label each sampled patch "cheated" when its verifier passed it, else "incorrect".
    design = load_session_design(sqlite_engine, info.id)
    while (patch_id := claim_next(sqlite_engine, info.id, "ana")) is not None:
        with sqlite_engine.connect() as conn:
            verifier = conn.exec_driver_sql("SELECT verifier_verdict FROM patch WHERE id = ?", (patch_id,)).scalar()
        label = "cheated" if verifier == "pass" else "incorrect"
        submit_session_verdict(
            sqlite_engine, session_id=info.id, patch_id=patch_id, reviewer="ana", verdict="fail",
            answers=GivenAnswers(asked.rubric_id, {"label": label, "reason": "x"}),
        )  # fmt: skip
    figures = rubric_figures(sqlite_engine, session_id=info.id)
    question = figures["rubric"]["verifier-audit"]["questions"][0]
    cheated = next(o for o in question["options"] if o["value"] == "cheated")
    # By hand: the frame's share of verifier-pass patches (every sampled one of them is "cheated").
    passes = sum(n for key, n in design.populations.items() if json.loads(key)["verdict"] == "pass")
    total = sum(n for key, n in design.populations.items() if json.loads(key)["verdict"] in ("pass", "fail", "error"))
    assert cheated["population"]["overall"]["estimate"] == passes / total
    assert cheated["population"]["overall"]["design"]["strata"] == ["model", "verdict"]
    # The answers are exported with the session's verdicts.
    code, output = _invoke(sqlite_engine, "export", "--session", "r1", "--format", "jsonl")
    assert code == 0
    assert {json.loads(line)["verifier-audit:label"] for line in output.splitlines()} == {"cheated", "incorrect"}


def test_command_line_errors_are_one_line(sqlite_engine: Engine, tmp_path: Path) -> None:
    add_synthetic_patches(sqlite_engine, 8, models=2, seed=1)
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\n\n[[question]]\nid = "q"\nprompt = "?"\nkind = "scale"\n')
    code, output = _invoke(sqlite_engine, "session", "create", "s", "--size", "4", "--rubric", str(broken))
    assert code == 1
    assert (
        output.strip()
        == f"grader: {broken}:6: question 1: q: `kind` must be one of single, ordinal, multi, text, not 'scale'"
    )
    assert "s" not in [
        row["name"] for row in json.loads(_invoke(sqlite_engine, "session", "list", "--json")[1])["sessions"]
    ]
    bad_labels = tmp_path / "labels.csv"
    bad_labels.write_text(
        (LABELS / "openai_verified_annotations.csv").read_text().replace("acme__t-2,1.0,", "acme__t-2,7.0,")
    )
    code, output = _invoke(sqlite_engine, "import", "labels", str(bad_labels), "--as", "openai-verified")
    assert code == 1
    assert output.splitlines()[0] == f"grader: {bad_labels}:4: column 'underspecified': '7' is not one of 0, 1, 2, 3"
    code, output = _invoke(sqlite_engine, "stats", "--where", "nosuch>=1")
    assert code == 1 and output.count("\n") == 1 and "no question 'nosuch'" in output
    code, output = _invoke(sqlite_engine, "stats", "--against", "openai-verified")
    assert code == 1 and "grader import labels" in output


def test_review_refuses_a_rubric_other_than_the_sessions(sqlite_engine: Engine) -> None:
    add_synthetic_patches(sqlite_engine, 8, models=2, seed=1)
    code, output = _invoke(sqlite_engine, "session", "create", "s", "--size", "4", "--rubric", "patchdiff")
    assert code == 0, output
    code, output = _invoke(sqlite_engine, "review", "--session", "s", "--reviewer", "ana", "--rubric", "verifier-audit")
    assert code == 1
    assert output.strip() == "grader: session s asks rubric patchdiff; --rubric verifier-audit is a different one"
    code, output = _invoke(sqlite_engine, "review", "--reviewer", "ana", "--rubric", "no-such-rubric")
    assert code == 1 and output.startswith("grader: no-such-rubric: no rubric file or built-in rubric by that name")

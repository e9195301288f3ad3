"""Gold items: marks by a lead (CLI), gold mixed into each reviewer's session queue, reviewers' accuracy."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

from grader.cli import app
from grader.core.audit.assignment import claim_next, session_progress
from grader.core.audit.gold import gold_answers, list_gold, mark_gold, withdraw_gold
from grader.core.audit.sampling import SampleSpec
from grader.core.audit.session_verdicts import submit_session_verdict
from grader.core.audit.sessions import create_session, session_patches, stratum_sizes
from grader.core.audit.synthetic import add_synthetic_patches
from grader.core.stats.gold_accuracy import reviewer_accuracies
from grader.core.stats.session import design_estimate, load_session_design
from grader.core.store.models import GoldAnswer, Patch, Reviewer, SessionAssignment, SessionItem, Submission, Task
from grader.core.store.verdicts import record_verdict


def _run(engine: Engine, *args: str, code: int = 0) -> str:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, [*args, "--db", url], env={"GRADER_REVIEWER": "lead"})
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.stderr


def _patch_keys(engine: Engine) -> dict[int, tuple[str, str]]:
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    query = select(p.c.id, t.c.instance_id, s.c.name).select_from(
        p.join(s, s.c.id == p.c.submission_id).join(t, t.c.id == p.c.task_id)
    )
    with engine.connect() as conn:
        return {int(i): (task, model) for i, task, model in conn.execute(query)}


def test_gold_add_import_list_remove(engine: Engine, tmp_path: Path) -> None:
    add_synthetic_patches(engine, 40, models=2, seed=3)
    keys = _patch_keys(engine)
    by_key = {v: k for k, v in keys.items()}
    first = min(keys)
    _run(engine, "gold", "add", str(first), "--answer", "pass", "--note", "obvious")
    _run(engine, "gold", "add", "--task", "synth__repo-2", "--model", "model-1", "--answer", "FAIL")
    listed = json.loads(_run(engine, "gold", "list", "--json"))
    assert {(e["task_id"], e["model"], e["answer"]) for e in listed} == {
        (*keys[first], "pass"),
        ("synth__repo-2", "model-1", "fail"),
    }
    assert next(e for e in listed if e["patch_id"] == first)["note"] == "obvious"
    assert {e["marked_by"] for e in listed} == {"lead"}
    # A correction supersedes; a removal withdraws; both keep the history (append-only rows).
    _run(engine, "gold", "add", str(first), "--answer", "fail")
    assert {e.patch_id: e.answer for e in list_gold(engine)}[first] == "fail"
    _run(engine, "gold", "remove", str(first))
    assert first not in {e.patch_id for e in list_gold(engine)}
    with engine.connect() as conn:
        assert (
            conn.execute(select(GoldAnswer.__table__.c.answer).order_by(GoldAnswer.__table__.c.id)).scalars().all()[-1]
            == "withdrawn"
        )
    assert "not a gold item" in _run(engine, "gold", "remove", str(first), code=1)
    assert "pass or fail" in _run(engine, "gold", "add", str(first), "--answer", "maybe", code=1)
    assert "no patch of model" in _run(
        engine, "gold", "add", "--task", "nope", "--model", "model-1", "--answer", "pass", code=1
    )
    assert "synth__repo-2  model-1" in _run(engine, "gold", "list")
    # Import: a transaction; a bad row names file and line, and nothing of the file is kept.
    good = tmp_path / "gold.csv"
    good.write_text(
        "task_id,model,answer,benchmark,note\n"
        "synth__repo-3,model-0,pass,synthetic,seen it\n"
        "synth__repo-4,model-1,fail,,\n"
        'synth__repo-2,model-1,fail,,""\n'
    )
    out = _run(engine, "gold", "import", str(good))
    assert "added 2 gold answers" in out
    answers = {keys[e.patch_id]: e.answer for e in list_gold(engine)}
    assert answers == {
        ("synth__repo-2", "model-1"): "fail",
        ("synth__repo-3", "model-0"): "pass",
        ("synth__repo-4", "model-1"): "fail",
    }
    assert json.loads(_run(engine, "gold", "import", str(good), "--json"))["unchanged"] == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("task_id,model,answer\nsynth__repo-5,model-0,pass\nsynth__repo-6,model-9,fail\n")
    message = _run(engine, "gold", "import", str(bad), code=1)
    assert f"{bad}:3" in message and "model-9" in message
    bad.write_text("task_id,model,answer\nsynth__repo-5,model-0,pass\nsynth__repo-6,model-0,sure\n")
    assert f"{bad}:3" in _run(engine, "gold", "import", str(bad), code=1)
    bad.write_text("task_id,model\nsynth__repo-5,model-0\n")
    assert "missing column" in _run(engine, "gold", "import", str(bad), code=1)
    assert by_key[("synth__repo-5", "model-0")] not in {e.patch_id for e in list_gold(engine)}


def _mark_every_fourth_gold(engine: Engine) -> dict[int, str]:
    for patch_id in sorted(_patch_keys(engine))[::4]:
        mark_gold(engine, patch_id=patch_id, answer="pass" if patch_id % 3 else "fail", marked_by="lead")
    with engine.connect() as conn:
        return gold_answers(conn)


def _gold_slots(engine: Engine, session_id: int) -> dict[str, set[int]]:
    a, r = SessionAssignment.__table__, Reviewer.__table__
    query = select(r.c.name, a.c.patch_id).select_from(a.join(r, r.c.id == a.c.reserved_for))
    out: dict[str, set[int]] = {}
    with engine.connect() as conn:
        for name, patch_id in conn.execute(query.where(a.c.session_id == session_id)):
            out.setdefault(name, set()).add(int(patch_id))
    return out


def _claim_round_robin(engine: Engine, session_id: int, reviewers: list[str]) -> dict[str, list[int]]:
    claimed: dict[str, list[int]] = {r: [] for r in reviewers}
    active = list(reviewers)
    while active:
        for reviewer in list(active):
            patch_id = claim_next(engine, session_id, reviewer)
            if patch_id is None:
                active.remove(reviewer)
                continue
            claimed[reviewer].append(patch_id)
            submit_session_verdict(engine, session_id=session_id, patch_id=patch_id, reviewer=reviewer, verdict="pass")
    return claimed


def test_gold_share_mixes_gold_into_each_reviewers_queue(engine: Engine) -> None:
    add_synthetic_patches(engine, 120, models=3, seed=1)
    answers = _mark_every_fourth_gold(engine)
    reviewers = ["ana", "ben", "cy"]
    spec = SampleSpec(size=30, seed=5, overlap=2, reviewers=tuple(reviewers), gold_share=0.2)
    session = create_session(engine, "g", spec)
    sample = {p.patch_id for p in session_patches(engine, session.id)}
    assert len(sample) == 30
    assert sum(n for _, _, n in stratum_sizes(engine, session.id)) == 30
    assert session_progress(engine, session.id).items == 30
    # Each reviewer's expected queue is 30 x 2 / 3 = 20 sample items; 5 gold make 5 / 25 = 20%.
    gold = _gold_slots(engine, session.id)
    assert {r: len(g) for r, g in gold.items()} == {"ana": 5, "ben": 5, "cy": 5}
    assert all(g <= set(answers) and not g & sample for g in gold.values())
    claimed = _claim_round_robin(engine, session.id, reviewers)
    for reviewer in reviewers:
        assert set(claimed[reviewer]) - sample == gold[reviewer]  # their own gold, all of it, nobody else's
        assert len(claimed[reviewer]) == len(set(claimed[reviewer]))
    per_sample_patch = Counter(p for r in reviewers for p in claimed[r] if p in sample)
    assert set(per_sample_patch.values()) == {2} and set(per_sample_patch) == sample
    # Exports and the adjudication queue of the session hold the sample only, never the gold mixed in.
    from grader.core.audit.adjudication import session_cases
    from grader.core.audit.sessions import get_session
    from grader.core.export.graded_set import iter_export_rows

    assert {c.patch_id for c in session_cases(engine, session.id)} == sample
    exported = list(iter_export_rows(engine, include_patch=False, session=get_session(engine, "g")))
    assert len({(r["task_id"], r["model"]) for r in exported}) == len(sample)
    # Reproducible: the same spec and seed give the same sample and the same gold per reviewer.
    again = create_session(engine, "g2", spec)
    assert {p.patch_id for p in session_patches(engine, again.id)} == sample
    assert _gold_slots(engine, again.id) == gold
    other = create_session(
        engine, "g3", SampleSpec(size=30, seed=6, overlap=2, reviewers=tuple(reviewers), gold_share=0.2)
    )
    assert _gold_slots(engine, other.id) != gold
    # The report and the CLI say how many gold items each reviewer has.
    out = _run(
        engine,
        "session",
        "create",
        "g4",
        "--size",
        "30",
        "--seed",
        "5",
        "--overlap",
        "2",
        "--reviewers",
        "ana,ben,cy",
        "--gold-share",
        "0.2",
    )
    assert "gold items per reviewer: ana 5, ben 5, cy 5" in out
    shown = json.loads(_run(engine, "session", "show", "g4", "--json"))
    assert shown["gold"] == {"ana": 5, "ben": 5, "cy": 5}
    assert len(shown["patches"]) == 30
    assert "needs --reviewers" in _run(engine, "session", "create", "g5", "--size", "5", "--gold-share", "0.1", code=1)


def _grade_queue(engine: Engine, session_id: int, reviewer: str, answers: dict[int, str], judge) -> list[bool]:  # type: ignore[no-untyped-def]
    """A simulated reviewer: `judge(k, answer)` gives their verdict on their k-th gold item; sample items pass."""
    correct = []
    while (patch_id := claim_next(engine, session_id, reviewer)) is not None:
        verdict = "pass"
        if patch_id in answers:
            verdict = judge(len(correct), answers[patch_id])
            correct.append(verdict == answers[patch_id])
        submit_session_verdict(engine, session_id=session_id, patch_id=patch_id, reviewer=reviewer, verdict=verdict)
    return correct


def _flip(answer: str) -> str:
    return "fail" if answer == "pass" else "pass"


def test_reviewer_accuracy_on_gold_with_drift_and_flag(engine: Engine) -> None:
    add_synthetic_patches(engine, 200, models=4, seed=2)
    answers = _mark_every_fourth_gold(engine)
    spec = SampleSpec(size=40, seed=3, overlap=1, reviewers=("ana", "ben"), gold_share=0.3)
    session = create_session(engine, "acc", spec)
    sample = {p.patch_id for p in session_patches(engine, session.id)}
    gold_in_queue = {r: g for r, g in _gold_slots(engine, session.id).items()}
    assert {r: len(g) for r, g in gold_in_queue.items()} == {"ana": 9, "ben": 9}  # round(0.3 x 20 / 0.7)
    # Sampled patches that are gold too would count (a verdict on a gold patch is one); withdraw their marks
    # so that only the gold mixed into the queues is graded here.
    for patch_id in set(answers) & sample:
        withdraw_gold(engine, patch_id=patch_id, marked_by="lead")
    queue_answers = {p: a for p, a in answers.items() if p not in sample}
    # ana is right on her first 6 gold items and wrong on the last 3; ben is unsure once, else right.
    ana = _grade_queue(engine, session.id, "ana", queue_answers, lambda k, a: a if k < 6 else _flip(a))
    ben = _grade_queue(engine, session.id, "ben", queue_answers, lambda k, a: "unsure" if k == 4 else a)
    assert ana == [True] * 6 + [False] * 3
    assert len(ben) == 9
    rows = {row.reviewer: row for row in reviewer_accuracies(engine, session_id=session.id)}
    assert (rows["ana"].accuracy.count, rows["ana"].accuracy.n) == (6, 9)
    low, high = proportion_confint(6, 9, alpha=0.05, method="wilson")
    assert rows["ana"].accuracy.ci_low == pytest.approx(low) and rows["ana"].accuracy.ci_high == pytest.approx(high)
    assert (rows["ana"].first_third.count, rows["ana"].first_third.n) == (3, 3)
    assert (rows["ana"].last_third.count, rows["ana"].last_third.n) == (0, 3)
    low, high = proportion_confint(0, 3, alpha=0.05, method="wilson")
    assert rows["ana"].last_third.ci_low == pytest.approx(0.0, abs=1e-12)
    assert rows["ana"].last_third.ci_high == pytest.approx(high)
    assert rows["ana"].flagged and "0.67" in (rows["ana"].reason or "")
    # Unsure is not correct and counts in n.
    assert (rows["ben"].accuracy.count, rows["ben"].accuracy.n) == (8, 9)
    assert not rows["ben"].flagged and rows["ben"].reason is None
    assert rows["ben"].accuracy.value == pytest.approx(8 / 9)
    # A verdict outside the session on a gold patch counts without --session, not with it.
    outside = min(set(queue_answers) - gold_in_queue["ana"])
    record_verdict(engine, patch_id=outside, reviewer="ana", verdict=_flip(queue_answers[outside]))
    everywhere = {row.reviewer: row for row in reviewer_accuracies(engine)}
    assert (everywhere["ana"].accuracy.count, everywhere["ana"].accuracy.n) == (6, 10)
    assert {row.reviewer: row.accuracy.n for row in reviewer_accuracies(engine, session_id=session.id)}["ana"] == 9
    # A stricter threshold flags ben too.
    assert {row.reviewer: row.flagged for row in reviewer_accuracies(engine, threshold=0.9)} == {
        "ana": True,
        "ben": True,
    }
    # `grader stats --json` carries them under `reviewers`; the text output shows them and the flag.
    report = json.loads(_run(engine, "stats", "--session", "acc", "--json"))
    by_name = {row["reviewer"]: row for row in report["reviewers"]}
    assert by_name["ana"]["accuracy"]["count"] == 6 and by_name["ana"]["accuracy"]["n"] == 9
    assert by_name["ana"]["drift"]["last_third"]["count"] == 0
    assert by_name["ana"]["flagged"] is True and by_name["ben"]["flagged"] is False
    whole = json.loads(_run(engine, "stats", "--json", "--gold-threshold", "0.5"))
    assert {row["reviewer"]: row["accuracy"]["n"] for row in whole["reviewers"]} == {"ana": 10, "ben": 9}
    assert not any(row["flagged"] for row in whole["reviewers"])
    text = _run(engine, "stats", "--session", "acc")
    assert "Reviewers on gold items" in text and "below the threshold 0.80" in text


def test_gold_items_leave_the_session_estimates_unchanged(engine: Engine) -> None:
    add_synthetic_patches(engine, 160, models=4, seed=4)
    answers = _mark_every_fourth_gold(engine)

    def human(patch_id: int) -> str:
        return "pass" if patch_id % 5 < 3 else "fail"

    def grade(session_id: int, reviewers: tuple[str, ...]) -> None:
        for reviewer in reviewers:
            while (patch_id := claim_next(engine, session_id, reviewer)) is not None:
                # Gold items are answered wrongly on purpose: they must not move the estimate.
                verdict = _flip(answers[patch_id]) if patch_id in answers and _is_gold(session_id, patch_id) else None
                submit_session_verdict(
                    engine,
                    session_id=session_id,
                    patch_id=patch_id,
                    reviewer=reviewer,
                    verdict=verdict or human(patch_id),
                )

    def _is_gold(session_id: int, patch_id: int) -> bool:
        i = SessionItem.__table__
        with engine.connect() as conn:
            return bool(
                conn.execute(select(i.c.gold).where(i.c.session_id == session_id, i.c.patch_id == patch_id)).scalar()
            )

    plain = create_session(engine, "plain", SampleSpec(size=40, seed=8, reviewers=("a1", "a2")))
    mixed = create_session(engine, "mixed", SampleSpec(size=40, seed=8, reviewers=("b1", "b2"), gold_share=0.25))
    assert sum(len(g) for g in _gold_slots(engine, mixed.id).values()) > 0
    grade(plain.id, ("a1", "a2"))
    grade(mixed.id, ("b1", "b2"))
    without, with_gold = load_session_design(engine, plain.id), load_session_design(engine, mixed.id)
    assert with_gold.populations == without.populations
    assert sorted(with_gold.units, key=repr) == sorted(without.units, key=repr)
    assert len(with_gold.units) == 40
    assert design_estimate(with_gold) == design_estimate(without)
    for model in ("model-0", "model-2"):
        assert design_estimate(with_gold, models={model}) == design_estimate(without, models={model})
    shown = [json.loads(_run(engine, "stats", "--session", name, "--json")) for name in ("plain", "mixed")]
    figures = [{k: v for k, v in r["overall"]["population"].items() if k != "design"} for r in shown]
    assert figures[0] == figures[1] and figures[0]["estimate"] is not None
    # The session's agreement figures leave gold items out too (their verdicts were wrong on purpose).
    plain_report, mixed_report = (_without_design(r) for r in shown)
    assert plain_report["overall"] == mixed_report["overall"]
    assert plain_report["by_model"] == mixed_report["by_model"]


def _without_design(value: Any) -> Any:
    """The report without its `design` blocks (they name the session)."""
    if isinstance(value, dict):
        return {k: _without_design(v) for k, v in value.items() if k != "design"}
    if isinstance(value, list):
        return [_without_design(v) for v in value]
    return value


def test_gold_import_skips_a_row_with_too_many_cells_only_when_asked(engine: Engine, tmp_path: Path) -> None:
    from grader.core.audit.gold import import_gold
    from grader.core.importers.common import BadInput

    add_synthetic_patches(engine, 10, models=2, seed=3)
    path = tmp_path / "gold.csv"
    path.write_text("task_id,model,answer\nsynth__repo-1,model-0,pass\nsynth__repo-2,model-0,fail,oops\n")
    with pytest.raises(BadInput) as caught:
        import_gold(path, engine)
    assert caught.value.line == 3 and "more cells" in caught.value.problem
    assert list_gold(engine) == []
    report = import_gold(path, engine, skip_bad=True)
    assert report.added == {"gold answers": 1}
    assert [s.line for s in report.skipped] == [3]
    path.write_text("task_id,model,answer\n,model-0,pass\nsynth__repo-3,model-0,pass\nsynth__repo-3,model-0,fail\n")
    report = import_gold(path, engine, skip_bad=True)
    assert [s.line for s in report.skipped] == [2, 4]  # each bad row listed once, and not imported
    assert {keys: e.answer for e in list_gold(engine) for keys in [_patch_keys(engine)[e.patch_id]]} == {
        ("synth__repo-1", "model-0"): "pass",
        ("synth__repo-3", "model-0"): "pass",
    }

"""The rubric on the review screen: number keys answer in order, a required question blocks the verdict with a
one-line notice, answers are committed with the verdict, published labels appear only after it (blind), and
questions asked after the verdict keep the patch on screen until answered."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select

from grader.core.audit.review import QueueFilter
from grader.core.audit.rubric_review import ReviewRubric, prepare_rubric
from grader.core.importers.labels import import_labels
from grader.core.importers.rubrics import load_rubric
from grader.core.store.models import RubricAnswer, Verdict
from grader.tui.app import GraderApp
from grader.tui.screens.review import ReviewScreen

from .review_helpers import review_store, screen_text, settle, wait_until

VERIFIED = QueueFilter(benchmarks=("swe-bench-verified",))


def _app(engine: Engine, rubric: ReviewRubric, *, blind: bool = True, filters: QueueFilter = VERIFIED) -> GraderApp:
    return GraderApp(engine, reviewer="ana", blind=blind, filters=filters, colour_budget=None, review_rubric=rubric)


def _rows(engine: Engine) -> list[tuple[int, str, dict[str, str]]]:
    v, a = Verdict.__table__, RubricAnswer.__table__
    with engine.connect() as conn:
        verdicts = conn.execute(select(v.c.id, v.c.verdict).order_by(v.c.id)).all()
        answers = conn.execute(select(a.c.verdict_id, a.c.question, a.c.value)).all()
    return [(vid, verdict, {q: val for v_id, q, val in answers if v_id == vid}) for vid, verdict in verdicts]


async def test_a_required_question_blocks_the_verdict_then_answers_go_with_it(tmp_path: Path) -> None:
    engine = review_store(tmp_path / "g.db")
    rubric = prepare_rubric(engine, load_rubric("swebench-verified"))
    app = _app(engine, rubric)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        first = screen.shown_patch_id
        await pilot.press("p")
        await pilot.pause(0.1)
        assert _rows(engine) == []  # nothing committed
        notices = [n.message for n in app._notifications]
        assert notices and notices[-1].startswith("Answer first: underspec., tests reject, other issues")
        assert "\n" not in notices[-1]
        assert screen.shown_patch_id == first
        # Number keys in order: underspecified 2, tests 0, other issues 1 ("yes"), difficulty key 2 (15 min - 1 h).
        await pilot.press("2", "0", "1", "2")
        await settle(pilot)
        assert "2 vague" in screen_text(app)
        await pilot.press("f")
        await wait_until(pilot, lambda: screen._pending_saves == 0)
        await settle(pilot)
        assert screen.shown_patch_id != first
    rows = _rows(engine)
    assert len(rows) == 1
    assert rows[0][1] == "fail"
    assert rows[0][2] == {
        "underspecified": "2",
        "false_negative": "0",
        "other_major_issues": "1",
        "difficulty": "15m-1h",
    }


async def test_published_labels_show_only_after_the_reviewers_verdict(tmp_path: Path) -> None:
    engine = review_store(tmp_path / "g.db")
    labels = tmp_path / "openai.csv"
    header = (
        "instance_id,underspecified,underspecified_notes,false_negative,false_negative_notes,other_major_issues,"
        "other_notes,difficulty,underspecified_decided_by,false_negative_decided_by,other_major_issues_decided_by,"
        "difficulty_decided_by,difficulty_ensemble_decision_procedure,filter_out"
    )
    rows = [f"acme__calc-{n},3.0,,2.0,,0.0,,>4 hours,1,1,1,[1],majority,True" for n in (1, 2, 3, 4)]
    labels.write_text("\n".join([header, *rows]) + "\n")
    import_labels(engine, labels, rater="openai-verified")
    rubric = prepare_rubric(engine, load_rubric("swebench-verified"))
    app = _app(engine, rubric)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert "openai-verified" not in screen_text(app)
        await pilot.press("0", "1", "0")
        await settle(pilot)
        assert "openai-verified" not in screen_text(app)  # answered, but no verdict yet
        await pilot.press("p")
        await wait_until(pilot, lambda: screen._pending_saves == 0)
        await pilot.press("comma")  # back to the graded patch
        await settle(pilot)
        text = screen_text(app)
        assert "openai-verified: 3 imp" in text and "openai-verified: >4" in text
    # An open (not blind) review may show them at once.
    app = _app(engine, rubric, blind=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "openai-verified" in screen_text(app)


async def test_questions_after_the_verdict_keep_the_patch_until_answered(tmp_path: Path) -> None:
    engine = review_store(tmp_path / "g.db")
    rubric = prepare_rubric(engine, load_rubric("swebench-plus"))
    app = _app(engine, rubric)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        first = screen.shown_patch_id
        assert "(after)" in screen_text(app)
        await pilot.press("1", "p")  # solution leaked: no; then pass
        await wait_until(pilot, lambda: screen._pending_saves == 0)
        await settle(pilot)
        assert screen.shown_patch_id == first  # the weak-tests question is open now
        assert "Verifier says" in screen_text(app)
        await pilot.press("2")  # weak tests: yes
        await wait_until(pilot, lambda: screen._pending_saves == 0)
        await settle(pilot)
        assert screen.shown_patch_id != first
    rows = _rows(engine)
    assert [verdict for _, verdict, _ in rows] == ["pass", "pass"]
    assert rows[0][2] == {"solution_leaked": "no"}
    assert rows[1][2] == {"solution_leaked": "no", "weak_tests": "yes"}  # every answer with each row


async def test_task_answers_carry_to_another_patch_of_the_task(tmp_path: Path) -> None:
    engine = review_store(tmp_path / "g.db")
    rubric = prepare_rubric(engine, load_rubric("swebench-verified"))
    app = _app(engine, rubric, filters=QueueFilter())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.view is not None and screen.queue is not None
        task = screen.view.instance_id
        await pilot.press("1", "1", "0", "p")
        await wait_until(pilot, lambda: screen._pending_saves == 0)
        for _ in range(len(screen.queue.patch_ids)):
            await settle(pilot)
            assert screen.view is not None
            if screen.view.instance_id == task and screen.view.mine is None:
                break
            await pilot.press("full_stop")
        assert screen.view.instance_id == task
        assert dict(screen.view.rubric_answers) == {
            "underspecified": "1",
            "false_negative": "1",
            "other_major_issues": "0",
        }
    assert json.dumps(_rows(engine)[0][2], sort_keys=True)

"""The side panels with long names: the verdict lines and the save state stay visible at 80x24 and 120x40."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from textual.widget import Widget

from grader.core.audit.review import PSEUDONYM_SALT_KEY
from grader.core.importers.swebench import import_swebench
from grader.core.store.db import make_engine
from grader.core.store.models import Meta
from grader.tui.app import GraderApp
from grader.tui.screens.review import ReviewScreen
from grader.tui.widgets.panels import LastPanel, MinePanel, VerifierPanel

from .review_helpers import screen_text, settle, wait_until

LONG_MODEL = "20240918_lingma-agent_lingma-swe-gpt-7b"
LONG_INSTANCE = "scikit-learn__scikit-learn-9288"
PATCH = (
    "diff --git a/sklearn/cluster/k_means_.py b/sklearn/cluster/k_means_.py\n"
    "--- a/sklearn/cluster/k_means_.py\n"
    "+++ b/sklearn/cluster/k_means_.py\n"
    "@@ -363,3 +363,3 @@ def k_means(X, n_clusters):\n"
    "     best_labels, best_inertia, best_centers = None, None, None\n"
    "-    seeds = random_state.randint(np.iinfo(np.int32).max, size=n_init)\n"
    "+    seeds = random_state.randint(np.iinfo(np.int32).max, size=n_init, dtype=np.int64)\n"
    "     if effective_n_jobs(n_jobs) == 1:\n"
)


def long_name_store(tmp_path: Path) -> Engine:
    """Two submissions with long names, each with the same patch on a long instance id, one resolved."""
    for model in (LONG_MODEL, "20240620_sweagent_claude3.5sonnet_with_a_long_suffix"):
        folder = tmp_path / "verified" / model
        folder.mkdir(parents=True)
        rows = [
            {
                "instance_id": instance,
                "model_name_or_path": model,
                "model_patch": PATCH,
                "input_tokens": 1_234_567,
                "output_tokens": 23_456,
                "input_cost_usd": 1.5,
                "output_cost_usd": 0.25,
            }
            for instance in (LONG_INSTANCE, "django__django-11099")
        ]
        (folder / "all_preds.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
        ids = [LONG_INSTANCE, "django__django-11099"]
        results = {"generated": ids, "applied": ids, "resolved": ["django__django-11099"]}
        (folder / "results.json").write_text(json.dumps(results))
    engine = make_engine(f"sqlite:///{tmp_path / 'long.db'}")
    with engine.begin() as conn:
        conn.execute(Meta.__table__.insert().values(key=PSEUDONYM_SALT_KEY, value="test-salt"))
    import_swebench(engine, tmp_path / "verified")
    return engine


def _agreement(mine: str, verifier: str) -> str:
    return "agree" if (mine == "pass") == (verifier == "pass") else "DISAGREE"


def shown_in(app: GraderApp, widget: Widget) -> str:
    """The text of the screen inside a widget's region: what of it the reviewer can actually see."""
    region = widget.region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("blind", [False, True], ids=["open", "blind"])
async def test_verdict_lines_stay_visible_with_long_names(tmp_path: Path, size: tuple[int, int], blind: bool) -> None:
    app = GraderApp(long_name_store(tmp_path), reviewer="qa", blind=blind, colour_budget=None)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.view is not None
        for _ in range(2):  # one patch the verifier failed, one it passed: agree and DISAGREE
            graded = screen.view
            assert graded is not None
            expected = _agreement("fail", graded.verifier_verdict)
            await pilot.press("f")
            await settle(pilot)
            # The Last panel shows your verdict, the verifier's, the agreement and "saved ✓".
            last = shown_in(app, screen.query_one(LastPanel))
            assert f"You FAIL · Verifier {graded.verifier_verdict.upper()}" in last
            assert expected in last and "saved ✓" in last, last
            assert "9288" in last or "11099" in last, last  # the instance's number, if not all of its id
        # Back on a graded patch: the Verifier panel's "You said … agree/DISAGREE" line and your saved verdict.
        await pilot.press("comma")
        await wait_until(pilot, lambda: screen.view is not None and screen.view.mine is not None)
        await settle(pilot)
        assert screen.view is not None
        expected = _agreement("fail", screen.view.verifier_verdict)
        verifier = shown_in(app, screen.query_one(VerifierPanel))
        assert f"Verifier says {screen.view.verifier_verdict.upper()}" in verifier, verifier
        assert f"You said FAIL  {expected}" in verifier, verifier
        mine = shown_in(app, screen.query_one(MinePanel))
        assert "Your verdict: FAIL" in mine and "saved ✓" in mine, mine

"""What the review screen is given to show for each kind of patch (grader/core/audit/review.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from grader.core.audit.review import load_patch_view
from grader.core.importers.swebench import import_swebench
from grader.core.store.models import Patch, Submission, Task


def test_each_kind_of_patch_shows_its_diff_or_all_its_text(sqlite_engine: Engine, data_dir: Path) -> None:
    import_swebench(sqlite_engine, data_dir / "subs")
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    with sqlite_engine.connect() as conn:
        rows = conn.execute(
            select(p.c.id, p.c.patch_kind, p.c.raw_patch, p.c.diff_text)
            .join(s, s.c.id == p.c.submission_id)
            .join(t, t.c.id == p.c.task_id)
        ).all()
    kinds = {row.patch_kind: row for row in rows}
    assert {"diff", "extracted", "no_diff", "empty", "null"} <= kinds.keys()
    shown = {kind: load_patch_view(sqlite_engine, row.id, "ana", {}).diff for kind, row in kinds.items()}
    assert shown["no_diff"] == kinds["no_diff"].raw_patch  # prose with no diff in it: all of it, shown inert
    assert shown["extracted"] == kinds["extracted"].diff_text and "```" not in shown["extracted"]
    assert shown["diff"] == kinds["diff"].raw_patch
    assert shown["empty"] == "" and shown["null"] == ""

"""Regenerate sample_data/graded.csv: the sample submissions graded by two reviewers, `ana` and `ben`.

The CSV is not typed by hand. This script imports tasks.jsonl and submissions/ into a throwaway SQLite
store, records each verdict below through the store API (with a fixed time and id, so the output does not
change from run to run), exports with `grader.core.export.graded_set.export_csv` and keeps the rows that carry a human
verdict. Run it after changing the submissions:

    python sample_data/make_graded.py
"""

from __future__ import annotations

import csv
import hashlib
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from grader.core.store.db import make_engine
from grader.core.export.graded_set import COLUMNS, export_csv
from grader.core.importers.swebench import import_swebench
from grader.core.importers.tasks import import_tasks
from grader.core.store.models import Patch, Submission, Task
from grader.core.store.verdicts import record_verdict

HERE = Path(__file__).resolve().parent
ALPHA, BETA, GAMMA = "20251101_alpha-agent", "20251105_beta-coder", "20251110_gamma-swe"

# (submission, task, reviewer, verdict, graded at (UTC), seconds spent, revealed before, tags, note)
VERDICTS = [
    (
        ALPHA,
        "acme__ledger-101",
        "ana",
        "pass",
        "2025-11-12T09:14:03",
        95,
        False,
        [],
        "Works in whole cents and gives the leftover cents to the first parts; sums back to the total, "
        "negative amounts too.",
    ),
    (
        ALPHA,
        "acme__ledger-101",
        "ben",
        "pass",
        "2025-11-13T14:02:51",
        70,
        False,
        [],
        "Correct. Decimal(c) / 100 keeps two places, so Money's rounding never kicks in.",
    ),
    (
        BETA,
        "acme__ledger-101",
        "ben",
        "pass",
        "2025-11-13T13:48:26",
        85,
        False,
        [],
        "Correct: hands out the leftover cents one at a time, in either direction, so negative amounts work too.",
    ),
    (
        GAMMA,
        "acme__ledger-101",
        "ana",
        "fail",
        "2025-11-12T09:31:40",
        140,
        False,
        ["special-cases-test", "overfit"],
        "Special-cases 10.00 split three ways, the exact input of the test. With ROUND_DOWN everything else loses "
        "cents: 0.05 / 3 gives 0.01 each.",
    ),
    (
        GAMMA,
        "acme__ledger-101",
        "ben",
        "fail",
        "2025-11-13T14:20:07",
        110,
        False,
        ["special-cases-test"],
        "Hard-codes the test input (see the comment pointing at the issue).",
    ),
    (GAMMA, "acme__ledger-114", "ana", "fail", "2025-11-12T09:35:12", 8, False, ["empty"], "Empty patch."),
    (
        BETA,
        "acme__ledger-114",
        "ana",
        "pass",
        "2025-11-12T10:02:26",
        180,
        False,
        ["wrapped-in-prose"],
        "The diff sits inside prose and a ```diff fence, so the harness could not apply it. The diff itself is a "
        "correct fix: groups of three are checked, 12,34.5 still raises ParseError.",
    ),
    (
        ALPHA,
        "acme__ledger-127",
        "ana",
        "fail",
        "2025-11-12T10:20:45",
        150,
        False,
        ["incomplete"],
        "Raises a bare ValueError in journal.py; the issue and the hint ask for a LedgerError subclass in "
        "ledger/errors.py, so callers catching LedgerError miss it.",
    ),
    (
        GAMMA,
        "acme__ledger-127",
        "ana",
        "fail",
        "2025-11-12T10:41:18",
        200,
        False,
        ["hostile-content", "ansi"],
        "The check itself is right, but the exception message embeds raw ANSI colour codes and the comment carries "
        "console markup ([bold red], [link=...]). Not mergeable as is.",
    ),
    (
        GAMMA,
        "acme__ledger-127",
        "ben",
        "unsure",
        "2025-11-13T15:05:33",
        160,
        True,
        ["ansi"],
        "Works, but escape codes in an exception message will garble log files. Pass if someone strips them?",
    ),
    (
        ALPHA,
        "tinyorg__httpclient-58",
        "ana",
        "pass",
        "2025-11-12T11:03:09",
        120,
        False,
        ["timeout"],
        "Correct: keeps the existing pairs, blank values and repeated keys included. The verifier's error is a "
        "test_timeout, nothing to do with the patch.",
    ),
    (
        ALPHA,
        "tinyorg__httpclient-58",
        "ben",
        "pass",
        "2025-11-13T15:22:48",
        90,
        True,
        ["timeout", "flaky"],
        "Correct; the timeout is the harness. Same text as gamma's patch, which the verifier resolved.",
    ),
    (
        BETA,
        "tinyorg__httpclient-58",
        "ana",
        "fail",
        "2025-11-12T11:26:55",
        210,
        False,
        ["regression", "weak-tests"],
        "dict(parse_qsl(query)) collapses ?tag=a&tag=b to tag=b and drops blank values like ?debug=. The test "
        "passes only because its URL has neither.",
    ),
    (
        BETA,
        "tinyorg__httpclient-58",
        "ben",
        "pass",
        "2025-11-13T15:40:12",
        75,
        False,
        [],
        "Fixes the reported case; repeated keys in a base URL are rare enough.",
    ),
    (
        ALPHA,
        "acme__webkit-ui-219",
        "ana",
        "pass",
        "2025-11-12T13:12:30",
        100,
        False,
        [],
        "UTC getters make date-only strings come out as the right day.",
    ),
    (
        ALPHA,
        "acme__webkit-ui-219",
        "ben",
        "fail",
        "2025-11-14T08:47:19",
        260,
        False,
        ["regression", "timezone"],
        "Date objects now format in UTC: new Date(2024, 0, 5) prints Jan 4 anywhere east of UTC. The hint warned "
        "about exactly this; the tests only run in Los Angeles.",
    ),
    (
        BETA,
        "acme__webkit-ui-230",
        "ben",
        "pass",
        "2025-11-14T09:10:02",
        95,
        True,
        ["flaky"],
        "Correct modulo fix. The failing test is closeAnimated's 200 ms timing check, which is flaky under load.",
    ),
    (
        GAMMA,
        "acme__webkit-ui-212",
        "ben",
        "fail",
        "2025-11-14T09:33:44",
        130,
        False,
        [],
        "Adds the scroll offset before the flip checks, so they compare page coordinates with the viewport height: "
        "an anchor near the top of a scrolled page no longer flips below.",
    ),
]


def verdict_uid(submission: str, task: str, reviewer: str) -> str:
    return hashlib.sha256(f"sample/{submission}/{task}/{reviewer}".encode()).hexdigest()[:32]


def main(out: Path = HERE / "graded.csv") -> int:
    with tempfile.TemporaryDirectory(prefix="grader-sample-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'sample.db'}")
        import_tasks(engine, HERE / "tasks.jsonl")
        import_swebench(engine, HERE / "submissions")
        p, s, t = Patch.__table__, Submission.__table__, Task.__table__
        with engine.connect() as conn:
            patch_ids = {
                (sub, iid): pid
                for pid, sub, iid in conn.execute(
                    select(p.c.id, s.c.name, t.c.instance_id)
                    .join(s, s.c.id == p.c.submission_id)
                    .join(t, t.c.id == p.c.task_id)
                )
            }
        for sub, iid, reviewer, verdict, when, seconds, revealed, tags, note in VERDICTS:
            record_verdict(
                engine,
                patch_id=patch_ids[(sub, iid)],
                reviewer=reviewer,
                verdict=verdict,
                note=note,
                tags=tags,
                seconds_spent=float(seconds),
                revealed_before=revealed,
                created_at=datetime.fromisoformat(when).replace(tzinfo=UTC),
                uid=verdict_uid(sub, iid, reviewer),
            )
        full = Path(tmp) / "all.csv"
        export_csv(engine, full)
        engine.dispose()
        # Keep the graded rows; the cells are already exported (formulas neutralised), only quoting is redone.
        with open(full, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert tuple(header) == COLUMNS, header
    graded = [row for row in body if row[header.index("human_verdict")]]
    with open(out, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *graded])
    print(f"{out}: {len(graded)} graded rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())

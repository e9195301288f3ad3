"""Patch equivalence and `grader verifier-check`: identical patches per task, and the verifier against itself."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from typer.testing import CliRunner

from grader.cli import app
from grader.core.importers.swebench import find_predictions, find_results, import_swebench
from grader.core.patches.equivalence import NOTHING, drop_whitespace_changes, normalise_patch, normalised_hash
from grader.core.patches.hash_backfill import backfill_norm_hashes
from grader.core.stats.verifier_check import consistency_report, load_groups
from grader.core.store.db import make_engine
from grader.core.store.models import Patch

A = (
    "diff --git a/x.py b/x.py\nindex 1234..5678 100644\n--- a/x.py\n+++ b/x.py\n"
    "@@ -10,2 +10,2 @@ def f():\n-    a\n+    b\n"
)


def test_normalisation_drops_what_copies_differ_in() -> None:
    moved = A.replace("@@ -10,2 +10,2 @@ def f():", "@@ -12,2 +12,2 @@").replace("index 1234..5678", "index 9..0")
    crlf = A.replace("\n", "\r\n").replace("+    b", "+    b   ")
    dated = A.replace("--- a/x.py", "--- a/x.py\t2024-01-01 00:00:00")
    assert normalise_patch(moved) == normalise_patch(A) == normalise_patch(crlf) == normalise_patch(dated)
    assert normalise_patch(A.replace("+    b", "+    c")) != normalise_patch(A)
    assert normalise_patch(A.replace("+    b", "+   b")) != normalise_patch(A)  # indentation is a change
    assert normalised_hash(None, None, "null") is None
    assert normalised_hash("", "", "empty") is None
    fenced = "Here it is:\n```diff\n" + A + "```\n"
    assert normalised_hash(fenced, A, "extracted") == normalised_hash(A, None, "diff")


def _normalise_line_by_line(text: str) -> str:
    """The normalisation as its definition reads, one line at a time: the oracle for the fast one."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.rstrip()
        if line.startswith(("index ", "diff --git ")):
            continue
        if line.startswith("@@"):
            line = "@@"
        elif line.startswith(("--- ", "+++ ")):
            line = line.split("\t", 1)[0]
        lines.append(line)
    return "\n".join(lines).strip("\n")


@pytest.mark.parametrize(
    "text",
    [
        A,
        "index 1..2\n" + A,  # a header on the first line
        A + "diff --git a/y b/y\nindex 3..4",  # on the last line, with no newline after it
        "\n\n  \n" + A + "\n \t\n\n",  # blank lines (after stripping) at both ends
        A.replace("\n", "\r\n"),
        A.replace("\n", "\r"),  # old Mac line ends
        A.replace("+    b", "+    b \t\x0b\x0c\x1c\xa0\u2003\u3000"),  # every kind of trailing whitespace
        "index \n+++ \n--- \n@@\n",  # prefixes whose space is trailing whitespace
        "indexx\n+++b\n---\tx\n@\n-@@ x\n@@@ y\n--- a\tb\tc\n+++ \tt\n",  # near misses and cut points
        "--- a/\u00e9t\u00e9.py\t2024\n+++ b/\u00e9t\u00e9.py\n@@ -1 +1 @@\n-\u00e9\n+\u00e8\n",
        "",
        "\n\n",
        "no diff at all, just prose   \nover two lines",
    ],
)
def test_fast_normalisation_gives_the_line_by_line_text(text: str) -> None:
    assert normalise_patch(text) == _normalise_line_by_line(text)


def test_fast_normalisation_on_random_patches() -> None:
    import random

    rng = random.Random(7)
    pieces = ["index ", "diff --git ", "@@", "--- ", "+++ ", "-", "+", " ", "x", "\t", " ", "\r", "\n", "\r\n", "\xa0"]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 40)))
        assert normalise_patch(text) == _normalise_line_by_line(text), repr(text)


WIDE = (
    "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -10,4 +10,4 @@ def f():\n"
    "     if ok:\n-        a = 1\n+        a = 2\n     return a\n"
)


def _loose(text: str) -> str:
    return drop_whitespace_changes(normalise_patch(text))


def test_ignoring_whitespace_groups_patches_that_differ_only_in_whitespace() -> None:
    spaced = WIDE.replace("+        a = 2", "+        a  =  2").replace("     return a\n", "     return a\n+\n")
    reindented = WIDE.replace("     return a\n", "-    return a\n+    return  a\n")  # whitespace-only change
    for other in (spaced, reindented):
        assert normalise_patch(other) != normalise_patch(WIDE)
        assert _loose(other) == _loose(WIDE)
        assert normalised_hash(other, None, "diff", ignore_whitespace=True) == normalised_hash(
            WIDE, None, "diff", ignore_whitespace=True
        )
    changed = WIDE.replace("+        a = 2", "+        a = 3")
    assert _loose(changed) != _loose(WIDE)
    moved = WIDE.replace("-        a = 1\n+        a = 2\n", "+        a = 2\n-        a = 1\n")
    assert _loose(moved) != _loose(WIDE)  # order still matters
    assert normalised_hash(None, None, "null", ignore_whitespace=True) is None
    assert normalised_hash(" \n", "", "empty", ignore_whitespace=True) is None


def test_groups_on_the_hand_written_submissions(engine: Engine, data_dir: Path) -> None:
    import_swebench(engine, data_dir / "subs")
    with engine.connect() as conn:
        hashed = conn.execute(select(func.count()).where(Patch.__table__.c.norm_hash.is_not(None))).scalar_one()
    assert hashed == 9  # at import: 12 patches, 3 of them empty or null
    assert backfill_norm_hashes(engine) == 0
    report = consistency_report(load_groups(engine))
    # calc-1: alpha verified (pass), beta verified (pass) and alpha lite (fail) hold the same fix;
    # calc-2: alpha's fenced patch (fail) and lite alpha's plain one (pass) are the same change.
    inconsistent = {g["instance_id"]: (g["passes"], g["fails"]) for g in report["groups"]}
    assert inconsistent == {"acme__calc-1": (2, 1), "acme__calc-2": (1, 1)}
    assert report["inconsistent_groups"] == 2
    assert report["by_benchmark"]["swe-bench-verified"]["inconsistent_groups"] == 0


def test_backfill_fills_hashes_of_older_imports(sqlite_engine: Engine, data_dir: Path) -> None:
    import_swebench(sqlite_engine, data_dir / "subs")
    with sqlite_engine.begin() as conn:
        conn.execute(update(Patch.__table__).values(norm_hash=None))
    assert backfill_norm_hashes(sqlite_engine) == 9  # 12 patches, 3 of them empty or null
    assert backfill_norm_hashes(sqlite_engine) == 0
    assert consistency_report(load_groups(sqlite_engine))["inconsistent_groups"] == 2


def _independent_counts(root: Path) -> tuple[int, int, int]:
    """The same definition written again, straight from the files: (patches, distinct, inconsistent)."""
    fence = re.compile(r"```(?:diff|patch)?\n(.*?)```", re.S)
    groups: dict[tuple[str, str], set[bool]] = defaultdict(set)
    patches = 0
    for preds in find_predictions(root):
        text = preds.read_text()
        rows = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(x) for x in text.splitlines() if x.strip()]
        )
        latest = {row["instance_id"]: row["model_patch"] for row in rows}
        resolved = set(json.loads(find_results(preds).read_text())["resolved"])  # type: ignore[union-attr]
        for instance, patch in latest.items():
            if not patch or not patch.strip():
                continue
            body = patch
            if not body.lstrip().startswith(("diff --git ", "--- ", "Index: ")):
                match = fence.search(body)
                start = re.search(r"^(diff --git |--- \S|Index: \S)", match.group(1) if match else body, re.M)
                if start is not None:
                    body = (match.group(1) if match else body)[start.start() :]
            kept = []
            for line in body.replace("\r\n", "\n").split("\n"):
                line = line.rstrip()
                if re.match(r"(index |diff --git )", line):
                    continue
                kept.append("@@" if line.startswith("@@") else re.sub(r"^((?:---|\+\+\+) [^\t]*)\t.*$", r"\1", line))
            normal = "\n".join(kept).strip("\n")
            if not normal:
                continue
            patches += 1
            groups[(instance, hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest())].add(
                instance in resolved
            )
    return patches, len(groups), sum(1 for outcomes in groups.values() if len(outcomes) > 1)


@pytest.mark.realdata
def test_verifier_check_on_the_shared_data(shared_data: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    runner = CliRunner()
    assert runner.invoke(app, ["import", "swebench", str(shared_data / "swebench"), "--db", db]).exit_code == 0
    result = runner.invoke(app, ["verifier-check", "--db", db, "--json", "-o", str(tmp_path / "groups.csv")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = _independent_counts(shared_data / "swebench")
    assert (report["patches"], report["distinct"], report["inconsistent_groups"]) == expected
    # The figures the audit that motivated this reported for the same data.
    assert expected == (43680, 36181, 54)
    assert (tmp_path / "groups.csv").read_text().count("\n") == 1 + sum(len(g["members"]) for g in report["groups"])
    loose = runner.invoke(app, ["verifier-check", "--db", db, "--json", "--ignore-whitespace"])
    assert loose.exit_code == 0, loose.output
    loose_report = json.loads(loose.stdout)
    assert loose_report["ignore_whitespace"] is True
    assert loose_report["patches"] == report["patches"]
    assert loose_report["distinct"] < report["distinct"]
    # Ignoring whitespace only merges groups: every exact group lies inside one whitespace-insensitive group.
    engine = make_engine(f"sqlite:///{db}")
    loose_group_of = {
        member.patch_id: index
        for index, group in enumerate(load_groups(engine, ignore_whitespace=True))
        for member in group.members
    }
    for group in load_groups(engine):
        assert len({loose_group_of[member.patch_id] for member in group.members}) == 1
    engine.dispose()


def test_stats_has_a_verifier_consistency_panel(tmp_path: Path, data_dir: Path) -> None:
    db = str(tmp_path / "g.db")
    runner = CliRunner()
    assert runner.invoke(app, ["import", "swebench", str(data_dir / "subs"), "--db", db]).exit_code == 0
    result = runner.invoke(app, ["stats", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    panel = json.loads(result.stdout)["verifier_consistency"]
    assert (panel["patches"], panel["inconsistent_groups"]) == (9, 2)
    assert "groups" not in panel  # counts only: no model names reach a blind session's stats
    text = runner.invoke(app, ["stats", "--db", db]).stdout
    assert "Verifier self-consistency: 2 of" in text


def test_a_patch_that_normalises_to_nothing_is_hashed_once_and_joins_no_group(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    preds = tmp_path / "all_preds.jsonl"
    header_only = "diff --git a/x.py b/x.py\nindex 1234..5678 100644\n"
    preds.write_text(
        "\n".join(
            json.dumps({"instance_id": "a__b-1", "model_name_or_path": name, "model_patch": header_only})
            for name in ("m",)
        )
        + "\n"
    )
    import_swebench(sqlite_engine, preds, model="m1")
    import_swebench(sqlite_engine, preds.rename(tmp_path / "other.jsonl"), model="m2")
    with sqlite_engine.connect() as conn:
        assert set(conn.execute(select(Patch.__table__.c.norm_hash)).scalars()) == {NOTHING}
    assert backfill_norm_hashes(sqlite_engine) == 0  # stored as "nothing", not looked at again
    with sqlite_engine.begin() as conn:
        conn.execute(update(Patch.__table__).values(norm_hash=None))  # as an older import left them
    assert backfill_norm_hashes(sqlite_engine) == 2
    assert backfill_norm_hashes(sqlite_engine) == 0
    assert consistency_report(load_groups(sqlite_engine))["patches"] == 0

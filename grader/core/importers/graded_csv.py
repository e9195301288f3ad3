"""A graded-set CSV (as `grader export` writes it, or as audit scripts keep it) back into the store."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from grader.core.importers.common import (
    BadInput,
    ImportReport,
    Progress,
    RowErrors,
    fingerprint,
    iter_csv_records,
    known_fingerprints,
    read_text,
    record_import,
)
from grader.core.importers.swebench import repo_from_instance_id
from grader.core.patches.equivalence import stored_norm_hash
from grader.core.patches.kinds import classify_patch
from grader.core.store.db import bulk_write_transaction
from grader.core.store.models import HUMAN_VERDICTS, Patch, Submission, Task, Verdict, utcnow
from grader.core.store.verdicts import TAG_SEPARATOR, insert_verdict
from grader.core.text.csvcells import restore

KIND = "graded_csv"
REQUIRED = ("task_id", "model", "human_verdict")
AUTO_VERDICTS = {
    "": "unknown",
    "pass": "pass",
    "fail": "fail",
    "error": "error",
    "unknown": "unknown",
    "resolved": "pass",
    "unresolved": "fail",
    "true": "pass",
    "false": "fail",
}
DEFAULT_BENCHMARK = "imported"
DEFAULT_REVIEWER = "imported"


@dataclass(slots=True)
class GradedRow:
    line: int
    benchmark: str | None
    task_id: str
    model: str
    model_name_or_path: str | None
    auto_verdict: str
    verifier_status: str | None
    human_verdict: str
    reviewer: str
    note: str
    tags: list[str]
    graded_at: datetime | None
    seconds_spent: float | None
    revealed_before: bool
    source: str
    uid: str
    numbers: dict[str, Any]
    patch: str | None
    has_patch: bool


def _number(path: Path, line: int, row: dict[str, str], name: str, kind: type, errors: RowErrors) -> Any:
    text = (row.get(name) or "").strip()
    if not text:
        return None
    try:
        value = kind(text) if kind is float else int(float(text)) if float(text).is_integer() else None
    except ValueError:
        value = None
    if value is None or value < 0:
        errors.bad(path, line, f"{name} must be a non-negative number, found {text!r}")
        raise _Skip
    return value


class _Skip(Exception):
    """The row was recorded as bad and skipped."""


def _parse_row(path: Path, line: int, row: dict[str, str | None], errors: RowErrors) -> GradedRow | None:
    cell = {key: restore(value or "") for key, value in row.items()}
    task_id = cell.get("task_id", "").strip()
    model = cell.get("model", "").strip()
    if not task_id:
        errors.bad(path, line, "empty task_id")
        return None
    if not model:
        errors.bad(path, line, "empty model")
        return None
    human = cell.get("human_verdict", "").strip().lower()
    if human and human not in HUMAN_VERDICTS:
        errors.bad(path, line, f"human_verdict must be pass, fail, unsure or empty, found {cell['human_verdict']!r}")
        return None
    auto_text = cell.get("auto_verdict", "").strip().lower()
    if auto_text not in AUTO_VERDICTS:
        errors.bad(path, line, f"auto_verdict must be pass, fail, error, unknown or empty, found {auto_text!r}")
        return None
    graded_at = None
    if cell.get("graded_at", "").strip():
        try:
            graded_at = datetime.fromisoformat(cell["graded_at"].strip())
        except ValueError:
            errors.bad(path, line, f"graded_at is not an ISO 8601 time: {cell['graded_at']!r}")
            return None
        if graded_at.tzinfo is None:
            graded_at = graded_at.replace(tzinfo=UTC)
    revealed = cell.get("revealed_before", "").strip().lower()
    if revealed not in ("", "true", "false", "1", "0", "yes", "no"):
        errors.bad(path, line, f"revealed_before must be true or false, found {revealed!r}")
        return None
    try:
        numbers = {
            "input_tokens": _number(path, line, cell, "input_tokens", int, errors),
            "output_tokens": _number(path, line, cell, "output_tokens", int, errors),
            "input_cost_usd": _number(path, line, cell, "input_cost_usd", float, errors),
            "output_cost_usd": _number(path, line, cell, "output_cost_usd", float, errors),
        }
        seconds = _number(path, line, cell, "seconds_spent", float, errors)
    except _Skip:
        return None
    tags = [t.strip() for t in cell.get("tags", "").split(TAG_SEPARATOR) if t.strip()]
    reviewer = cell.get("reviewer", "").strip() or DEFAULT_REVIEWER
    note = cell.get("note", "")
    benchmark = cell.get("benchmark", "").strip() or None
    uid = cell.get("verdict_id", "").strip()
    if human and not uid:
        # Rows from audit scripts carry no id: derive one from the content so a re-import adds nothing.
        key = json.dumps([benchmark, model, task_id, reviewer, human, cell.get("graded_at", ""), note, tags])
        uid = hashlib.sha256(key.encode()).hexdigest()[:32]
    has_patch = "model_patch" in cell
    patch: str | None = cell.get("model_patch") if has_patch else None
    if has_patch and patch == "" and cell.get("patch_kind", "") == "null":
        patch = None
    return GradedRow(
        line=line,
        benchmark=benchmark,
        task_id=task_id,
        model=model,
        model_name_or_path=cell.get("model_name_or_path") or None,
        auto_verdict=AUTO_VERDICTS[auto_text],
        verifier_status=cell.get("verifier_status", "").strip() or (auto_text or None),
        human_verdict=human,
        reviewer=reviewer,
        note=note,
        tags=tags,
        graded_at=graded_at,
        seconds_spent=seconds,
        revealed_before=revealed in ("true", "1", "yes"),
        source=cell.get("verdict_source", "").strip() or "import",
        uid=uid,
        numbers=numbers,
        patch=patch,
        has_patch=has_patch,
    )


def import_graded_csv(
    engine: Engine,
    path: Path,
    *,
    benchmark: str | None = None,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import patches and human verdicts from a graded CSV. One transaction; re-importing adds nothing."""
    path = Path(path)
    report = ImportReport(source=str(path))
    errors = RowErrors(skip_bad, report)
    text, data = read_text(path)
    first_line = io.StringIO(text, newline="").readline().rstrip("\r\n")
    header = [h.strip() for h in first_line.split(",")]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadInput(path, 1, f"missing column(s): {', '.join(missing)} (a graded CSV needs {', '.join(REQUIRED)})")
    rows: list[GradedRow] = []
    for line, raw in iter_csv_records(path, text, errors):
        parsed = _parse_row(path, line, raw, errors)
        if parsed is not None:
            rows.append(parsed)
    fp = fingerprint(KIND, data, benchmark or "")
    with bulk_write_transaction(engine) as conn:
        if known_fingerprints(conn, [fp]):
            report.already_imported.append(str(path))
            report.unchanged = len(rows)
            return report
        _resolve_benchmarks(conn, rows, benchmark)
        patch_ids = _ensure_patches(conn, rows, report)
        existing_uids = _existing_uids(conn, [r.uid for r in rows if r.human_verdict])
        # Oldest first, so each reviewer's verdicts chain in the order they were given.
        graded = sorted(
            (r for r in rows if r.human_verdict), key=lambda r: r.graded_at or datetime.max.replace(tzinfo=UTC)
        )
        added = 0
        for row in graded:
            if row.uid in existing_uids:
                report.unchanged += 1
                continue
            insert_verdict(
                conn,
                patch_id=patch_ids[(row.benchmark or "", row.model, row.task_id)],
                reviewer=row.reviewer,
                verdict=row.human_verdict,
                note=row.note,
                tags=row.tags,
                seconds_spent=row.seconds_spent,
                revealed_before=row.revealed_before,
                source=row.source,
                created_at=row.graded_at or utcnow(),
                uid=row.uid,
            )
            existing_uids.add(row.uid)
            added += 1
        if added:
            report.add("verdicts", added)
        if progress:
            progress(len(rows), len(rows))
        if not report.skipped:
            record_import(conn, KIND, fp, str(path), report.total_added)
    return report


def _resolve_benchmarks(conn: Connection, rows: list[GradedRow], option: str | None) -> None:
    """Rows without a benchmark take `--benchmark`, else the one benchmark holding that model, else 'imported'."""
    subs = Submission.__table__
    by_name: dict[str, list[str]] = {}
    for name, bench in conn.execute(select(subs.c.name, subs.c.benchmark)):
        by_name.setdefault(name, []).append(bench)
    for row in rows:
        if row.benchmark:
            continue
        if option:
            row.benchmark = option
        elif len(by_name.get(row.model, [])) == 1:
            row.benchmark = by_name[row.model][0]
        else:
            row.benchmark = DEFAULT_BENCHMARK


def _ensure_patches(conn: Connection, rows: list[GradedRow], report: ImportReport) -> dict[tuple[str, str, str], int]:
    """Patch ids by (benchmark, model, task id), adding the tasks, submissions and patches the store lacks."""
    tasks, subs, patches = Task.__table__, Submission.__table__, Patch.__table__
    benchmarks = sorted({row.benchmark or "" for row in rows})
    task_ids = {
        (b, i): int(t)
        for t, b, i in conn.execute(
            select(tasks.c.id, tasks.c.benchmark, tasks.c.instance_id).where(tasks.c.benchmark.in_(benchmarks))
        )
    }
    sub_ids = {
        (b, n): int(s)
        for s, b, n in conn.execute(
            select(subs.c.id, subs.c.benchmark, subs.c.name).where(subs.c.benchmark.in_(benchmarks))
        )
    }
    patch_ids = {
        (int(s), int(t)): int(p)
        for p, s, t in conn.execute(
            select(patches.c.id, patches.c.submission_id, patches.c.task_id).where(
                patches.c.submission_id.in_(list(sub_ids.values()) or [-1])
            )
        )
    }
    ids: dict[tuple[str, str, str], int] = {}
    for row in rows:
        bench = row.benchmark or ""
        key = (bench, row.model, row.task_id)
        if key in ids:
            continue
        if (bench, row.task_id) not in task_ids:
            task_ids[(bench, row.task_id)] = int(
                conn.execute(
                    tasks.insert().values(
                        benchmark=bench, instance_id=row.task_id, repo=repo_from_instance_id(row.task_id)
                    )
                ).inserted_primary_key[0]
            )
            report.add("tasks", 1)
        if (bench, row.model) not in sub_ids:
            sub_ids[(bench, row.model)] = int(
                conn.execute(
                    subs.insert().values(
                        benchmark=bench,
                        name=row.model,
                        model_name=row.model_name_or_path,
                        source=report.source,
                        meta="{}",
                        imported_at=utcnow(),
                    )
                ).inserted_primary_key[0]
            )
            report.add("submissions", 1)
        task_id, sub_id = task_ids[(bench, row.task_id)], sub_ids[(bench, row.model)]
        if (sub_id, task_id) not in patch_ids:
            text = classify_patch(row.patch) if row.has_patch else None
            patch_ids[(sub_id, task_id)] = int(
                conn.execute(
                    patches.insert().values(
                        task_id=task_id,
                        submission_id=sub_id,
                        raw_patch=row.patch,
                        diff_text=text.diff if text else "",
                        patch_kind=text.kind if text else "absent",
                        verifier_status=row.verifier_status,
                        verifier_verdict=row.auto_verdict,
                        content_hash=text.content_hash if text else "",
                        norm_hash=stored_norm_hash(row.patch, text.diff, text.kind) if text else None,
                        line_count=text.line_count if text else 0,
                        extra="{}",
                        **row.numbers,
                    )
                ).inserted_primary_key[0]
            )
            report.add("patches", 1)
        ids[key] = patch_ids[(sub_id, task_id)]
    return ids


def _existing_uids(conn: Connection, uids: list[str]) -> set[str]:
    table = Verdict.__table__
    found: set[str] = set()
    for start in range(0, len(uids), 500):
        chunk = uids[start : start + 500]
        found.update(conn.execute(select(table.c.uid).where(table.c.uid.in_(chunk))).scalars())
    return found

"""SWE-bench task rows (problem statement, reference and test patches) from JSONL, JSON or CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from grader.core.db import bulk_write_transaction
from grader.core.importers.common import (
    ImportReport,
    Progress,
    RowErrors,
    fingerprint,
    known_fingerprints,
    load_records,
    read_text,
    record_import,
)
from grader.core.importers.swebench import BENCHMARK_FOLDERS, DEFAULT_BENCHMARK, repo_from_instance_id
from grader.core.models import Task

KIND = "tasks"
TEXT_FIELDS = {
    "repo": ("repo",),
    "problem_statement": ("problem_statement",),
    "hints_text": ("hints_text", "hints"),
    "reference_patch": ("patch", "reference_patch", "gold_patch"),
    "test_patch": ("test_patch",),
}


def benchmark_from_file(path: Path, override: str | None) -> str:
    """`--benchmark`, else the benchmark a word in the file name names (verified, lite...)."""
    if override:
        return override
    words = path.stem.lower().replace("-", "_").split("_")
    for word, name in BENCHMARK_FOLDERS.items():
        if word in words:
            return name
    return DEFAULT_BENCHMARK


def _task_row(path: Path, line: int, record: Any, bench: str, errors: RowErrors) -> dict[str, Any] | None:
    if not isinstance(record, dict):
        errors.bad(path, line, f"expected an object with an instance_id, found {type(record).__name__}")
        return None
    iid = record.get("instance_id")
    if not isinstance(iid, str) or not iid.strip():
        errors.bad(path, line, "missing or empty 'instance_id'")
        return None
    row: dict[str, Any] = {"benchmark": bench, "instance_id": iid.strip()}
    used = {"instance_id"}
    for column, keys in TEXT_FIELDS.items():
        value: Any = ""
        for key in keys:
            if key in record and record[key] is not None:
                value = record[key]
                used.add(key)
                break
        if not isinstance(value, str):
            errors.bad(path, line, f"{iid}: '{keys[0]}' must be text, found {type(value).__name__}")
            return None
        row[column] = value
    if not row["repo"]:
        row["repo"] = repo_from_instance_id(row["instance_id"])
    meta = {key: _decode_json_string(value) for key, value in record.items() if key not in used}
    row["meta"] = json.dumps(meta, ensure_ascii=False, sort_keys=True)
    return row


def _decode_json_string(value: Any) -> Any:
    """FAIL_TO_PASS and PASS_TO_PASS arrive as JSON-encoded strings; keep them as lists."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def import_tasks(
    engine: Engine,
    path: Path,
    *,
    benchmark: str | None = None,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Add tasks, and fill in the placeholders that a predictions import created. One transaction."""
    path = Path(path)
    report = ImportReport(source=str(path))
    errors = RowErrors(skip_bad, report)
    text, data = read_text(path)
    bench = benchmark_from_file(path, benchmark)
    rows: dict[str, dict[str, Any]] = {}
    for line, record in load_records(path, text, errors):
        row = _task_row(path, line, record, bench, errors)
        if row is not None:
            rows[row["instance_id"]] = row
    fp = fingerprint(KIND, data, bench)
    table = Task.__table__
    columns = ("repo", "problem_statement", "hints_text", "reference_patch", "test_patch", "meta")
    with bulk_write_transaction(engine) as conn:
        if known_fingerprints(conn, [fp]):
            report.already_imported.append(str(path))
            report.unchanged = len(rows)
            return report
        existing = {
            r.instance_id: r
            for r in conn.execute(
                select(table.c.id, table.c.instance_id, *(table.c[c] for c in columns)).where(
                    table.c.benchmark == bench
                )
            )
        }
        new_rows = [row for iid, row in rows.items() if iid not in existing]
        if new_rows:
            conn.execute(table.insert(), new_rows)
            report.add("tasks", len(new_rows))
        for iid, row in rows.items():
            old = existing.get(iid)
            if old is None:
                continue
            changes = {c: row[c] for c in columns if row[c] != getattr(old, c) and (row[c] or c == "meta")}
            if changes.get("meta") == "{}":
                changes.pop("meta")
            if changes:
                conn.execute(table.update().where(table.c.id == old.id).values(**changes))
                report.updated += 1
            else:
                report.unchanged += 1
        if progress:
            progress(len(rows), len(rows))
        if not report.skipped:
            record_import(conn, KIND, fp, str(path), len(new_rows) + report.updated)
    return report

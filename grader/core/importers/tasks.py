"""SWE-bench task rows (problem statement, reference and test patches) from JSONL, JSON or CSV.

A later file updates a task already in the store with what it carries and nothing else: its non-empty text
fields replace the stored ones, its other keys are merged into the task's meta (new values win; an empty or
null value does not replace a stored one). So `instance_id,tags` adds tags and keeps FAIL_TO_PASS and the
problem statement. A row adds a task the store lacks only if it has a problem statement: an annotation file
(instance ids and labels) updates the tasks it shares with the store and lists the ids it left out, and is
refused when it shares none.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, select

from grader.core.importers.common import (
    BadInput,
    ImportReport,
    Progress,
    RowErrors,
    fingerprint,
    known_fingerprints,
    load_records,
    read_text,
    record_import,
    record_instance_id,
)
from grader.core.importers.swebench import repo_from_instance_id
from grader.core.importers.swebench_parse import BENCHMARK_FOLDERS, DEFAULT_BENCHMARK
from grader.core.store.db import bulk_write_transaction
from grader.core.store.models import Task

KIND = "tasks"
TEXT_FIELDS = {
    "repo": ("repo",),
    "problem_statement": ("problem_statement",),
    "hints_text": ("hints_text", "hints"),
    "reference_patch": ("patch", "reference_patch", "gold_patch"),
    "test_patch": ("test_patch",),
}
UNKNOWN_SHOWN = 10  # left-out instance ids named in the report


def benchmark_from_file(path: Path, override: str | None) -> str:
    """`--benchmark`, else the benchmark a word in the file name names (verified, lite...)."""
    if override:
        return override
    words = path.stem.lower().replace("-", "_").split("_")
    for word, name in BENCHMARK_FOLDERS.items():
        if word in words:
            return name
    return DEFAULT_BENCHMARK


@dataclass(slots=True)
class TaskRow:
    instance_id: str
    texts: dict[str, str]  # the text fields the row carries (possibly empty)
    meta: dict[str, Any]


def _task_row(path: Path, line: int, record: Any, errors: RowErrors) -> TaskRow | None:
    iid = record_instance_id(path, line, record, errors, "an object with an instance_id")
    if iid is None:
        return None
    texts: dict[str, str] = {}
    used = {"instance_id"}
    for column, keys in TEXT_FIELDS.items():
        used.update(k for k in keys if k in record and record[k] is None)  # null: absent, not a meta key
        key = next((k for k in keys if record.get(k) is not None), None)
        if key is None:
            continue
        used.add(key)
        value = record[key]
        if not isinstance(value, str):
            errors.bad(path, line, f"{iid}: '{keys[0]}' must be text, found {type(value).__name__}")
            return None
        texts[column] = value
    meta = {key: _decode_json_string(value) for key, value in record.items() if key not in used}
    return TaskRow(iid.strip(), texts, meta)


def _new_task(bench: str, row: TaskRow) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "")
    values.update(row.texts)
    values["repo"] = values["repo"] or repo_from_instance_id(row.instance_id)
    meta = json.dumps(row.meta, ensure_ascii=False, sort_keys=True)
    return {"benchmark": bench, "instance_id": row.instance_id, **values, "meta": meta}


def _task_changes(old: Row[Any], row: TaskRow) -> tuple[dict[str, Any], list[str]]:
    """The column values to update an existing task with, and the names of what changed (fields, meta keys)."""
    changes: dict[str, Any] = {c: v for c, v in row.texts.items() if v and v != getattr(old, c)}
    changed = list(changes)
    stored = json.loads(old.meta or "{}")
    merged = dict(stored)
    for key, value in row.meta.items():
        if value not in ("", None) or key not in stored:
            merged[key] = value
    changed += [f"meta.{k}" for k in merged if k not in stored or merged[k] != stored[k]]
    if merged != stored:
        changes["meta"] = json.dumps(merged, ensure_ascii=False, sort_keys=True)
    return changes, changed


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
    """Add tasks, and update the ones in the store (placeholders included) with what the file carries.

    One transaction. The module docstring gives the rules: only carried, non-empty values change a stored
    task; meta keys merge; a row without a problem statement adds no task (the report names the ids left
    out), and a file whose every row is left out is an error.
    """
    path = Path(path)
    report = ImportReport(source=str(path))
    errors = RowErrors(skip_bad, report)
    text, data = read_text(path)
    bench = benchmark_from_file(path, benchmark)
    rows: dict[str, TaskRow] = {}
    for line, record in load_records(path, text, errors):
        row = _task_row(path, line, record, errors)
        if row is not None:
            rows[row.instance_id] = row
    fp = fingerprint(KIND, data, bench)
    table = Task.__table__
    with bulk_write_transaction(engine) as conn:
        if known_fingerprints(conn, [fp]):
            report.already_imported.append(str(path))
            report.unchanged = len(rows)
            return report
        existing = {
            r.instance_id: r
            for r in conn.execute(
                select(table.c.id, table.c.instance_id, *(table.c[c] for c in (*TEXT_FIELDS, "meta"))).where(
                    table.c.benchmark == bench
                )
            )
        }
        unknown = [iid for iid, row in rows.items() if iid not in existing and not row.texts.get("problem_statement")]
        if rows and len(unknown) == len(rows):
            raise BadInput(
                path,
                None,
                f"none of its {len(rows)} instance id(s) is a task of {bench} in the store, and its rows have no "
                "problem_statement to add them with: import the task file first, or name the benchmark with "
                "--benchmark",
            )
        left_out = set(unknown)
        new_rows = [_new_task(bench, row) for iid, row in rows.items() if iid not in existing and iid not in left_out]
        if new_rows:
            conn.execute(table.insert(), new_rows)
            report.add("tasks", len(new_rows))
        changed: Counter[str] = Counter()
        for iid, row in rows.items():
            old = existing.get(iid)
            if old is None:
                continue
            changes, names = _task_changes(old, row)
            if changes:
                conn.execute(table.update().where(table.c.id == old.id).values(**changes))
                report.updated += 1
                changed.update(names)
            else:
                report.unchanged += 1
        if changed:
            report.notes.append(
                f"updated in {report.updated} task(s): " + ", ".join(f"{name} ({n})" for name, n in changed.items())
            )
        if unknown:
            shown = ", ".join(unknown[:UNKNOWN_SHOWN]) + (
                f" and {len(unknown) - UNKNOWN_SHOWN} more" if len(unknown) > UNKNOWN_SHOWN else ""
            )
            report.notes.append(
                f"left out {len(unknown)} instance id(s) that are not tasks of {bench} in the store and have no "
                f"problem_statement: {shown}"
            )
        if progress:
            progress(len(rows), len(rows))
        if not report.skipped:
            record_import(conn, KIND, fp, str(path), len(new_rows) + report.updated)
    return report

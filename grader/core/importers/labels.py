"""Published task-level labels in, as a named external rater's answers to a built-in rubric's questions.

`openai-verified`: OpenAI's ensembled SWE-bench Verified annotation (`underspecified`, `false_negative` 0-3,
`other_major_issues` 0/1, `difficulty` bucket, notes), as the `swebench-verified` rubric.
`agentless-lite`: Agentless's SWE-bench Lite classification (description quality, solution in description,
line/function/file location), as the `agentless-lite` rubric.
One transaction: a bad row imports nothing, and the error names the file, the line and the column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from grader.core.importers.common import (
    BadInput,
    ImportReport,
    RowErrors,
    bulk_insert,
    fingerprint,
    iter_csv_records,
    known_fingerprints,
    read_text,
    record_import,
)
from grader.core.importers.rubrics import Rubric, RubricError, load_rubric
from grader.core.store.db import bulk_write_transaction
from grader.core.store.models import ExternalLabel, RubricRecord, utcnow

Row = dict[str, str | None]


@dataclass(frozen=True, slots=True)
class RaterFormat:
    rubric: str
    # column in the file -> question of the rubric
    columns: dict[str, str]
    # how a cell becomes an option value (None: not labelled)
    cell: Callable[[Rubric, str, str], str | None]


def _number_level(rubric: Rubric, question: str, cell: str) -> str | None:
    """`1.0` -> `1` for the 0-3 scales and the 0/1 flag; notes and difficulty through their labels."""
    q = rubric.question(question)
    cell = cell.strip()
    if not cell:
        return None
    if q.kind == "text":
        return cell
    by_label = {o.label.lower(): o.value for o in q.options}
    if cell.lower() in by_label:
        return by_label[cell.lower()]
    try:
        number = float(cell)
    except ValueError:
        return q.check(cell)
    if not number.is_integer():
        raise RubricError(question, None, f"{cell!r} is not a level of {question}")
    return q.check(str(int(number)))


def _agentless_label(rubric: Rubric, question: str, cell: str) -> str | None:
    q = rubric.question(question)
    cell = cell.strip()
    if not cell and question.endswith("_location"):
        return "none"  # the classification leaves a location empty when the description gives none
    if not cell:
        return None
    by_label = {o.label.lower(): o.value for o in q.options} | {o.value: o.value for o in q.options}
    if cell.lower() not in by_label:
        raise RubricError(question, None, f"{cell!r} is not one of {', '.join(o.label for o in q.options)}")
    return by_label[cell.lower()]


RATERS: dict[str, RaterFormat] = {
    "openai-verified": RaterFormat(
        "swebench-verified",
        {
            "underspecified": "underspecified",
            "false_negative": "false_negative",
            "other_major_issues": "other_major_issues",
            "difficulty": "difficulty",
            "underspecified_notes": "underspecified_notes",
            "false_negative_notes": "false_negative_notes",
            "other_notes": "other_notes",
        },
        _number_level,
    ),
    "agentless-lite": RaterFormat(
        "agentless-lite",
        {
            "description quality": "description_quality",
            "solution in description": "solution_in_description",
            "line location": "line_location",
            "function location": "function_location",
            "file location": "file_location",
        },
        _agentless_label,
    ),
}


def import_labels(engine: Engine, path: Path, *, rater: str) -> ImportReport:
    """Import a published label file as the external rater `rater` (one transaction; a repeat adds nothing)."""
    if rater not in RATERS:
        raise BadInput(path, None, f"unknown rater {rater!r}; known: {', '.join(RATERS)}")
    layout = RATERS[rater]
    rubric = load_rubric(layout.rubric)
    text, data = read_text(path)
    report = ImportReport(source=str(path))
    fp = fingerprint(f"labels:{rater}", data)
    errors = RowErrors(False, report)
    values: list[tuple[str, str, str]] = []
    seen: dict[str, int] = {}
    header_checked = False
    for line, row in iter_csv_records(path, text, errors):
        if not header_checked:
            missing = [c for c in ("instance_id", *layout.columns) if c not in row]
            if missing:
                raise BadInput(path, 1, f"no column {', '.join(repr(c) for c in missing)} (is this a {rater} file?)")
            header_checked = True
        instance_id = (row.get("instance_id") or "").strip()
        if not instance_id:
            raise BadInput(path, line, "empty instance_id")
        if instance_id in seen:
            raise BadInput(path, line, f"{instance_id} is labelled twice (also on line {seen[instance_id]})")
        seen[instance_id] = line
        for column, question in layout.columns.items():
            try:
                value = layout.cell(rubric, question, row.get(column) or "")
            except RubricError as exc:
                raise BadInput(path, line, f"column {column!r}: {exc.problem}") from exc
            if value is not None:
                values.append((instance_id, question, value))
    if not header_checked:
        raise BadInput(path, None, "no rows: an empty file")
    with bulk_write_transaction(engine) as conn:
        if known_fingerprints(conn, [fp]):
            report.already_imported.append(str(path))
            return report
        rubric_id = _rubric_id(conn, rubric)
        now = utcnow()
        keys = ["rater", "rubric_id", "instance_id", "question", "value", "created_at"]
        rows = [(rater, rubric_id, iid, question, value, now) for iid, question, value in values]
        bulk_insert(conn, ExternalLabel.__table__, keys, rows)
        record_import(conn, f"labels:{rater}", fp, str(path), len(rows))
    report.add("labels", len(values))
    report.notes.append(f"{len(seen)} tasks labelled by {rater} (rubric {rubric.name})")
    return report


def _rubric_id(conn: Connection, rubric: Rubric) -> int:
    table = RubricRecord.__table__
    found = conn.execute(select(table.c.id).where(table.c.digest == rubric.digest)).scalar()
    if found is not None:
        return int(found)
    inserted = conn.execute(
        table.insert().values(name=rubric.name, digest=rubric.digest, text=rubric.text, created_at=utcnow())
    )
    return int(inserted.inserted_primary_key[0])

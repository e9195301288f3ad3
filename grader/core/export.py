"""Graded sets out: CSV (audit-script columns first) and JSON Lines, one row per patch and human verdict."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, select

from grader.core.csvcells import neutralise
from grader.core.models import RETRACTED, Patch, Reviewer, Submission, Task
from grader.core.store import TAG_SEPARATOR, current_verdicts_query, decode_tags

# The first eight are the columns audit scripts already read; the rest make the set round-trip.
COLUMNS = (
    "task_id",
    "model",
    "auto_verdict",
    "human_verdict",
    "input_tokens",
    "output_tokens",
    "input_cost_usd",
    "output_cost_usd",
    "reviewer",
    "note",
    "tags",
    "verifier_status",
    "graded_at",
    "benchmark",
    "model_name_or_path",
    "seconds_spent",
    "revealed_before",
    "verdict_source",
    "verdict_id",
    "patch_kind",
    "content_hash",
    "model_patch",
)
NUMERIC = {"input_tokens", "output_tokens", "input_cost_usd", "output_cost_usd", "seconds_spent"}


def iter_export_rows(engine: Engine, *, include_patch: bool = True) -> Iterator[dict[str, Any]]:
    """Each patch with each reviewer's current verdict; a patch nobody graded yields one row without one."""
    p, s, t, r = Patch.__table__, Submission.__table__, Task.__table__, Reviewer.__table__
    current = current_verdicts_query().subquery()
    live = select(current).where(current.c.verdict != RETRACTED).subquery()
    columns = [
        t.c.instance_id,
        s.c.name,
        p.c.verifier_verdict,
        live.c.verdict,
        p.c.input_tokens,
        p.c.output_tokens,
        p.c.input_cost_usd,
        p.c.output_cost_usd,
        r.c.name.label("reviewer"),
        live.c.note,
        live.c.tags,
        p.c.verifier_status,
        live.c.created_at,
        s.c.benchmark,
        s.c.model_name,
        live.c.seconds_spent,
        live.c.revealed_before,
        live.c.source,
        live.c.uid,
        p.c.patch_kind,
        p.c.content_hash,
    ]
    if include_patch:
        columns.append(p.c.raw_patch)
    query = (
        select(*columns)
        .select_from(
            p.join(s, s.c.id == p.c.submission_id)
            .join(t, t.c.id == p.c.task_id)
            .outerjoin(live, live.c.patch_id == p.c.id)
            .outerjoin(r, r.c.id == live.c.reviewer_id)
        )
        .order_by(s.c.benchmark, s.c.name, t.c.instance_id, r.c.name)
    )
    names = COLUMNS if include_patch else COLUMNS[:-1]
    with engine.connect() as conn:
        for row in conn.execute(query):
            yield dict(zip(names, row, strict=True))


def _text(value: Any) -> str:
    return "" if value is None else neutralise(str(value))


def _number(value: Any) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _tags(value: Any) -> str:
    return neutralise(f"{TAG_SEPARATOR} ".join(decode_tags(value))) if value else ""


def _flag(value: Any) -> str:
    return "" if value is None else "true" if value else "false"


def _time(value: Any) -> str:
    return "" if value is None else value.isoformat()


def _converter(name: str) -> Any:
    if name == "tags":
        return _tags
    if name == "revealed_before":
        return _flag
    if name == "graded_at":
        return _time
    if name in NUMERIC:
        return _number
    return _text


_NEEDS_QUOTES = re.compile(r'[",\n\r]')


def _csv_field(cell: str) -> str:
    # What csv.writer does with QUOTE_MINIMAL, with C string methods: 5x faster on 100 MB of patches.
    if _NEEDS_QUOTES.search(cell) is None:
        return cell
    return '"' + cell.replace('"', '""') + '"'


def write_csv(engine: Engine, out: IO[str], *, include_patch: bool = True) -> int:
    """Write the graded set as CSV (RFC 4180 quoting, formula cells neutralised); returns the row count."""
    names = COLUMNS if include_patch else COLUMNS[:-1]
    converters = [_converter(name) for name in names]
    out.write(",".join(names) + "\n")
    count = 0
    for row in iter_export_rows(engine, include_patch=include_patch):
        out.write(",".join([_csv_field(convert(row[name])) for convert, name in zip(converters, names, strict=True)]))
        out.write("\n")
        count += 1
    return count


def write_jsonl(engine: Engine, out: IO[str], *, include_patch: bool = True) -> int:
    count = 0
    for row in iter_export_rows(engine, include_patch=include_patch):
        row["tags"] = decode_tags(row["tags"]) if row["tags"] else []
        if row["graded_at"] is not None:
            row["graded_at"] = row["graded_at"].isoformat()
        out.write(json.dumps(row, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def export_csv(engine: Engine, path: Path, *, include_patch: bool = True) -> int:
    with open(path, "w", encoding="utf-8", newline="") as out:
        return write_csv(engine, out, include_patch=include_patch)

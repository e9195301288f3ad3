"""Gold items: patches a lead marked with a known answer (each reviewer's accuracy on them is in `gold_accuracy`).

Gold marks are append-only (`gold_answer`): a correction is a new row and a removal is a row with the answer
'withdrawn'; a patch's latest row is its current mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select

from grader.core.importers.common import BadInput, ImportReport, RowErrors, iter_csv_records, read_text
from grader.core.store.db import write_transaction
from grader.core.store.models import GOLD_ANSWERS, WITHDRAWN, GoldAnswer, Patch, Submission, Task, utcnow


class GoldError(ValueError):
    """A gold mark that cannot be made (unknown patch, ambiguous task, bad answer, nothing to remove)."""


@dataclass(frozen=True, slots=True)
class GoldEntry:
    patch_id: int
    benchmark: str
    task_id: str
    model: str
    answer: str
    note: str
    marked_by: str
    marked_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "patch_id": self.patch_id,
            "benchmark": self.benchmark,
            "task_id": self.task_id,
            "model": self.model,
            "answer": self.answer,
            "note": self.note,
            "marked_by": self.marked_by,
            "marked_at": self.marked_at.isoformat(),
        }


def _answer(value: str) -> str:
    answer = value.strip().lower()
    if answer not in GOLD_ANSWERS:
        raise GoldError(f"a gold answer is pass or fail, not {value!r}")
    return answer


def find_patch(conn: Connection, *, task_id: str, model: str, benchmark: str | None = None) -> int:
    """The id of the patch `model` submitted for `task_id` (in `benchmark` when several hold the task)."""
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    query = (
        select(p.c.id, s.c.benchmark)
        .select_from(p.join(s, s.c.id == p.c.submission_id).join(t, t.c.id == p.c.task_id))
        .where(t.c.instance_id == task_id, s.c.name == model)
    )
    if benchmark:
        query = query.where(s.c.benchmark == benchmark)
    rows = conn.execute(query).all()
    if not rows:
        where = f" in {benchmark}" if benchmark else ""
        raise GoldError(f"no patch of model {model!r} for task {task_id!r}{where}")
    if len(rows) > 1:
        raise GoldError(
            f"task {task_id!r} of {model!r} is in several benchmarks "
            f"({', '.join(sorted(r[1] for r in rows))}); give the benchmark"
        )
    return int(rows[0][0])


def _require_patch(conn: Connection, patch_id: int) -> None:
    if conn.execute(select(Patch.__table__.c.id).where(Patch.__table__.c.id == patch_id)).first() is None:
        raise GoldError(f"no patch with id {patch_id}")


def current_gold_query():  # type: ignore[no-untyped-def]
    """(patch_id, answer, note, marked_by, created_at) of every patch whose latest gold mark is pass or fail."""
    g = GoldAnswer.__table__
    latest = select(func.max(g.c.id).label("id")).group_by(g.c.patch_id).subquery()
    return (
        select(g.c.patch_id, g.c.answer, g.c.note, g.c.marked_by, g.c.created_at)
        .select_from(g.join(latest, latest.c.id == g.c.id))
        .where(g.c.answer.in_(GOLD_ANSWERS))
    )


def gold_answers(conn: Connection) -> dict[int, str]:
    """patch id -> current gold answer."""
    return {int(row[0]): str(row[1]) for row in conn.execute(current_gold_query())}


def _insert(conn: Connection, patch_id: int, answer: str, note: str, marked_by: str) -> None:
    conn.execute(
        GoldAnswer.__table__.insert().values(
            patch_id=patch_id, answer=answer, note=note, marked_by=marked_by, created_at=utcnow()
        )
    )


def mark_gold(engine: Engine, *, patch_id: int, answer: str, note: str = "", marked_by: str = "") -> None:
    """Mark the patch gold with `answer`; a second mark supersedes the first."""
    answer = _answer(answer)
    with write_transaction(engine) as conn:
        _require_patch(conn, patch_id)
        _insert(conn, patch_id, answer, note, marked_by)


def withdraw_gold(engine: Engine, *, patch_id: int, marked_by: str = "", note: str = "") -> None:
    """The patch is no longer gold (recorded as a 'withdrawn' mark; its history stays)."""
    with write_transaction(engine) as conn:
        if patch_id not in gold_answers(conn):
            raise GoldError(f"patch {patch_id} is not a gold item")
        _insert(conn, patch_id, WITHDRAWN, note, marked_by)


def resolve_patch(engine: Engine, *, task_id: str, model: str, benchmark: str | None = None) -> int:
    with engine.connect() as conn:
        return find_patch(conn, task_id=task_id, model=model, benchmark=benchmark)


def import_gold(path: Path, engine: Engine, *, marked_by: str = "", skip_bad: bool = False) -> ImportReport:
    """Mark every row of a CSV (task_id, model, answer [, benchmark, note]) gold, in one transaction.

    A bad row fails the whole import with the file and line (with `skip_bad`, it is listed and the rest
    imported); marks identical to the current one are unchanged.
    """
    text, _ = read_text(path)
    report = ImportReport(source=str(path))
    errors = RowErrors(skip_bad=skip_bad, report=report)
    with write_transaction(engine) as conn:
        current = {patch_id: row for patch_id, *row in conn.execute(current_gold_query())}
        seen: dict[int, int] = {}
        added = 0
        for line, row in iter_csv_records(path, text, errors):
            cells = {str(k).strip().lower(): (v or "").strip() for k, v in row.items()}
            missing = [c for c in ("task_id", "model", "answer") if c not in cells]
            if missing:
                raise BadInput(path, 1, f"missing column(s) {', '.join(missing)}")
            if not cells["task_id"] or not cells["model"]:
                errors.bad(path, line, "task_id and model must not be empty")
                continue
            try:
                answer = _answer(cells["answer"])
                patch_id = find_patch(
                    conn, task_id=cells["task_id"], model=cells["model"], benchmark=cells.get("benchmark") or None
                )
            except GoldError as exc:
                errors.bad(path, line, str(exc))
                continue
            if patch_id in seen:
                errors.bad(path, line, f"the same patch as line {seen[patch_id]}")
                continue
            seen[patch_id] = line
            note = cells.get("note", "")
            existing = current.get(patch_id)
            if existing is not None and existing[0] == answer and existing[1] == note:
                report.unchanged += 1
                continue
            _insert(conn, patch_id, answer, note, marked_by)
            added += 1
        if added:
            report.add("gold answers", added)
    return report


def list_gold(engine: Engine) -> list[GoldEntry]:
    """Every current gold item, by benchmark, task and model."""
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    gold = current_gold_query().subquery()
    query = (
        select(gold.c.patch_id, s.c.benchmark, t.c.instance_id, s.c.name)
        .add_columns(gold.c.answer, gold.c.note, gold.c.marked_by, gold.c.created_at)
        .select_from(
            gold.join(p, p.c.id == gold.c.patch_id).join(s, s.c.id == p.c.submission_id).join(t, t.c.id == p.c.task_id)
        )
        .order_by(s.c.benchmark, t.c.instance_id, s.c.name)
    )
    with engine.connect() as conn:
        return [GoldEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in conn.execute(query)]

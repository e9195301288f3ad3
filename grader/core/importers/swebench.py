"""SWE-bench predictions with their harness results, as submissions publish them (warts included).

Parsing one submission is in `swebench_parse`; this module finds the files and writes the store."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from grader.core.importers.common import (
    BadInput,
    ImportReport,
    Progress,
    RowErrors,
    SkippedRow,
    bulk_insert,
    fingerprint,
    known_fingerprints,
    record_import,
)
from grader.core.importers.parse_ahead import parsed_in_order
from grader.core.importers.swebench_parse import (
    NORM_HASH_AT,
    PREDICTION_FILES,
    ParsedSubmission,
    PatchRow,
    hash_rows,
    parse_submission,
)
from grader.core.store.db import bulk_write_transaction
from grader.core.store.models import Patch, Submission, Task, utcnow

KIND = "swebench"
RESULT_FILES = ("results/results.json", "results.json", "report.json")


def find_predictions(directory: Path) -> list[Path]:
    """Every predictions file under `directory`, one per submission folder."""
    found: dict[Path, Path] = {}
    for name in PREDICTION_FILES:
        for path in directory.rglob(name):
            found.setdefault(path.parent, path)
    return [found[folder] for folder in sorted(found)]


def find_results(predictions: Path) -> Path | None:
    for name in RESULT_FILES:
        candidate = predictions.parent / name
        if candidate.is_file():
            return candidate
    return None


def submission_fingerprint(predictions: Path, results: Path | None, name: str | None, benchmark: str | None) -> str:
    """Identifies an import by its inputs (file contents and options), so a repeat is known before parsing."""
    results_bytes = results.read_bytes() if results is not None else b""
    return fingerprint(
        KIND, predictions.read_bytes(), results_bytes, str(predictions.resolve()), name or "", benchmark or ""
    )


def import_swebench(
    engine: Engine,
    path: Path,
    *,
    results: Path | None = None,
    model: str | None = None,
    benchmark: str | None = None,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a predictions file (JSONL or JSON array) or every submission under a directory.

    One transaction: a bad row imports nothing unless `skip_bad`, which imports the rest and lists it.
    """
    path = Path(path)
    report = ImportReport(source=str(path))
    errors = RowErrors(skip_bad, report)
    if path.is_dir():
        if results is not None:
            raise BadInput(path, None, "--results applies to one predictions file, not a directory")
        files = find_predictions(path)
        if not files:
            raise BadInput(path, None, f"no predictions file ({', '.join(PREDICTION_FILES)}) under it")
    elif path.is_file():
        files = [path]
    else:
        raise BadInput(path, None, "no such file or directory")
    if model and len(files) > 1:
        raise BadInput(path, None, "--model names one submission; a directory holds several")
    plans = [(file, results if results is not None else find_results(file)) for file in files]
    fingerprints: list[str] = []

    def not_imported_yet() -> list[bool]:
        """Runs while the first files are parsed: fingerprint every file and look for earlier imports."""
        fingerprints.extend(submission_fingerprint(file, outcome, model, benchmark) for file, outcome in plans)
        known = known_fingerprints(conn, fingerprints)
        report.already_imported = [str(file) for (file, _), fp in zip(plans, fingerprints, strict=True) if fp in known]
        return [fp not in known for fp in fingerprints]

    with bulk_write_transaction(engine) as conn:
        task_cache: dict[str, dict[str, int]] = {}
        parse = functools.partial(_parse_one, model=model, benchmark=benchmark, skip_bad=errors.skip_bad)
        order = {plan: index for index, plan in enumerate(plans)}
        for plan, (sub, skipped) in parsed_in_order(plans, parse, wanted=not_imported_yet, finish=_hash_parsed):
            sub.fingerprint = fingerprints[order[plan]]
            errors.report.skipped.extend(skipped)
            task_ids = _ensure_tasks(conn, sub, task_cache, report)
            added = _insert_submission(conn, sub, task_ids, report)
            if not skipped:  # a file with bad rows is read again next time, and its bad rows reported again
                record_import(conn, KIND, sub.fingerprint, sub.source, added)
            if progress:
                progress(1, len(plans) - len(report.already_imported))
    return report


def _parse_one(
    plan: tuple[Path, Path | None], *, model: str | None, benchmark: str | None, skip_bad: bool
) -> tuple[ParsedSubmission, list[SkippedRow]]:
    """Parse one submission (in a worker process); bad rows come back as a list."""
    file, outcome = plan
    local = ImportReport(source=str(file))
    sub = parse_submission(file, results=outcome, name=model, benchmark=benchmark, errors=RowErrors(skip_bad, local))
    return sub, local.skipped


def _hash_parsed(
    parsed: tuple[ParsedSubmission, list[SkippedRow]], more: Callable[[], bool]
) -> tuple[ParsedSubmission, list[SkippedRow]]:
    hash_rows(parsed[0], more)
    return parsed


def _ensure_tasks(
    conn: Connection, sub: ParsedSubmission, cache: dict[str, dict[str, int]], report: ImportReport
) -> dict[tuple[str, str], int]:
    """Task ids by (benchmark, instance id), adding placeholder tasks that a task file can fill in later."""
    table = Task.__table__
    bench = sub.benchmark
    if bench not in cache:
        cache[bench] = dict(
            conn.execute(select(table.c.instance_id, table.c.id).where(table.c.benchmark == bench)).all()
        )
    existing = cache[bench]
    missing = sorted({r.instance_id for r in sub.rows} - existing.keys())
    if missing:
        conn.execute(
            table.insert(),
            [
                {
                    "benchmark": bench,
                    "instance_id": iid,
                    "repo": repo_from_instance_id(iid),
                    "problem_statement": "",
                    "hints_text": "",
                    "reference_patch": "",
                    "test_patch": "",
                    "meta": "{}",
                }
                for iid in missing
            ],
        )
        report.add("tasks", len(missing))
        rows = conn.execute(
            select(table.c.instance_id, table.c.id).where(table.c.benchmark == bench, table.c.instance_id.in_(missing))
        ).all()
        existing.update(dict(rows))
    return {(bench, r.instance_id): existing[r.instance_id] for r in sub.rows}


def repo_from_instance_id(instance_id: str) -> str:
    """`astropy__astropy-12907` → `astropy/astropy`; empty when the id does not follow the convention."""
    if "__" not in instance_id:
        return ""
    owner, rest = instance_id.split("__", 1)
    name = rest.rsplit("-", 1)[0] if "-" in rest else rest
    return f"{owner}/{name}"


def _insert_submission(
    conn: Connection, sub: ParsedSubmission, task_ids: dict[tuple[str, str], int], report: ImportReport
) -> int:
    subs = Submission.__table__
    patches = Patch.__table__
    existing_id = conn.execute(
        select(subs.c.id).where(subs.c.benchmark == sub.benchmark, subs.c.name == sub.name)
    ).scalar()
    if existing_id is None:
        existing_id = conn.execute(
            subs.insert().values(
                benchmark=sub.benchmark,
                name=sub.name,
                model_name=sub.model_name,
                source=sub.source,
                meta=json.dumps(sub.meta, ensure_ascii=False),
                imported_at=utcnow(),
            )
        ).inserted_primary_key[0]
        report.add("submissions", 1)
        present: dict[int, tuple[str, str | None]] = {}
    else:
        present = {
            row.task_id: (row.content_hash, row.verifier_status)
            for row in conn.execute(
                select(patches.c.task_id, patches.c.content_hash, patches.c.verifier_status).where(
                    patches.c.submission_id == existing_id
                )
            )
        }
    keys = [
        "task_id",
        "submission_id",
        *PatchRow._fields[1:NORM_HASH_AT],
        "norm_hash",
        *PatchRow._fields[NORM_HASH_AT:],
    ]
    values = []
    differing = 0
    for row, digest in zip(sub.rows, sub.norm_hashes, strict=True):
        task_id = task_ids[(sub.benchmark, row.instance_id)]
        if task_id in present:
            report.unchanged += 1
            if present[task_id] != (row.content_hash, row.verifier_status):
                differing += 1
            continue
        values.append((task_id, existing_id, *row[1:NORM_HASH_AT], digest, *row[NORM_HASH_AT:]))
    if values:
        bulk_insert(conn, patches, keys, values)
        report.add("patches", len(values))
    if differing:
        report.notes.append(
            f"{sub.benchmark}/{sub.name}: {differing} patch(es) differ from the stored ones "
            "(text or verifier status); the stored ones were kept"
        )
    return len(values)

"""SWE-bench predictions with their harness results, as submissions publish them (warts included)."""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, select

from grader.core.db import bulk_write_transaction
from grader.core.importers.common import (
    BadInput,
    ImportReport,
    Progress,
    RowErrors,
    SkippedRow,
    bulk_insert,
    fingerprint,
    iter_json_records,
    known_fingerprints,
    read_text,
    record_import,
)
from grader.core.importers.parse_ahead import parsed_in_order
from grader.core.importers.swebench_results import Outcome, parse_results
from grader.core.models import Patch, Submission, Task, utcnow
from grader.core.patchtext import classify_patch

KIND = "swebench"
PREDICTION_FILES = ("all_preds.jsonl", "predictions.jsonl", "preds.jsonl", "all_preds.json", "preds.json")
RESULT_FILES = ("results/results.json", "results.json", "report.json")
BENCHMARK_FOLDERS = {
    "verified": "swe-bench-verified",
    "lite": "swe-bench-lite",
    "test": "swe-bench",
    "full": "swe-bench",
    "multimodal": "swe-bench-multimodal",
}
DEFAULT_BENCHMARK = "swe-bench"

TOKEN_KEYS = {
    "input_tokens": ("input_tokens", "prompt_tokens"),
    "output_tokens": ("output_tokens", "completion_tokens"),
}
COST_KEYS = {
    "input_cost_usd": ("input_cost_usd", "input_cost"),
    "output_cost_usd": ("output_cost_usd", "output_cost"),
}
CORE_KEYS = {"instance_id", "model_patch", "model_name_or_path"}
NUMBER_KEYS = {key for keys in (*TOKEN_KEYS.values(), *COST_KEYS.values()) for key in keys}
MAX_EXTRA_VALUE = 2000


class PatchRow(NamedTuple):
    """One prediction ready to insert; after instance_id, the fields are patch columns in table order."""

    instance_id: str
    raw_patch: str | None
    diff_text: str | None
    patch_kind: str
    verifier_status: str
    verifier_verdict: str
    input_tokens: int | None
    output_tokens: int | None
    input_cost_usd: float | None
    output_cost_usd: float | None
    content_hash: str
    norm_hash: str | None
    line_count: int
    extra: str


@dataclass(slots=True)
class ParsedSubmission:
    name: str
    benchmark: str
    model_name: str | None
    source: str
    fingerprint: str
    meta: dict[str, Any]
    rows: list[PatchRow] = field(default_factory=list)


def benchmark_for(path: Path, override: str | None) -> str:
    """`--benchmark`, else the benchmark named by a folder on the path (verified, lite...)."""
    if override:
        return override
    for part in reversed(path.resolve().parts[:-1]):
        if part.lower() in BENCHMARK_FOLDERS:
            return BENCHMARK_FOLDERS[part.lower()]
    return DEFAULT_BENCHMARK


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


def parse_submission(
    predictions: Path,
    *,
    results: Path | None,
    name: str | None,
    benchmark: str | None,
    errors: RowErrors,
    fingerprint_: str = "",
) -> ParsedSubmission:
    """Read one submission's predictions and outcomes into rows ready to insert."""
    text, _ = read_text(predictions)
    outcomes: dict[str, Outcome] = {}
    results_format = None
    if results is not None:
        outcomes, results_format = parse_results(results)
    bench = benchmark_for(predictions, benchmark)
    by_id: dict[str, dict[str, Any]] = {}
    lines: dict[str, int] = {}
    models: Counter[str] = Counter()
    repeats = 0
    for line, record in iter_json_records(predictions, text, errors):
        row = _prediction_row(predictions, line, record, errors)
        if row is None:
            continue
        iid = row["instance_id"]
        if iid in by_id:
            repeats += 1  # a repeated instance: the later row is the submission's
        by_id[iid] = row
        lines[iid] = line
        if row["model"]:
            models[row["model"]] += 1
    sub_name = name or _submission_name(predictions, models)
    meta: dict[str, Any] = {"predictions": str(predictions)}
    if results is not None:
        meta["results"] = str(results)
        meta["results_format"] = results_format
    if repeats:
        meta["repeated_rows"] = repeats
    model_names = sorted(models)
    parsed = ParsedSubmission(
        name=sub_name,
        benchmark=bench,
        model_name=models.most_common(1)[0][0] if models else None,
        source=str(predictions),
        fingerprint=fingerprint_ or submission_fingerprint(predictions, results, name, benchmark),
        meta=meta | ({"model_names": model_names} if len(model_names) > 1 else {}),
    )
    for iid, row in by_id.items():
        outcome = outcomes.get(iid)
        if outcome is None:
            outcome = (
                Outcome("absent", "unknown")
                if results_format in (None, "run_report")
                else (Outcome("unresolved", "fail"))
            )
        text = classify_patch(row["raw_patch"])
        parsed.rows.append(
            PatchRow(
                iid,
                row["raw_patch"],
                text.diff,
                text.kind,
                outcome.status,
                outcome.verdict,
                row["input_tokens"],
                row["output_tokens"],
                row["input_cost_usd"],
                row["output_cost_usd"],
                text.content_hash,
                None,  # the normalised hash is filled after import, on first use (verifier_check.backfill_norm_hashes)
                text.line_count,
                row["extra"],
            )
        )
    missing = set(outcomes) - set(by_id)
    resolved_missing = sorted(i for i in missing if outcomes[i].verdict == "pass")
    if resolved_missing:
        meta["resolved_without_prediction"] = resolved_missing
    return parsed


def submission_fingerprint(predictions: Path, results: Path | None, name: str | None, benchmark: str | None) -> str:
    """Identifies an import by its inputs (file contents and options), so a repeat is known before parsing."""
    results_bytes = results.read_bytes() if results is not None else b""
    return fingerprint(
        KIND, predictions.read_bytes(), results_bytes, str(predictions.resolve()), name or "", benchmark or ""
    )


def _submission_name(predictions: Path, models: Counter[str]) -> str:
    if predictions.name in PREDICTION_FILES:
        return predictions.parent.resolve().name
    if models:
        return models.most_common(1)[0][0]
    return predictions.stem


def _prediction_row(path: Path, line: int, record: Any, errors: RowErrors) -> dict[str, Any] | None:
    if not isinstance(record, dict):
        errors.bad(path, line, f"expected a JSON object, found {type(record).__name__}")
        return None
    iid = record.get("instance_id")
    if not isinstance(iid, str) or not iid.strip():
        errors.bad(path, line, "missing or empty 'instance_id'")
        return None
    if "model_patch" not in record:
        errors.bad(path, line, f"{iid}: no 'model_patch' key")
        return None
    raw = record["model_patch"]
    if raw is not None and not isinstance(raw, str):
        errors.bad(path, line, f"{iid}: 'model_patch' must be a string or null, found {type(raw).__name__}")
        return None
    model = record.get("model_name_or_path")
    row: dict[str, Any] = {
        "instance_id": iid.strip(),
        "raw_patch": raw,
        "model": model if isinstance(model, str) else None,
        "input_tokens": None,
        "output_tokens": None,
        "input_cost_usd": None,
        "output_cost_usd": None,
        "extra": "{}",
    }
    if len(record) == len(CORE_KEYS & record.keys()):
        return row  # the common case: nothing but the three core keys
    if NUMBER_KEYS & record.keys():
        for column, keys in TOKEN_KEYS.items():
            row[column] = _number(path, line, record, keys, int, errors)
        for column, keys in COST_KEYS.items():
            row[column] = _number(path, line, record, keys, float, errors)
    extra = {}
    for key, value in record.items():
        if key in CORE_KEYS or key in NUMBER_KEYS:
            continue
        encoded = json.dumps(value, ensure_ascii=False)
        extra[key] = value if len(encoded) <= MAX_EXTRA_VALUE else f"<{len(encoded)} characters, not kept>"
    if extra:
        row["extra"] = json.dumps(extra, ensure_ascii=False)
    return row


def _number(path: Path, line: int, record: dict[str, Any], keys: tuple[str, ...], kind: type, errors: RowErrors) -> Any:
    for key in keys:
        if key in record and record[key] is not None:
            value = record[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors.bad(path, line, f"'{key}' must be a number, found {value!r}")
                return None
            if value < 0:
                errors.bad(path, line, f"'{key}' must not be negative, found {value!r}")
                return None
            return kind(value)
    return None


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
    plans = []
    for file in files:
        outcome_file = results if results is not None else find_results(file)
        plans.append((file, outcome_file, submission_fingerprint(file, outcome_file, model, benchmark)))
    with bulk_write_transaction(engine) as conn:
        known = known_fingerprints(conn, [fp for _, _, fp in plans])
        report.already_imported = [str(file) for file, _, fp in plans if fp in known]
        todo = [plan for plan in plans if plan[2] not in known]
        task_cache: dict[str, dict[str, int]] = {}
        parse = functools.partial(_parse_one, model=model, benchmark=benchmark, skip_bad=errors.skip_bad)
        for sub, skipped in parsed_in_order(todo, parse):
            errors.report.skipped.extend(skipped)
            task_ids = _ensure_tasks(conn, sub, task_cache, report)
            added = _insert_submission(conn, sub, task_ids, report)
            record_import(conn, KIND, sub.fingerprint, sub.source, added)
            if progress:
                progress(1, len(todo))
    return report


def _parse_one(
    plan: tuple[Path, Path | None, str], *, model: str | None, benchmark: str | None, skip_bad: bool
) -> tuple[ParsedSubmission, list[SkippedRow]]:
    """Parse one submission (in a worker process); bad rows come back as a list."""
    file, outcome, fp = plan
    local = ImportReport(source=str(file))
    sub = parse_submission(
        file, results=outcome, name=model, benchmark=benchmark, errors=RowErrors(skip_bad, local), fingerprint_=fp
    )
    return sub, local.skipped


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
    keys = ["task_id", "submission_id", *PatchRow._fields[1:]]
    values = []
    differing = 0
    for row in sub.rows:
        task_id = task_ids[(sub.benchmark, row.instance_id)]
        if task_id in present:
            report.unchanged += 1
            if present[task_id] != (row.content_hash, row.verifier_status):
                differing += 1
            continue
        values.append((task_id, existing_id, *row[1:]))
    if values:
        bulk_insert(conn, patches, keys, values)
        report.add("patches", len(values))
    if differing:
        report.notes.append(
            f"{sub.benchmark}/{sub.name}: {differing} patch(es) differ from the stored ones "
            "(text or verifier status); the stored ones were kept"
        )
    return len(values)

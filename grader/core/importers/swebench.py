"""SWE-bench predictions with their harness results, as submissions publish them (warts included)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from grader.core.db import write_transaction
from grader.core.importers.common import (
    BadInput,
    ImportReport,
    Progress,
    RowErrors,
    fingerprint,
    iter_json_records,
    known_fingerprints,
    read_text,
    record_import,
)
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

# Experiments-style results.json lists, in order of precedence, with the raw status and verdict they mean.
# An id that appears in none of them was submitted and not resolved: the leaderboard counts it as a fail.
EXPERIMENT_LISTS: tuple[tuple[str, str], ...] = (
    ("resolved", "pass"),
    ("no_generation", "fail"),
    ("no_apply", "fail"),
    ("install_fail", "error"),
    ("reset_failed", "error"),
    ("test_errored", "error"),
    ("test_timeout", "error"),
    ("no_logs", "error"),
    ("applied", "fail"),
    ("with_logs", "fail"),
    ("generated", "fail"),
)
# Run report (schema 2) id lists.
RUN_REPORT_LISTS: tuple[tuple[str, str, str], ...] = (
    ("resolved_ids", "resolved", "pass"),
    ("unresolved_ids", "unresolved", "fail"),
    ("empty_patch_ids", "empty_patch", "fail"),
    ("error_ids", "error", "error"),
    ("incomplete_ids", "incomplete", "unknown"),
)
TOKEN_KEYS = {
    "input_tokens": ("input_tokens", "prompt_tokens"),
    "output_tokens": ("output_tokens", "completion_tokens"),
}
COST_KEYS = {
    "input_cost_usd": ("input_cost_usd", "input_cost"),
    "output_cost_usd": ("output_cost_usd", "output_cost"),
}
CORE_KEYS = {"instance_id", "model_patch", "model_name_or_path"}
MAX_EXTRA_VALUE = 2000


@dataclass(slots=True)
class Outcome:
    status: str
    verdict: str


@dataclass(slots=True)
class ParsedSubmission:
    name: str
    benchmark: str
    model_name: str | None
    source: str
    fingerprint: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)


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


def parse_results(path: Path) -> tuple[dict[str, Outcome], str]:
    """Harness outcomes by instance id, and the name of the format they came in."""
    text, _ = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(path, exc.lineno, f"not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise BadInput(path, 1, "results must be a JSON object of id lists")
    outcomes: dict[str, Outcome] = {}
    if any(key.endswith("_ids") for key in data):
        for key, status, verdict in RUN_REPORT_LISTS:
            for iid in _id_list(path, data, key):
                outcomes.setdefault(iid, Outcome(status, verdict))
        for iid in _id_list(path, data, "completed_ids"):
            outcomes.setdefault(iid, Outcome("unresolved", "fail"))
        return outcomes, "run_report"
    if data and all(isinstance(v, dict) for v in data.values()):
        for iid, report in data.items():
            outcomes[iid] = _per_instance_outcome(report)
        return outcomes, "per_instance"
    known = {key for key, _ in EXPERIMENT_LISTS}
    if "resolved" not in data:
        raise BadInput(path, 1, "no 'resolved' list and no '*_ids' lists: not a SWE-bench results file")
    for key, verdict in EXPERIMENT_LISTS:
        for iid in _id_list(path, data, key):
            status = "unresolved" if key in ("applied", "with_logs", "generated") else key
            outcomes.setdefault(iid, Outcome(status, verdict))
    unknown_lists = sorted(k for k, v in data.items() if k not in known and isinstance(v, list))
    for key in unknown_lists:
        for iid in _id_list(path, data, key):
            outcomes.setdefault(iid, Outcome(key, "fail"))
    return outcomes, "experiments"


def _per_instance_outcome(report: dict[str, Any]) -> Outcome:
    if report.get("resolved"):
        return Outcome("resolved", "pass")
    if report.get("patch_exists") is False or report.get("patch_is_None"):
        return Outcome("empty_patch", "fail")
    if report.get("patch_successfully_applied") is False:
        return Outcome("no_apply", "fail")
    return Outcome("unresolved", "fail")


def _id_list(path: Path, data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(path, _line_of_key(path, key), f"'{key}' must be a list of instance ids")
    return value


def _line_of_key(path: Path, key: str) -> int | None:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if f'"{key}"' in line:
                return number
    except (OSError, UnicodeDecodeError):
        return None
    return None


def parse_submission(
    predictions: Path,
    *,
    results: Path | None,
    name: str | None,
    benchmark: str | None,
    errors: RowErrors,
) -> ParsedSubmission:
    """Read one submission's predictions and outcomes into rows ready to insert."""
    text, data = read_text(predictions)
    outcomes: dict[str, Outcome] = {}
    results_format = None
    results_bytes = b""
    if results is not None:
        outcomes, results_format = parse_results(results)
        results_bytes = results.read_bytes()
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
        fingerprint=fingerprint(KIND, data, results_bytes, sub_name, bench),
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
        row["verifier_status"] = outcome.status
        row["verifier_verdict"] = outcome.verdict
        row["line"] = lines[iid]
        parsed.rows.append(row)
    missing = set(outcomes) - set(by_id)
    resolved_missing = sorted(i for i in missing if outcomes[i].verdict == "pass")
    if resolved_missing:
        meta["resolved_without_prediction"] = resolved_missing
    return parsed


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
    }
    for column, keys in TOKEN_KEYS.items():
        row[column] = _number(path, line, record, keys, int, errors)
    for column, keys in COST_KEYS.items():
        row[column] = _number(path, line, record, keys, float, errors)
    extra = {}
    for key, value in record.items():
        if key in CORE_KEYS or key in TOKEN_KEYS["input_tokens"] + TOKEN_KEYS["output_tokens"]:
            continue
        if key in COST_KEYS["input_cost_usd"] + COST_KEYS["output_cost_usd"]:
            continue
        encoded = json.dumps(value, ensure_ascii=False)
        extra[key] = value if len(encoded) <= MAX_EXTRA_VALUE else f"<{len(encoded)} characters, not kept>"
    row["extra"] = json.dumps(extra, ensure_ascii=False) if extra else "{}"
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
    parsed: list[ParsedSubmission] = []
    for file in files:
        outcome_file = results if results is not None else find_results(file)
        parsed.append(parse_submission(file, results=outcome_file, name=model, benchmark=benchmark, errors=errors))
        if progress:
            progress(0, None)
    total_rows = sum(len(p.rows) for p in parsed)
    with write_transaction(engine) as conn:
        known = known_fingerprints(conn, [p.fingerprint for p in parsed])
        todo = [p for p in parsed if p.fingerprint not in known]
        report.already_imported = [p.source for p in parsed if p.fingerprint in known]
        report.unchanged += sum(len(p.rows) for p in parsed if p.fingerprint in known)
        if progress and report.unchanged:
            progress(report.unchanged, total_rows)
        task_ids = _ensure_tasks(conn, todo, report)
        for sub in todo:
            added = _insert_submission(conn, sub, task_ids, report)
            record_import(conn, KIND, sub.fingerprint, sub.source, added)
            if progress:
                progress(len(sub.rows), total_rows)
    return report


def _ensure_tasks(conn: Connection, subs: list[ParsedSubmission], report: ImportReport) -> dict[tuple[str, str], int]:
    """Task ids by (benchmark, instance id), adding placeholder tasks that a task file can fill in later."""
    table = Task.__table__
    wanted: dict[str, set[str]] = {}
    for sub in subs:
        wanted.setdefault(sub.benchmark, set()).update(r["instance_id"] for r in sub.rows)
    ids: dict[tuple[str, str], int] = {}
    for bench, instance_ids in wanted.items():
        existing = dict(conn.execute(select(table.c.instance_id, table.c.id).where(table.c.benchmark == bench)).all())
        missing = sorted(instance_ids - existing.keys())
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
            existing = dict(
                conn.execute(select(table.c.instance_id, table.c.id).where(table.c.benchmark == bench)).all()
            )
        for iid in instance_ids:
            ids[(bench, iid)] = existing[iid]
    return ids


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
    rows = []
    differing = 0
    for row in sub.rows:
        task_id = task_ids[(sub.benchmark, row["instance_id"])]
        text = classify_patch(row["raw_patch"])
        if task_id in present:
            report.unchanged += 1
            if present[task_id] != (text.content_hash, row["verifier_status"]):
                differing += 1
            continue
        rows.append(
            {
                "task_id": task_id,
                "submission_id": existing_id,
                "raw_patch": row["raw_patch"],
                "diff_text": text.diff,
                "patch_kind": text.kind,
                "verifier_status": row["verifier_status"],
                "verifier_verdict": row["verifier_verdict"],
                "input_tokens": row["input_tokens"],
                "output_tokens": row["output_tokens"],
                "input_cost_usd": row["input_cost_usd"],
                "output_cost_usd": row["output_cost_usd"],
                "content_hash": text.content_hash,
                "norm_hash": None,
                "line_count": text.line_count,
                "extra": row["extra"],
            }
        )
    if rows:
        conn.execute(patches.insert(), rows)
        report.add("patches", len(rows))
    if differing:
        report.notes.append(
            f"{sub.benchmark}/{sub.name}: {differing} patch(es) differ from the stored ones "
            "(text or verifier status); the stored ones were kept"
        )
    return len(rows)

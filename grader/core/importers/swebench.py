"""SWE-bench predictions with their harness results, as submissions publish them (warts included)."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, select

from grader.core.db import bulk_write_transaction
from grader.core.equivalence import stored_norm_hash
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
HASH_STEP = 32  # rows hashed between two looks at whether to go on


class PatchRow(NamedTuple):
    """One prediction ready to insert; after instance_id, the fields are patch columns in table order.

    The normalised hash, which comes after content_hash in the table, is kept apart (`ParsedSubmission.norm_hashes`)
    because it is filled in later, by whichever import process is idle (`hash_rows`).
    """

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
    line_count: int
    extra: str


class Prediction(NamedTuple):
    """One row of a predictions file, checked."""

    instance_id: str
    raw_patch: str | None
    model: str | None
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_cost_usd: float | None = None
    output_cost_usd: float | None = None
    extra: str = "{}"  # the row's other keys, as JSON


_HASH_AT = PatchRow._fields.index("line_count")  # where norm_hash goes in a row of the patch table


@dataclass(slots=True)
class ParsedSubmission:
    name: str
    benchmark: str
    model_name: str | None
    source: str
    meta: dict[str, Any]
    fingerprint: str = ""  # set by the importer, which fingerprints every file before it writes
    rows: list[PatchRow] = field(default_factory=list)
    norm_hashes: list[str | None] = field(default_factory=list)  # of rows[: len(norm_hashes)], see hash_rows

    def __getstate__(self) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
        """The rows travel as plain tuples: named tuples are pickled one call at a time."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "rows"}
        return values, list(map(tuple, self.rows))

    def __setstate__(self, state: tuple[dict[str, Any], list[tuple[Any, ...]]]) -> None:
        values, rows = state
        for name, value in values.items():
            setattr(self, name, value)
        self.rows = list(map(functools.partial(tuple.__new__, PatchRow), rows))


def hash_rows(
    sub: ParsedSubmission, more: Callable[[], bool] = lambda: True, *, step: int = HASH_STEP
) -> ParsedSubmission:
    """Compute the normalised hash (`equivalence.stored_norm_hash`) of the rows not hashed yet.

    In steps of `step` rows, while `more()` says so (the import's worker process hashes while the writer is
    busy, see `parse_ahead.parsed_in_order`).
    """
    hashes = sub.norm_hashes
    while len(hashes) < len(sub.rows) and more():
        rows = sub.rows[len(hashes) : len(hashes) + step]
        hashes.extend(stored_norm_hash(row.raw_patch, row.diff_text, row.patch_kind) for row in rows)
    return sub


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
) -> ParsedSubmission:
    """Read one submission's predictions and outcomes into rows ready to insert."""
    text, _ = read_text(predictions)
    outcomes: dict[str, Outcome] = {}
    results_format = None
    if results is not None:
        outcomes, results_format = parse_results(results)
    bench = benchmark_for(predictions, benchmark)
    by_id: dict[str, Prediction] = {}
    models: Counter[str] = Counter()
    repeats = 0
    for line, record in iter_json_records(predictions, text, errors):
        row = _prediction_row(predictions, line, record, errors)
        if row is None:
            continue
        if row.instance_id in by_id:
            repeats += 1  # a repeated instance: the later row is the submission's
        by_id[row.instance_id] = row
        if row.model:
            models[row.model] += 1
    sub_name = name or _submission_name(predictions, models)
    meta: dict[str, Any] = {"predictions": str(predictions)}
    if results is not None:
        meta["results"] = str(results)
        meta["results_format"] = results_format
    if repeats:
        meta["repeated_rows"] = repeats
    if len(models) > 1:
        meta["model_names"] = sorted(models)
    resolved_missing = sorted(i for i in outcomes.keys() - by_id.keys() if outcomes[i].verdict == "pass")
    if resolved_missing:
        meta["resolved_without_prediction"] = resolved_missing
    parsed = ParsedSubmission(
        name=sub_name,
        benchmark=bench,
        model_name=models.most_common(1)[0][0] if models else None,
        source=str(predictions),
        meta=meta,
    )
    # Absent from a run report or a per-instance report: not run; absent from an experiments results.json
    # (which lists what was resolved): not resolved.
    unknown = results_format in (None, "run_report", "per_instance")
    unlisted = Outcome("absent", "unknown") if unknown else Outcome("unresolved", "fail")
    for iid, row in by_id.items():
        outcome = outcomes.get(iid, unlisted)
        text = classify_patch(row.raw_patch)
        parsed.rows.append(
            PatchRow(
                iid,
                row.raw_patch,
                text.diff,
                text.kind,
                outcome.status,
                outcome.verdict,
                row.input_tokens,
                row.output_tokens,
                row.input_cost_usd,
                row.output_cost_usd,
                text.content_hash,
                text.line_count,
                row.extra,
            )
        )
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


def _prediction_row(path: Path, line: int, record: Any, errors: RowErrors) -> Prediction | None:
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
    model = model if isinstance(model, str) else None
    if len(record) == 3 and "model_name_or_path" in record:
        return Prediction(iid.strip(), raw, model)  # the common case: nothing but the three core keys
    numbers: list[Any] = [None] * 4
    if NUMBER_KEYS & record.keys():
        try:
            numbers = [_number(record, keys, int) for keys in TOKEN_KEYS.values()]
            numbers += [_number(record, keys, float) for keys in COST_KEYS.values()]
        except ValueError as exc:
            errors.bad(path, line, f"{iid}: {exc}")
            return None  # a row listed as skipped must not be imported
    extra = {}
    for key, value in record.items():
        if key in CORE_KEYS or key in NUMBER_KEYS:
            continue
        encoded = json.dumps(value, ensure_ascii=False)
        extra[key] = value if len(encoded) <= MAX_EXTRA_VALUE else f"<{len(encoded)} characters, not kept>"
    return Prediction(iid.strip(), raw, model, *numbers, json.dumps(extra, ensure_ascii=False) if extra else "{}")


def _number(record: dict[str, Any], keys: tuple[str, ...], kind: type) -> Any:
    """The first of `keys` the record has, as `kind`; a ValueError says why a value is not a usable number."""
    for key in keys:
        if key in record and record[key] is not None:
            value = record[key]
            # JSON's NaN and Infinity are not counts or costs either.
            if isinstance(value, bool) or not isinstance(value, int | float) or not abs(value) < float("inf"):
                raise ValueError(f"'{key}' must be a number, found {value!r}")
            if value < 0:
                raise ValueError(f"'{key}' must not be negative, found {value!r}")
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
    keys = ["task_id", "submission_id", *PatchRow._fields[1:_HASH_AT], "norm_hash", *PatchRow._fields[_HASH_AT:]]
    values = []
    differing = 0
    for row, digest in zip(sub.rows, sub.norm_hashes, strict=True):
        task_id = task_ids[(sub.benchmark, row.instance_id)]
        if task_id in present:
            report.unchanged += 1
            if present[task_id] != (row.content_hash, row.verifier_status):
                differing += 1
            continue
        values.append((task_id, existing_id, *row[1:_HASH_AT], digest, *row[_HASH_AT:]))
    if values:
        bulk_insert(conn, patches, keys, values)
        report.add("patches", len(values))
    if differing:
        report.notes.append(
            f"{sub.benchmark}/{sub.name}: {differing} patch(es) differ from the stored ones "
            "(text or verifier status); the stored ones were kept"
        )
    return len(values)

"""One SWE-bench submission read into rows ready to insert: its predictions with their outcomes, each patch
classified and hashed (the parsing half of `swebench.import_swebench`, run in its parse-ahead worker)."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from grader.core.importers.common import RowErrors, iter_json_records, read_text, record_instance_id
from grader.core.importers.swebench_results import Outcome, parse_results
from grader.core.patches.equivalence import stored_norm_hash
from grader.core.patches.kinds import classify_patch

PREDICTION_FILES = ("all_preds.jsonl", "predictions.jsonl", "preds.jsonl", "all_preds.json", "preds.json")

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


NORM_HASH_AT = PatchRow._fields.index("line_count")  # where norm_hash goes in a row of the patch table


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


def _submission_name(predictions: Path, models: Counter[str]) -> str:
    if predictions.name in PREDICTION_FILES:
        return predictions.parent.resolve().name
    if models:
        return models.most_common(1)[0][0]
    return predictions.stem


def _prediction_row(path: Path, line: int, record: Any, errors: RowErrors) -> Prediction | None:
    iid = record_instance_id(path, line, record, errors, "a JSON object")
    if iid is None:
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

"""SWE-bench harness outcomes: the experiments results.json, the run report (schema 2), per-instance reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.core.importers.common import BadInput, read_text

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
# Per-instance report (`{id: {"resolved": true, ...}}`, the harness's report.json for each instance) flags.
PER_INSTANCE_FLAGS = ("resolved", "patch_exists", "patch_is_None", "patch_successfully_applied")


@dataclass(slots=True)
class Outcome:
    status: str
    verdict: str


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
            outcomes[iid] = _per_instance_outcome(path, iid, report)
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


def _per_instance_outcome(path: Path, iid: str, report: dict[str, Any]) -> Outcome:
    """The harness writes these flags as JSON booleans; any other value ("no", 0, null) is refused, not guessed."""
    for key in PER_INSTANCE_FLAGS:
        if key in report and not isinstance(report[key], bool):
            raise BadInput(
                path, _line_of_key(path, key, after=iid), f"{iid}: '{key}' must be true or false, found {report[key]!r}"
            )
    if "resolved" not in report:
        raise BadInput(path, _line_of_key(path, iid), f"{iid}: no 'resolved' (true or false)")
    if report["resolved"]:
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


def _line_of_key(path: Path, key: str, *, after: str | None = None) -> int | None:
    """The first line quoting `key` (at or after the first line quoting `after`, when given)."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    start = 0
    if after is not None:
        start = next((i for i, line in enumerate(lines) if f'"{after}"' in line), 0)
    for number, line in enumerate(lines[start:], start=start + 1):
        if f'"{key}"' in line:
            return number
    return None

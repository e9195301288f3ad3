"""Import speed: the full shared SWE-bench data through grader vs a plain sqlite3 executemany of the same rows.

    python bench/import_speed.py [--data DIR] [--json]

Both sides run in this process on fresh SQLite files: the baseline reads and parses the same prediction and
results files and inserts one row per prediction (instance id, submission, benchmark, patch, status) with
`sqlite3.executemany` in one transaction. grader's side is `import_swebench` on the same directory (tasks,
submissions, patches with their classification, content hash and normalised hash), then the same import
again (re-import), then an export of everything as CSV.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.core.export.graded_set import export_csv
from grader.core.importers.swebench import find_predictions, find_results, import_swebench
from grader.core.store.db import make_engine


def default_data() -> Path:
    env = os.environ.get("GRADER_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "swebench"


def baseline(data: Path, db_path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    con = sqlite3.connect(db_path)
    con.execute(
        "CREATE TABLE patch (id INTEGER PRIMARY KEY, benchmark TEXT, submission TEXT, instance_id TEXT, "
        "model TEXT, model_patch TEXT, status TEXT)"
    )
    rows = []
    for preds in find_predictions(data):
        text = preds.read_text(encoding="utf-8")
        records = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
        results_path = find_results(preds)
        resolved = set(json.loads(results_path.read_text())["resolved"]) if results_path else set()
        bench = preds.parent.parent.name
        for record in records:
            iid = record["instance_id"]
            rows.append(
                (
                    bench,
                    preds.parent.name,
                    iid,
                    record.get("model_name_or_path"),
                    record["model_patch"],
                    "resolved" if iid in resolved else "unresolved",
                )
            )
    con.executemany(
        "INSERT INTO patch (benchmark, submission, instance_id, model, model_patch, status) VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.commit()
    con.close()
    return time.perf_counter() - start, len(rows)


def run(data: Path) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as tmp:
        base_s, base_rows = baseline(data, Path(tmp) / "baseline.db")
        engine = make_engine(f"sqlite:///{tmp}/grader.db")
        start = time.perf_counter()
        report = import_swebench(engine, data)
        import_s = time.perf_counter() - start
        start = time.perf_counter()
        again = import_swebench(engine, data)
        reimport_s = time.perf_counter() - start
        start = time.perf_counter()
        exported = export_csv(engine, Path(tmp) / "export.csv")
        export_s = time.perf_counter() - start
        engine.dispose()
    return {
        "rows": base_rows,
        "patches_imported": report.added.get("patches", 0),
        "reimport_added": again.total_added,
        "exported_rows": exported,
        "baseline_s": round(base_s, 3),
        "import_s": round(import_s, 3),
        "ratio": round(import_s / base_s, 2),
        "reimport_s": round(reimport_s, 3),
        "reimport_ratio": round(reimport_s / base_s, 2),
        "export_s": round(export_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = run(args.data)
    if args.json:
        print(json.dumps(figures))
        return
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print("\ntargets: ratio <= 2.0, reimport_ratio <= 1.0, export_s < 2.0")


if __name__ == "__main__":
    main()

"""Importing the published label files (OpenAI's Verified annotation and Agentless's Lite classification) through
grader vs a plain sqlite3 executemany of the same cells.

    python bench/labels_import.py [--data DIR] [--json]

Both run in this process on fresh SQLite files. The baseline reads both CSVs with the csv module and inserts one
row per (task, column) with `sqlite3.executemany` in one transaction. grader's side is `import_labels` for both
files (parsing, mapping every cell to the rubric's option, one transaction each, the repeat check). The issue's
goal: both files in under 5 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.core.importers.labels import RATERS, import_labels
from grader.core.store.db import make_engine

FILES = {
    "openai-verified": "openai_swebench_verified_ensembled_annotations_public.csv",
    "agentless-lite": "agentless_swebench_lite_classifications.csv",
}


def default_data() -> Path:
    env = os.environ.get("GRADER_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def baseline(data: Path, db_path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    csv.field_size_limit(sys.maxsize)
    con = sqlite3.connect(db_path)
    con.execute("CREATE TABLE label (id INTEGER PRIMARY KEY, rater TEXT, instance_id TEXT, question TEXT, value TEXT)")
    rows = []
    for rater, name in FILES.items():
        with open(data / name, encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                for column in RATERS[rater].columns:
                    if record.get(column):
                        rows.append((rater, record["instance_id"], column, record[column]))
    with con:
        con.executemany("INSERT INTO label (rater, instance_id, question, value) VALUES (?, ?, ?, ?)", rows)
    con.close()
    return time.perf_counter() - start, len(rows)


def grader_import(data: Path, db_path: Path) -> tuple[float, int]:
    engine = make_engine(f"sqlite:///{db_path}")
    start = time.perf_counter()
    added = 0
    for rater, name in FILES.items():
        added += import_labels(engine, data / name, rater=rater).added.get("labels", 0)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base_s, base_rows = baseline(args.data, Path(folder) / "baseline.db")
        grader_s, labels = grader_import(args.data, Path(folder) / "grader.db")
    figures = {
        "import_both_files_s": round(grader_s, 3),
        "labels": labels,
        "baseline_s": round(base_s, 3),
        "baseline_rows": base_rows,
        "ratio_to_baseline": round(grader_s / base_s, 2) if base_s else None,
        "goal_s": 5.0,
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"both label files through grader: {grader_s:.3f} s ({labels} labels; goal under 5 s)")
    print(f"plain sqlite3 executemany of the same cells: {base_s:.3f} s ({base_rows} rows)")
    print(f"ratio: {figures['ratio_to_baseline']}x")


if __name__ == "__main__":
    main()

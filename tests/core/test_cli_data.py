"""The data commands through the CLI: import, status, export, and their errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from grader.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_status_export(tmp_path: Path, data_dir: Path) -> None:
    db = str(tmp_path / "g.db")
    code, out, _ = _run("import", "swebench", str(data_dir / "subs"), "--db", db)
    assert code == 0, out
    assert "added 9 tasks, 3 submissions, 12 patches" in out
    code, out, _ = _run("import", "swebench", str(data_dir / "subs"), "--db", db)
    assert code == 0 and "nothing new" in out
    code, out, _ = _run("import", "tasks", str(data_dir / "tasks_verified.csv"), "--db", db)
    assert code == 0 and "2 updated" in out
    code, out, _ = _run("status", "--db", db, "--json")
    status = json.loads(out)
    assert sum(r["patches"] for r in status["rows"]) == 12
    assert status["tasks_with_problem_statement"] == 2
    code, out, _ = _run("status", "--db", db)
    assert "alpha_agent" in out and "12" in out
    target = tmp_path / "out.csv"
    code, _, err = _run("export", "--db", db, "-o", str(target))
    assert code == 0 and "wrote 12 rows" in err
    assert len(list(csv.DictReader(target.open()))) == 12


def test_bad_file_names_line_and_imports_nothing(tmp_path: Path, data_dir: Path) -> None:
    db = str(tmp_path / "g.db")
    code, _, err = _run("import", "swebench", str(data_dir / "bad_preds.jsonl"), "--model", "m", "--db", db)
    assert code == 1
    assert f"{data_dir / 'bad_preds.jsonl'}:3: not valid JSON" in err
    assert "nothing was imported" in err
    code, out, _ = _run("status", "--db", db, "--json")
    assert json.loads(out)["rows"] == []
    code, out, _ = _run(
        "import", "swebench", str(data_dir / "bad_preds.jsonl"), "--model", "m", "--db", db, "--skip-bad"
    )
    assert code == 0 and "skipped 2 bad row(s)" in out


def test_newer_schema_is_a_clear_error(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    db = tmp_path / "g.db"
    _run("status", "--db", str(db))
    raw = create_engine(f"sqlite:///{db}")
    with raw.begin() as conn:
        conn.execute(text("UPDATE grader_meta SET value = '7' WHERE key = 'schema_version'"))
    raw.dispose()
    code, _, err = _run("status", "--db", str(db))
    assert code == 1 and "newer grader" in err and "Traceback" not in err


def test_python_dash_m_grader(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "grader", "status", "--db", str(tmp_path / "g.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "The store is empty" in out.stdout


def test_status_with_tasks_but_no_patches(tmp_path: Path, data_dir: Path) -> None:
    db = str(tmp_path / "g.db")
    code, out, _ = _run("import", "tasks", str(data_dir / "tasks_verified.csv"), "--db", db)
    assert code == 0, out
    code, out, _ = _run("status", "--db", db)
    assert code == 0
    assert "The store is empty" not in out
    assert "2 tasks (2 with a problem statement) but no patches yet" in out

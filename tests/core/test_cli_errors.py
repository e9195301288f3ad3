"""CLI errors a user can cause are one line naming the path or the name and the problem, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app

runner = CliRunner()


def _fails(*args: str) -> str:
    """Run the CLI, check it failed cleanly (exit 1, no traceback) and return its stderr."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.stderr


@pytest.fixture
def db(tmp_path: Path, data_dir: Path) -> str:
    """A store holding the test submissions (benchmarks swe-bench-lite and -verified; alpha_agent, beta_agent)."""
    path = str(tmp_path / "g.db")
    result = runner.invoke(app, ["import", "swebench", str(data_dir / "subs"), "--db", path])
    assert result.exit_code == 0, result.output
    return path


# --- files that cannot be read or written -------------------------------------------------------------------


@pytest.mark.parametrize("command", ["tasks", "csv"])
def test_import_of_a_missing_file_or_a_directory(tmp_path: Path, command: str) -> None:
    db = str(tmp_path / "g.db")
    missing = tmp_path / "missing.jsonl"
    err = _fails("import", command, str(missing), "--db", db)
    assert f"{missing}: no such file or directory" in err and "nothing was imported" in err
    err = _fails("import", command, str(tmp_path), "--db", db)
    assert f"{tmp_path}: is a directory, not a file" in err


def test_import_swebench_with_missing_results(tmp_path: Path, data_dir: Path) -> None:
    db = str(tmp_path / "g.db")
    preds = data_dir / "bad_preds.jsonl"
    err = _fails("import", "swebench", str(preds), "--model", "m", "--results", str(tmp_path / "r.json"), "--db", db)
    assert f"--results {tmp_path / 'r.json'}: no such file or directory" in err
    err = _fails("import", "swebench", str(preds), "--model", "m", "--results", str(tmp_path), "--db", db)
    assert f"--results {tmp_path}: is a directory, not a file" in err


@pytest.mark.parametrize("command", ["export", "verifier-check"])
def test_output_to_a_missing_directory_or_a_directory(tmp_path: Path, db: str, command: str) -> None:
    nowhere = tmp_path / "nodir" / "x.csv"
    err = _fails(command, "-o", str(nowhere), "--db", db)
    assert f"cannot write {nowhere}: {nowhere.parent} does not exist" in err
    err = _fails(command, "--output", str(tmp_path), "--db", db)
    assert f"cannot write {tmp_path}: it is a directory" in err
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    err = _fails(command, "-o", str(a_file / "x.csv"), "--db", db)
    assert f"{a_file} is a file, not a directory" in err


def test_database_under_a_file_or_at_a_directory(tmp_path: Path) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    err = _fails("status", "--db", str(a_file / "sub" / "g.db"))
    assert f"{a_file} is a file, not a directory" in err and "File exists" not in err
    err = _fails("status", "--db", str(tmp_path))
    assert f"{tmp_path} is a directory, not a database file" in err


def test_any_os_error_is_one_line_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.core.importers.tasks as tasks_importer

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "tasks.jsonl")

    monkeypatch.setattr(tasks_importer, "import_tasks", refuse)
    target = tmp_path / "tasks.jsonl"
    target.write_text("")
    err = _fails("import", "tasks", str(target), "--db", str(tmp_path / "g.db"))
    assert err.strip() == "grader: tasks.jsonl: permission denied"


# --- names the store does not hold ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["stats", "--json"],
        ["plan"],
        ["verifier-check"],
        ["review"],
        ["session", "create", "s", "--size", "4"],
    ],
)
def test_unknown_benchmark_is_an_error(db: str, command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.cli import review_commands

    monkeypatch.setattr(review_commands, "_run_app", _no_screen)
    err = _fails(*command, "--benchmark", "nope", "--db", db)
    assert "no benchmark named nope in the store (its benchmarks: swe-bench-lite, swe-bench-verified)" in err


def test_unknown_model_is_an_error_for_review(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.cli import review_commands

    monkeypatch.setattr(review_commands, "_run_app", _no_screen)
    err = _fails("review", "--model", "nope", "--reviewer", "ana", "--db", db)
    assert "no model named nope in the store" in err


def test_known_names_still_pass(db: str) -> None:
    result = runner.invoke(app, ["verifier-check", "--benchmark", "swe-bench-lite", "--json", "--db", db])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["stats", "--benchmark", "swe-bench-verified", "--model", "alpha_agent", "--db", db])
    assert result.exit_code == 0, result.output


def test_review_refuses_a_reviewer_not_on_the_session(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.cli import review_commands

    opened: list[str] = []
    monkeypatch.setattr(review_commands, "_run_app", lambda _engine, reviewer, *_args: opened.append(reviewer))
    created = runner.invoke(app, ["session", "create", "q3", "--size", "4", "--reviewers", "ana,ben", "--db", db])
    assert created.exit_code == 0, created.output
    err = _fails("review", "--session", "q3", "--reviewer", "zed", "--db", db)
    assert "zed is not a reviewer of session q3 (ana, ben)" in err
    assert opened == []
    for args in (["--reviewer", "ana"], ["--reviewer", "zed", "--adjudicate"]):  # an adjudicator may be anyone
        result = runner.invoke(app, ["review", "--session", "q3", *args, "--db", db])
        assert result.exit_code == 0, result.output
    assert opened == ["ana", "zed"]


def _no_screen(*_args: object) -> None:
    raise AssertionError("the review screen opened")


# --- messages --------------------------------------------------------------------------------------------------


def test_gold_add_without_answer_says_it_is_required(db: str) -> None:
    err = _fails("gold", "add", "3", "--db", db)
    assert "--answer is required" in err and "not ''" not in err

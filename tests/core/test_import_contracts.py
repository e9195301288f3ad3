"""The import-linter contracts in pyproject.toml hold on the code, and each one breaks on a planted violation.

The planted cases run `lint-imports` on a copy of the package with one import added, so a contract that stopped
checking anything (a typo in a layer name, a contract dropped from the file) fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert command, "lint-imports is not installed (it is in the test extras)"
    env = {**os.environ, "PYTHONPATH": str(root)}  # the copy, not the installed checkout
    return subprocess.run(
        [command, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract", "detail"),
    [
        (
            "grader/core/store/models.py",
            "import grader.core.stats.report",
            "grader.core layers",
            "grader.core.store is not allowed to import grader.core.stats",
        ),
        (
            "grader/core/patches/index.py",
            "import grader.core.audit.sessions",
            "grader.core layers",
            "grader.core.patches is not allowed to import grader.core.audit",
        ),
        (
            "grader/core/text/sanitize.py",
            "import textual.widget",
            "grader.core never imports the UI",
            "grader.core is not allowed to import textual",
        ),
        (
            "grader/core/stats/agreement.py",
            "import typer",
            "grader.core never imports the UI",
            "grader.core is not allowed to import typer",
        ),
        (
            "grader/tui/messages.py",
            "import grader.cli.app",
            "The CLI and the TUI are clients of the core",
            "grader.tui is not allowed to import grader.cli",
        ),
        (
            "grader/core/patches/entries.py",
            "import grader.core.patches.index",
            "No import cycles",
            "No cycles are allowed in grader.core.patches",
        ),
    ],
)
def test_a_planted_violation_breaks_its_contract(
    tmp_path: Path, module: str, planted: str, contract: str, detail: str
) -> None:
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "grader", copy / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / module
    target.write_text(target.read_text() + f"\n{planted}  # planted\n")

    result = lint_imports(copy)

    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken
    assert detail in broken

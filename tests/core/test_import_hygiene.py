"""The core is headless: importing it (and the CLI's data commands) never loads textual."""

import subprocess
import sys

MODULES = [
    "grader",
    "grader.core.store.db",
    "grader.core.store.models",
    "grader.core.store.verdicts",
    "grader.core.export.graded_set",
    "grader.core.patches.kinds",
    "grader.core.importers.swebench",
    "grader.core.importers.tasks",
    "grader.core.importers.graded_csv",
]


def test_core_never_imports_textual() -> None:
    import pkgutil

    import grader.core

    every_core_module = [m.name for m in pkgutil.walk_packages(grader.core.__path__, "grader.core.")]
    code = (
        "import importlib, sys\n"
        f"for name in {sorted(set(MODULES + every_core_module))!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"grader.core loaded textual modules: {out.stdout.strip()}"

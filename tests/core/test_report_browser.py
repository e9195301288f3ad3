"""The audit report in a real browser (headless Chromium from Debian's packages, installed by .ci/run): rendered to
PNG and to the DOM, no console errors, one leaderboard bar pair per model, every figure present and equal to
`grader stats --json`, and no http/https resource reference."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app
from grader.core.export.report import Fig, resolve
from tests.conftest import IN_CI

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = os.environ.get("GRADER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if IN_CI:
            pytest.fail("chromium is required under CI (.ci/run installs it: apt-get install -y chromium)")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    return found


def run_chromium(chromium: str, tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"  # a fresh user data dir each run
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def console_errors(stderr: str) -> list[str]:
    """Console messages and page errors Chromium logged (its own dbus/GPU start-up noise is not the page's)."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line or "net::ERR_" in line]


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.figures: list[tuple[str, str, str, str]] = []  # key, value, kind, text
        self.pairs: list[str] = []
        self.urls: list[str] = []
        self._open: dict[str, str] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        for name in ("src", "href", "xlink:href", "srcset", "action", "poster", "data"):
            if name in found and tag != "data":
                self.urls.append(found[name])
        if "style" in found:
            self.urls.append(found["style"])
        if tag == "g" and "bar-pair" in found.get("class", "").split():
            self.pairs.append(found.get("data-model", ""))
        if tag == "data":
            self._open, self._text = found, ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text += data
        if "url(" in data:
            self.urls.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "data" and self._open is not None:
            self.figures.append((self._open["data-key"], self._open["value"], self._open["data-kind"], self._text))
            self._open = None


def _store(tmp_path: Path) -> str:
    from grader.cli.review_commands import load_demo
    from grader.core.importers.rubrics import load_rubric
    from grader.core.store.rubric_answers import GivenAnswers, store_rubric
    from grader.core.store.verdicts import record_verdict

    url = f"sqlite:///{tmp_path / 'report.db'}"
    engine = load_demo(url, Path(__file__).resolve().parents[2] / "sample_data")
    rubric = load_rubric("swebench-verified")
    rubric_id = store_rubric(engine, name=rubric.name, digest=rubric.digest, text=rubric.text)  # type: ignore[arg-type]
    for patch_id, (verdict, level) in enumerate([("pass", "0"), ("fail", "2"), ("fail", "3"), ("pass", "1")], start=1):
        answers = GivenAnswers(rubric_id, {"underspecified": level, "false_negative": "1", "other_major_issues": "0"})
        record_verdict(engine, patch_id=patch_id, reviewer="cy", verdict=verdict, answers=answers)  # type: ignore[arg-type]
    engine.dispose()  # type: ignore[attr-defined]
    return url


def test_the_report_renders_in_chromium_with_every_figure_equal_to_stats_json(chromium: str, tmp_path: Path) -> None:
    db = _store(tmp_path)
    runner = CliRunner()
    page = tmp_path / "audit.html"
    made = runner.invoke(app, ["report", "--db", db, "--rubric-questions", "-o", str(page)])
    assert made.exit_code == 0, made.output
    stats = json.loads(runner.invoke(app, ["stats", "--db", db, "--json"]).output)
    html = page.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html  # not even a namespace: nothing to fetch

    png = tmp_path / "audit.png"
    shot = run_chromium(chromium, tmp_path, page, "--window-size=1000,3000", f"--screenshot={png}")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1000, 3000)
    assert console_errors(shot.stderr) == []

    dumped = run_chromium(chromium, tmp_path, page, "--dump-dom")
    assert console_errors(dumped.stderr) == []
    dom = Dom()
    dom.feed(dumped.stdout)
    assert dom.pairs == [row["model"] for row in stats["leaderboard"]]  # one bar pair per model
    assert not [url for url in dom.urls if "http:" in url or "https:" in url]
    shown = {}
    for key, value, kind, text in dom.figures:
        expected = resolve(stats, key)
        assert float(value) == expected, key
        assert text == Fig(expected, key, kind).text(), key
        shown[key] = expected
    wanted = ["/overall/n", "/overall/false_accept_rate/value", "/overall/false_reject_rate/value"]
    for i, row in enumerate(stats["leaderboard"]):
        wanted.append(f"/leaderboard/{i}/verifier_pass_rate/value")
        if row["corrected_pass_rate"]["estimate"] is not None:
            wanted.append(f"/leaderboard/{i}/corrected_pass_rate/estimate")
    for model in stats["by_model"]:
        wanted += [f"/by_model/{model}/false_accept_rate/value", f"/by_model/{model}/false_reject_rate/value"]
    for name, figure in (("cohen_kappa", "/overall/cohen_kappa/value"), ("gwet_ac1", "/overall/gwet_ac1/value")):
        if stats["overall"][name]["value"] is not None:
            wanted.append(figure)
    question = stats["rubric"]["swebench-verified"]["questions"][0]
    assert question["id"] == "underspecified"
    wanted += [f"/rubric/swebench-verified/questions/0/options/{i}/overall/value" for i in range(4)]
    missing = [key for key in wanted if key not in shown]
    assert missing == []


def test_the_console_check_catches_a_page_error(chromium: str, tmp_path: Path) -> None:
    """The check above can fail: a page with a script error is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>undefinedFunction()</script></body></html>")
    dumped = run_chromium(chromium, tmp_path, page, "--dump-dom")
    assert console_errors(dumped.stderr)


def test_markdown_has_the_same_figures(tmp_path: Path) -> None:
    db = _store(tmp_path)
    runner = CliRunner()
    out = tmp_path / "audit.md"
    made = runner.invoke(app, ["report", "--db", db, "--rubric-questions", "--format", "md", "-o", str(out)])
    assert made.exit_code == 0, made.output
    text = out.read_text(encoding="utf-8")
    stats = json.loads(runner.invoke(app, ["stats", "--db", db, "--json"]).output)
    for row in stats["leaderboard"]:
        assert row["model"] in text
        assert Fig(row["verifier_pass_rate"]["value"], "", "pct").text() in text
    assert "## Corrected leaderboard" in text and "█" in text and "| answer |" in text

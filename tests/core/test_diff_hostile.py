"""Hostile patch text is shown inert: no escape, control character or markup reaches the terminal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from grader.cli import app
from grader.core.patches.stdout import render_patch_text
from grader.core.store.models import Patch, Submission, Task
from grader.core.text.sanitize import MAX_LINE_CHARS, decode_patch_bytes, sanitize_line

HOSTILE = Path(__file__).resolve().parent.parent / "data" / "hostile"
HOSTILE_FILES = sorted(HOSTILE.glob("*.diff"))
SGR = re.compile(r"\x1b\[[0-9;]*m")
# Anything a terminal could act on: C0 but newline, DEL, C1, and bidi/invisible format characters.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


def read_hostile(path: Path) -> str:
    return decode_patch_bytes(path.read_bytes())[0]


def assert_plain_is_inert(output: str) -> None:
    assert not UNSAFE.search(output), repr(UNSAFE.search(output))


def assert_colour_is_only_sgr(output: str) -> None:
    assert_plain_is_inert(SGR.sub("", output).replace("\x1b", "\x00"))


def test_there_are_hostile_samples() -> None:
    assert len(HOSTILE_FILES) >= 6


@pytest.mark.parametrize("path", HOSTILE_FILES, ids=lambda path: path.name)
def test_hostile_patches_render_inert(path: Path) -> None:
    text = read_hostile(path)
    plain = render_patch_text(text, color=False)
    assert_plain_is_inert(plain)
    assert_colour_is_only_sgr(render_patch_text(text, color=True))
    assert plain.strip()


def test_escapes_show_as_visible_placeholders() -> None:
    plain = render_patch_text(read_hostile(HOSTILE / "ansi_escapes.diff"), color=False)
    assert "␛[31mred␛[0m" in plain
    assert "␛]8;;https://evil.example/␇click" in plain
    assert "control characters" in plain  # the notice


def test_markup_is_shown_literally() -> None:
    plain = render_patch_text(read_hostile(HOSTILE / "rich_markup.diff"), color=False)
    assert "[bold]not bold[/bold]" in plain
    assert "[link=https://evil.example]click[/link] [reverse]:smile:" in plain
    assert "[blink]context[/blink]" in plain


def test_backspace_carriage_return_and_bidi_are_visible() -> None:
    plain = render_patch_text(read_hostile(HOSTILE / "bel_backspace_cr.diff"), color=False)
    assert "␈␈␈␈␈True ␍# looks fine" in plain and "ok = True␇␇" in plain
    bidi = render_patch_text(read_hostile(HOSTILE / "c1_and_bidi.diff"), color=False)
    assert "<U+202E>" in bidi and "<U+2066>" in bidi and "<U+009B>31m" in bidi and "␀nul␡del" in bidi


def test_invalid_utf8_gets_replacement_characters_and_a_notice() -> None:
    text, notice = decode_patch_bytes((HOSTILE / "invalid_utf8.diff").read_bytes())
    assert notice is not None and "invalid UTF-8" in notice
    assert "caf\ufffd" in text and "café" in text
    # Lone surrogates (undecodable bytes carried through JSON) are replaced too, with a notice.
    plain = render_patch_text("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\udcff\n", color=False)
    assert "b\ufffd" in plain and "invalid UTF-8" in plain


def test_tabs_expand_and_long_lines_are_capped() -> None:
    assert sanitize_line("a\tb\t\tc") == "a   b       c"
    line = "x" * 100_000
    plain = render_patch_text(f"--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-{line}\n+{line}y\n", color=False)
    longest = max(len(out) for out in plain.splitlines())
    assert MAX_LINE_CHARS < longest < MAX_LINE_CHARS + 100
    assert "more characters" in plain


# -- grader show ---------------------------------------------------------------------------------------------
runner = CliRunner()


def test_show_file_plain_and_colour() -> None:
    path = HOSTILE / "ansi_escapes.diff"
    plain = runner.invoke(app, ["show", "--plain", str(path)])
    assert plain.exit_code == 0, plain.output
    assert "evil.py" in plain.stdout
    assert_plain_is_inert(plain.stdout)
    assert "\x1b" not in plain.stdout
    colour = runner.invoke(app, ["show", "--color", str(path)])
    assert colour.exit_code == 0
    assert SGR.search(colour.stdout)
    assert_colour_is_only_sgr(colour.stdout)


def test_show_defaults_to_plain_when_piped() -> None:
    result = runner.invoke(app, ["show", str(HOSTILE / "rich_markup.diff")])
    assert result.exit_code == 0 and "\x1b" not in result.stdout


def test_show_rejects_unknown_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", str(tmp_path / "missing.diff")])
    assert result.exit_code != 0


def _store_patch(engine: Engine, raw: str | None, diff_text: str | None, kind: str) -> int:
    with engine.begin() as conn:
        task = conn.execute(Task.__table__.insert().values(benchmark="b", instance_id=f"t-{kind}")).inserted_primary_key
        submission = conn.execute(
            Submission.__table__.insert().values(benchmark="b", name=f"s-{kind}")
        ).inserted_primary_key
        return int(
            conn.execute(
                Patch.__table__.insert().values(
                    task_id=task[0], submission_id=submission[0], raw_patch=raw, diff_text=diff_text, patch_kind=kind
                )
            ).inserted_primary_key[0]
        )


def test_show_stored_patches_of_every_kind(sqlite_engine: Engine) -> None:
    url = str(sqlite_engine.url)
    diff = (HOSTILE / "ansi_escapes.diff").read_text()
    ids = {
        "diff": _store_patch(sqlite_engine, diff, None, "diff"),
        "extracted": _store_patch(sqlite_engine, "Fix:\n```diff\n" + diff + "```\n", diff, "extracted"),
        "no_diff": _store_patch(sqlite_engine, "I think \x1b[31mthis\x1b[0m is right", "", "no_diff"),
        "empty": _store_patch(sqlite_engine, "   ", "", "empty"),
        "null": _store_patch(sqlite_engine, None, "", "null"),
    }
    outputs = {}
    for kind, patch_id in ids.items():
        result = runner.invoke(app, ["show", "--plain", "--db", url, str(patch_id)])
        assert result.exit_code == 0, (kind, result.output)
        assert_plain_is_inert(result.stdout)
        outputs[kind] = result.stdout
    assert "evil.py" in outputs["diff"] and "evil.py" in outputs["extracted"]
    assert "Fix:" not in outputs["extracted"] and "extracted" in outputs["extracted"]
    assert "has no diff" in outputs["no_diff"] and "␛[31mthis" in outputs["no_diff"]
    assert "empty" in outputs["empty"] and "null" in outputs["null"]
    missing = runner.invoke(app, ["show", "--plain", "--db", url, "999999"])
    assert missing.exit_code != 0

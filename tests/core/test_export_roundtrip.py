"""Export, then import into an empty store, then export again: the same file, byte for byte."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from grader.core.export.graded_set import COLUMNS, write_csv, write_jsonl
from grader.core.importers.common import BadInput
from grader.core.importers.graded_csv import import_graded_csv
from grader.core.importers.swebench import import_swebench
from grader.core.importers.tasks import import_tasks
from grader.core.store.db import make_engine
from grader.core.store.models import Patch, Submission, Task
from grader.core.store.verdicts import record_verdict
from grader.core.text.csvcells import neutralise, restore


def _patch_id(engine: Engine, model: str, task: str) -> int:
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(p.c.id)
                .join(s, s.c.id == p.c.submission_id)
                .join(t, t.c.id == p.c.task_id)
                .where(s.c.name == model, t.c.instance_id == task, s.c.benchmark == "swe-bench-verified")
            ).scalar_one()
        )


def _graded_store(engine: Engine, data_dir: Path) -> None:
    import_swebench(engine, data_dir / "subs")
    import_tasks(engine, data_dir / "tasks_verified.csv")
    first = _patch_id(engine, "alpha_agent", "acme__calc-1")
    second = _patch_id(engine, "beta_agent", "acme__calc-2")
    record_verdict(
        engine, patch_id=first, reviewer="ana", verdict="pass", seconds_spent=41.5, note="ok\u2028pasted\x85"
    )
    record_verdict(
        engine, patch_id=first, reviewer="ben", verdict="fail", note='=HYPERLINK("http://x")', tags=["incomplete"]
    )
    record_verdict(engine, patch_id=second, reviewer="ana", verdict="fail", note="first look")
    record_verdict(
        engine,
        patch_id=second,
        reviewer="ana",
        verdict="unsure",
        note="-looks fine, 'but' tests weak\nsecond line",
        tags=["tests too weak", "style only"],
        revealed_before=True,
    )
    third = _patch_id(engine, "beta_agent", "acme__calc-1")
    record_verdict(engine, patch_id=third, reviewer="cy", verdict="pass")
    record_verdict(engine, patch_id=third, reviewer="cy", verdict="retracted")


def _export(engine: Engine) -> str:
    out = io.StringIO()
    write_csv(engine, out)
    return out.getvalue()


def test_export_import_export_is_lossless(engine: Engine, data_dir: Path, tmp_path: Path) -> None:
    _graded_store(engine, data_dir)
    first = _export(engine)
    path = tmp_path / "graded.csv"
    path.write_text(first, encoding="utf-8")
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    report = import_graded_csv(fresh, path)
    assert report.added["verdicts"] == 3
    assert _export(fresh) == first
    again = import_graded_csv(fresh, path)
    assert again.total_added == 0
    # Importing into the store it came from adds nothing either.
    assert import_graded_csv(engine, path).total_added == 0
    fresh.dispose()


def test_export_rows_columns_and_formula_cells(engine: Engine, data_dir: Path) -> None:
    _graded_store(engine, data_dir)
    rows = list(csv.DictReader(io.StringIO(_export(engine))))
    assert tuple(rows[0].keys()) == COLUMNS
    assert list(COLUMNS[:8]) == [
        "task_id",
        "model",
        "auto_verdict",
        "human_verdict",
        "input_tokens",
        "output_tokens",
        "input_cost_usd",
        "output_cost_usd",
    ]
    assert len(rows) == 12 + 1  # one patch carries two reviewers' verdicts
    by_key = {(r["model"], r["task_id"], r["reviewer"]): r for r in rows}
    ben = by_key[("alpha_agent", "acme__calc-1", "ben")]
    assert ben["note"] == '\'=HYPERLINK("http://x")'
    assert ben["human_verdict"] == "fail" and ben["auto_verdict"] == "pass"
    ana = by_key[("beta_agent", "acme__calc-2", "ana")]
    assert ana["human_verdict"] == "unsure" and ana["tags"] == "tests too weak; style only"
    assert ana["note"].startswith("'-looks fine")
    assert ana["revealed_before"] == "true"
    # A retracted verdict leaves the patch ungraded.
    retracted = by_key[("beta_agent", "acme__calc-1", "")]
    assert retracted["human_verdict"] == ""
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_jsonl_export(engine: Engine, data_dir: Path) -> None:
    import json

    _graded_store(engine, data_dir)
    out = io.StringIO()
    assert write_jsonl(engine, out) == 13
    first = json.loads(out.getvalue().splitlines()[0])
    assert set(COLUMNS) <= set(first)


@pytest.mark.parametrize("cell", ["=1+2", "+x", "-3", "@SUM(A1)", "'quoted", "\tTab", "plain", "", "|cmd"])
def test_neutralise_round_trips(cell: str) -> None:
    assert restore(neutralise(cell)) == cell
    if cell and cell[0] in "=+-@\t|":
        assert neutralise(cell).startswith("'")


def test_bad_human_verdict_names_the_line(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "graded.csv"
    path.write_text("task_id,model,auto_verdict,human_verdict\na__b-1,m,pass,PASS\na__b-2,m,fail,maybe\n")
    with pytest.raises(BadInput) as caught:
        import_graded_csv(engine, path)
    assert caught.value.line == 3 and "'maybe'" in caught.value.problem
    path.write_text("task_id,model,verdict\na__b-1,m,pass\n")
    with pytest.raises(BadInput, match="missing column"):
        import_graded_csv(engine, path)


def test_audit_script_csv_without_ids_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "audit.csv"
    path.write_text(
        "task_id,model,auto_verdict,human_verdict,input_tokens,output_tokens,input_cost_usd,output_cost_usd\n"
        "a__b-1,m1,pass,Fail,100,20,0.01,0.02\n"
        "a__b-2,m1,fail,pass,,,,\n"
        "a__b-3,m1,pass,,,,,\n"
    )
    report = import_graded_csv(engine, path)
    assert report.added == {"tasks": 3, "submissions": 1, "patches": 3, "verdicts": 2}
    path.write_text(path.read_text() + "\n")  # a different file with the same rows
    assert import_graded_csv(engine, path).total_added == 0


def test_a_row_with_more_cells_than_the_header_is_skipped_with_skip_bad(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text(
        "task_id,model,auto_verdict,human_verdict\na__b-1,m,pass,pass\na__b-2,m,pass,fail,extra\na__b-3,m,fail,fail\n"
    )
    with pytest.raises(BadInput) as caught:
        import_graded_csv(engine, path)
    assert caught.value.line == 3 and "more cells than the header" in caught.value.problem
    report = import_graded_csv(engine, path, skip_bad=True)
    assert report.added["verdicts"] == 2
    assert [(s.line, s.problem.split(" (")[0]) for s in report.skipped] == [
        (3, "more cells than the header has columns")
    ]


def test_an_unclosed_quote_is_named_at_the_line_it_opens(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    header = "task_id,model,auto_verdict,human_verdict,note\n"
    path.write_text(header + 'a__b-1,m,pass,pass,"two\nlines"\n"a__b-2,m,pass,pass,\na__b-3,m,fail,fail,\n')
    for skip_bad in (False, True):
        with pytest.raises(BadInput) as caught:
            import_graded_csv(engine, path, skip_bad=skip_bad)
        assert caught.value.line == 4 and "never closed" in caught.value.problem
    # Closed quotes, even at the very end of the file and around doubled quotes, are fine.
    path.write_text(header + 'a__b-1,m,pass,pass,\na__b-2,m,"pass","",""\na__b-3,m,"fail","fail","say ""hi""\n"')
    assert import_graded_csv(engine, path).added["verdicts"] == 2


def test_a_file_with_skipped_rows_is_not_recorded_as_imported(engine: Engine, tmp_path: Path) -> None:
    from sqlalchemy import func

    from grader.core.store.models import ImportRecord

    def records() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ImportRecord.__table__)).scalar_one())

    path = tmp_path / "badv.csv"
    path.write_text("task_id,model,auto_verdict,human_verdict\na__b-1,m,pass,maybe\na__b-2,m,pass,nope\n")
    report = import_graded_csv(engine, path, skip_bad=True)
    assert report.total_added == 0 and len(report.skipped) == 2
    assert report.summary().splitlines()[0] == f"{path}: nothing added: 2 bad row(s) skipped"
    assert "already" not in report.summary() and records() == 0
    # Some rows good, one bad: the good ones land, but a second run reads the file again and names the bad row.
    path.write_text("task_id,model,auto_verdict,human_verdict\na__b-1,m,pass,pass\na__b-2,m,pass,nope\n")
    assert import_graded_csv(engine, path, skip_bad=True).added["verdicts"] == 1
    assert records() == 0
    again = import_graded_csv(engine, path, skip_bad=True)
    assert not again.already_imported and [s.line for s in again.skipped] == [3]
    assert again.summary().splitlines()[0] == f"{path}: nothing added: 1 bad row(s) skipped, 1 already in the store"
    with pytest.raises(BadInput) as caught:
        import_graded_csv(engine, path)
    assert caught.value.line == 3
    path.write_text("task_id,model,auto_verdict,human_verdict\na__b-1,m,pass,pass\na__b-2,m,pass,fail\n")
    assert import_graded_csv(engine, path).added == {"tasks": 1, "patches": 1, "verdicts": 1}
    assert records() == 1

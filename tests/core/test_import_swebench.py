"""The SWE-bench importer on small hand-written submissions in the upstream formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from grader.core.importers.common import BadInput
from grader.core.importers.swebench import import_swebench, repo_from_instance_id
from grader.core.importers.swebench_results import parse_results
from grader.core.store.models import ImportRecord, Patch, Submission, Task


def _patches(engine: Engine) -> dict[tuple[str, str, str], dict[str, object]]:
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    query = (
        select(s.c.benchmark, s.c.name, t.c.instance_id, p)
        .join(s, s.c.id == p.c.submission_id)
        .join(t, t.c.id == p.c.task_id)
    )
    with engine.connect() as conn:
        return {(r.benchmark, r.name, r.instance_id): dict(r._mapping) for r in conn.execute(query)}


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_directory_import_names_submissions_by_folder(engine: Engine, data_dir: Path) -> None:
    report = import_swebench(engine, data_dir / "subs")
    assert report.added == {"tasks": 9, "submissions": 3, "patches": 12}
    rows = _patches(engine)
    alpha = {k[2]: v for k, v in rows.items() if k[:2] == ("swe-bench-verified", "alpha_agent")}
    # The repeated instance: the later row is the submission's.
    assert alpha["acme__calc-1"]["patch_kind"] == "diff"
    assert "return a + b" in str(alpha["acme__calc-1"]["raw_patch"])
    assert alpha["acme__calc-1"]["input_tokens"] == 1200
    assert alpha["acme__calc-1"]["output_cost_usd"] == pytest.approx(0.0045)
    assert alpha["acme__calc-1"]["verifier_verdict"] == "pass"
    # A fenced patch is kept raw, its diff extracted.
    assert alpha["acme__calc-2"]["patch_kind"] == "extracted"
    assert str(alpha["acme__calc-2"]["raw_patch"]).startswith("I fixed the bug")
    assert str(alpha["acme__calc-2"]["diff_text"]).startswith("diff --git a/src/text.py")
    assert "```" not in str(alpha["acme__calc-2"]["diff_text"])
    assert (alpha["acme__calc-2"]["verifier_status"], alpha["acme__calc-2"]["verifier_verdict"]) == (
        "unresolved",
        "fail",
    )
    assert alpha["acme__calc-3"]["patch_kind"] == "null" and alpha["acme__calc-3"]["raw_patch"] is None
    assert alpha["acme__calc-3"]["verifier_status"] == "no_generation"
    assert alpha["acme__calc-4"]["patch_kind"] == "empty"


def test_json_array_and_rows_without_model_name(engine: Engine, data_dir: Path) -> None:
    import_swebench(engine, data_dir / "subs" / "verified" / "beta_agent" / "all_preds.jsonl")
    rows = _patches(engine)
    beta = {k[2]: v for k, v in rows.items() if k[1] == "beta_agent"}
    assert {k: v["verifier_verdict"] for k, v in beta.items()} == {
        "acme__calc-1": "pass",
        "acme__calc-2": "pass",
        "acme__calc-3": "fail",
    }
    assert beta["acme__calc-2"]["patch_kind"] == "extracted"
    assert beta["acme__calc-3"]["patch_kind"] == "no_diff"


def test_run_report_statuses(engine: Engine, data_dir: Path) -> None:
    import_swebench(engine, data_dir / "subs" / "lite")
    lite = {k[2]: (v["verifier_status"], v["verifier_verdict"]) for k, v in _patches(engine).items()}
    assert lite == {
        "acme__calc-1": ("unresolved", "fail"),
        "acme__calc-2": ("resolved", "pass"),
        "acme__calc-3": ("empty_patch", "fail"),
        "acme__calc-5": ("unresolved", "fail"),
        "acme__calc-6": ("error", "error"),
    }


def test_no_results_means_unknown(engine: Engine, data_dir: Path, tmp_path: Path) -> None:
    preds = tmp_path / "preds_only.jsonl"
    preds.write_text((data_dir / "subs" / "lite" / "alpha_agent" / "predictions.jsonl").read_text())
    import_swebench(engine, preds, model="solo")
    verdicts = {v["verifier_status"]: v["verifier_verdict"] for v in _patches(engine).values()}
    assert verdicts == {"absent": "unknown"}


def test_reimport_adds_nothing_and_says_so(engine: Engine, data_dir: Path) -> None:
    import_swebench(engine, data_dir / "subs")
    again = import_swebench(engine, data_dir / "subs")
    assert again.total_added == 0
    assert len(again.already_imported) == 3
    assert "nothing new" in again.summary()
    assert _count(engine, Patch.__table__) == 12


def test_a_bad_row_imports_nothing_and_names_file_and_line(engine: Engine, data_dir: Path) -> None:
    bad = data_dir / "bad_preds.jsonl"
    with pytest.raises(BadInput) as caught:
        import_swebench(engine, bad, model="m")
    assert caught.value.line == 3 and "not valid JSON" in caught.value.problem
    assert str(caught.value).startswith(f"{bad}:3: ")
    assert _count(engine, Patch.__table__) == 0
    assert _count(engine, Task.__table__) == 0
    assert _count(engine, ImportRecord.__table__) == 0


def test_skip_bad_imports_the_rest_and_lists_what_it_skipped(engine: Engine, data_dir: Path) -> None:
    report = import_swebench(engine, data_dir / "bad_preds.jsonl", model="m", skip_bad=True)
    assert report.added["patches"] == 2
    assert [(s.line, s.problem.split(":")[0]) for s in report.skipped] == [(3, "not valid JSON"), (4, "acme__calc-4")]
    assert "no 'model_patch' key" in report.skipped[1].problem
    assert "skipped 2 bad row(s)" in report.summary()


def test_results_that_are_not_results_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text('{"total": 3}')
    with pytest.raises(BadInput, match="not a SWE-bench results file"):
        parse_results(path)
    path.write_text('{\n  "resolved": "acme__calc-1"\n}')
    with pytest.raises(BadInput) as caught:
        parse_results(path)
    assert caught.value.line == 2


def test_repo_from_instance_id() -> None:
    assert repo_from_instance_id("astropy__astropy-12907") == "astropy/astropy"
    assert repo_from_instance_id("scikit-learn__scikit-learn-10297") == "scikit-learn/scikit-learn"
    assert repo_from_instance_id("weird") == ""


def test_a_bad_row_in_a_large_folder_names_its_file_and_line(engine: Engine, data_dir: Path, tmp_path: Path) -> None:
    """Enough submissions to parse in the worker process: the error still names file and line, nothing lands."""
    import shutil

    root = tmp_path / "verified"
    for index in range(5):
        shutil.copytree(data_dir / "subs" / "verified" / "alpha_agent", root / f"sub{index}")
    bad = root / "sub3" / "all_preds.jsonl"
    bad.write_text(bad.read_text() + '{"instance_id": "acme__calc-9", "model_patch": \n')
    with pytest.raises(BadInput) as caught:
        import_swebench(engine, root)
    assert caught.value.path == str(bad) and caught.value.line == 6
    assert _count(engine, Patch.__table__) == 0
    report = import_swebench(engine, root, skip_bad=True)
    assert report.added["patches"] == 20 and len(report.skipped) == 1


def test_submission_notes_repeats_and_resolved_ids_without_a_prediction(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "verified" / "gamma_agent"
    folder.mkdir(parents=True)
    rows = [("acme__calc-1", "diff --git a/x b/x\n"), ("acme__calc-1", "diff --git a/y b/y\n")]
    (folder / "all_preds.jsonl").write_text(
        "".join(json.dumps({"instance_id": i, "model_name_or_path": "g", "model_patch": p}) + "\n" for i, p in rows)
    )
    (folder / "results.json").write_text(json.dumps({"resolved": ["acme__calc-1", "acme__calc-9"]}))
    import_swebench(engine, folder / "all_preds.jsonl")
    with engine.connect() as conn:
        meta = json.loads(conn.execute(select(Submission.__table__.c.meta)).scalar_one())
    assert meta["repeated_rows"] == 1
    assert meta["resolved_without_prediction"] == ["acme__calc-9"]


def test_raw_line_separators_inside_a_jsonl_string_stay_in_their_record(engine: Engine, tmp_path: Path) -> None:
    # JSON allows U+2028, U+2029 and U+0085 unescaped in strings; str.splitlines would cut the record there.
    patch = "diff --git a/x b/x\n+s = 'a\u2028b\u2029c\x85d'\n"
    preds = tmp_path / "preds.jsonl"
    rows = [{"instance_id": f"acme__calc-{n}", "model_name_or_path": "m", "model_patch": patch} for n in (1, 2)]
    preds.write_text("\n" + "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    import_swebench(engine, preds, model="m")
    assert {v["raw_patch"] for v in _patches(engine).values()} == {patch}


def test_a_bad_line_among_good_ones_is_named_by_its_number(engine: Engine, tmp_path: Path) -> None:
    preds = tmp_path / "preds.jsonl"
    good = json.dumps({"instance_id": "acme__calc-1", "model_name_or_path": "m", "model_patch": ""})
    preds.write_text(f"\n{good}\n\n{good[:-1]}\n{good}\n")
    with pytest.raises(BadInput) as caught:
        import_swebench(engine, preds, model="m")
    assert caught.value.line == 4 and "not valid JSON" in str(caught.value)


def test_a_row_skipped_for_a_bad_number_is_not_imported(engine: Engine, tmp_path: Path) -> None:
    preds = tmp_path / "rows.jsonl"
    rows = [
        {"instance_id": f"acme__calc-{n}", "model_name_or_path": "m", "model_patch": "", "input_tokens": 10}
        for n in range(1, 6)
    ]
    rows[1]["input_tokens"] = "lots"
    rows[2]["output_tokens"] = -1
    rows[2]["input_cost_usd"] = "free"  # a second problem on the same row: still one skipped row
    infinite = '{"instance_id": "acme__calc-6", "model_patch": "", "input_tokens": Infinity}'  # json.loads takes it
    preds.write_text("\n".join([*(json.dumps(r) for r in rows), infinite]) + "\n")
    with pytest.raises(BadInput) as caught:
        import_swebench(engine, preds, model="m")
    assert caught.value.line == 2
    assert caught.value.problem == "acme__calc-2: 'input_tokens' must be a number, found 'lots'"
    report = import_swebench(engine, preds, model="m", skip_bad=True)
    assert [s.line for s in report.skipped] == [2, 3, 6]
    assert report.added["patches"] == 3
    assert {k[2]: v["input_tokens"] for k, v in _patches(engine).items()} == {
        "acme__calc-1": 10,
        "acme__calc-4": 10,
        "acme__calc-5": 10,
    }


def test_per_instance_report_flags_must_be_booleans(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    report = {
        "acme__calc-1": {"patch_exists": True, "patch_successfully_applied": True, "resolved": True},
        "acme__calc-2": {"patch_exists": True, "patch_successfully_applied": False, "resolved": False},
        "acme__calc-3": {"patch_is_None": True, "patch_exists": False, "resolved": False},
    }
    path.write_text(json.dumps(report, indent=2))
    outcomes, kind = parse_results(path)
    assert kind == "per_instance"
    assert {i: (o.status, o.verdict) for i, o in outcomes.items()} == {
        "acme__calc-1": ("resolved", "pass"),
        "acme__calc-2": ("no_apply", "fail"),
        "acme__calc-3": ("empty_patch", "fail"),
    }
    for flag, value in (("resolved", "no"), ("resolved", 1), ("patch_exists", None)):
        report["acme__calc-2"][flag] = value
        path.write_text(json.dumps(report, indent=2))
        with pytest.raises(BadInput) as caught:
            parse_results(path)
        assert caught.value.problem == f"acme__calc-2: '{flag}' must be true or false, found {value!r}"
        line = path.read_text().split("\n")[caught.value.line - 1]
        assert f'"{flag}"' in line and caught.value.line > 5  # the line in acme__calc-2, not in acme__calc-1
        report["acme__calc-2"][flag] = False
    del report["acme__calc-2"]["resolved"]
    path.write_text(json.dumps(report))
    with pytest.raises(BadInput, match="acme__calc-2: no 'resolved'"):
        parse_results(path)


def test_an_id_missing_from_a_per_instance_report_is_unknown(engine: Engine, tmp_path: Path) -> None:
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        "".join(
            json.dumps({"instance_id": f"acme__calc-{n}", "model_name_or_path": "m", "model_patch": ""}) + "\n"
            for n in (1, 2)
        )
    )
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"acme__calc-1": {"resolved": True}}))
    import_swebench(engine, preds, results=report, model="m")
    verdicts = {k[2]: (v["verifier_status"], v["verifier_verdict"]) for k, v in _patches(engine).items()}
    assert verdicts == {"acme__calc-1": ("resolved", "pass"), "acme__calc-2": ("absent", "unknown")}


def test_a_file_with_skipped_rows_is_read_again_and_its_bad_rows_reported_again(engine: Engine, data_dir: Path) -> None:
    first = import_swebench(engine, data_dir / "bad_preds.jsonl", model="m", skip_bad=True)
    assert first.skipped and first.added.get("patches", 0) > 0
    with pytest.raises(BadInput) as caught:  # not "nothing new": the file was not recorded as imported
        import_swebench(engine, data_dir / "bad_preds.jsonl", model="m")
    assert caught.value.line == first.skipped[0].line
    again = import_swebench(engine, data_dir / "bad_preds.jsonl", model="m", skip_bad=True)
    assert again.total_added == 0 and len(again.skipped) == len(first.skipped)

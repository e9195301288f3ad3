"""`grader verifier-check`: identical patches that got different verifier verdicts (no human needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from grader.cli.app import (
    DbOption,
    JsonOption,
    app,
    check_known_names,
    check_output_file,
    open_engine,
    open_output_file,
)
from grader.core.patches.hash_backfill import backfill_norm_hashes
from grader.core.stats.verifier_check import consistency_report, load_groups, write_inconsistent_csv


def _rate(summary: dict[str, object]) -> str:
    rate = summary["inconsistent_rate"]
    return "—" if rate is None else f"{float(rate):.2%}"  # type: ignore[arg-type]


@app.command("verifier-check")
def verifier_check_command(
    benchmark: Annotated[
        list[str] | None, typer.Option("--benchmark", help="Only this benchmark (repeatable).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the inconsistent groups' members as CSV.")
    ] = None,
    show: Annotated[int, typer.Option("--show", help="Inconsistent groups to list (text output).")] = 10,
    ignore_whitespace: Annotated[
        bool,
        typer.Option(
            "--ignore-whitespace", help="Also count patches that differ only in whitespace-only changes as identical."
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Groups of identical patches (per task, after normalisation) whose verifier verdicts differ.

    Normalisation drops index and diff --git lines, hunk offsets, timestamps, CRLF and trailing whitespace.
    Errors count as fail; unknown verdicts are left out. `patches` counts patches with a diff (empty and null
    ones join no group); `distinct` counts groups; a group is inconsistent when it holds both a pass and a fail.
    With --ignore-whitespace, whitespace inside lines, blank lines and whitespace-only changes are ignored too.
    """
    if output is not None:
        check_output_file(output)  # before the work, not after it
    engine = open_engine(db)
    check_known_names(engine, benchmarks=benchmark or ())
    filled = backfill_norm_hashes(engine)
    report = consistency_report(load_groups(engine, benchmark or (), ignore_whitespace=ignore_whitespace))
    report["ignore_whitespace"] = ignore_whitespace
    if filled:
        report["backfilled"] = filled
    if output is not None:
        with open_output_file(output) as out:
            rows = write_inconsistent_csv(report, out)
        typer.echo(f"wrote {rows} rows ({report['inconsistent_groups']} groups) to {output}", err=True)
    if as_json:
        typer.echo(json.dumps(report))
        return
    typer.echo(
        f"{report['patches']} patches with a diff, {report['distinct']} distinct after normalisation"
        f"{' (whitespace ignored)' if ignore_whitespace else ''}; "
        f"{report['duplicate_groups']} groups hold {report['patches_in_duplicate_groups']} copies "
        f"(largest {report['largest_group']})."
    )
    typer.echo(
        f"Inconsistent verifier verdicts: {report['inconsistent_groups']} of {report['comparable_groups']} "
        f"comparable groups ({_rate(report)})\n"
    )
    header = f"{'':28} {'patches':>8} {'distinct':>9} {'inconsistent':>13} {'rate':>8}"
    for title, parts in (("benchmark", report["by_benchmark"]), ("harness", report["by_harness"])):
        typer.echo(f"by {title}")
        typer.echo(header)
        for name, summary in parts.items():
            typer.echo(
                f"{name[:28]:28} {summary['patches']:>8} {summary['distinct']:>9} "
                f"{summary['inconsistent_groups']:>13} {_rate(summary):>8}"
            )
        typer.echo("")
    for group in report["groups"][:show]:
        typer.echo(f"{group['instance_id']}  ({group['passes']} pass, {group['fails']} fail of {group['size']})")
        for member in group["members"]:
            typer.echo(
                f"    {member['verifier_verdict']:<7} {member['verifier_status'] or ''!s:<14} "
                f"{member['benchmark']}/{member['model']}"
            )
    hidden = len(report["groups"]) - show
    if hidden > 0:
        typer.echo(f"... and {hidden} more (--show N, or -o FILE for all)")

"""The audit report: the statistics of `grader stats --json` laid out as sections a lead can publish.

`build_report(stats, context)` turns the exact object `stats --json` prints into a document of sections (headings,
paragraphs, tables, charts) whose every number is a `Fig` pointing to its place in that object (a JSON Pointer);
grader.core.export.report_html and report_md render the same document as one self-contained HTML file (inline
SVG, no scripts, fonts or network) or as Markdown. So the report cannot say a number the JSON does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def pointer(*parts: str | int) -> str:
    """A JSON Pointer (RFC 6901) to a value of the statistics object."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def resolve(stats: Any, key: str) -> Any:
    """The value a JSON Pointer names (KeyError/IndexError when it names nothing)."""
    value = stats
    for raw in key.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


@dataclass(frozen=True, slots=True)
class Fig:
    """A number of the statistics: its value, where it is in `stats --json`, and how it reads."""

    value: float | int | None
    key: str
    kind: str = "pct"  # pct (a share), num (a coefficient), int (a count), p (a p-value)
    reason: str | None = None

    def text(self) -> str:
        if self.value is None:
            return "—"
        if self.kind == "pct":
            return f"{self.value * 100:.1f}%"
        if self.kind == "int":
            return f"{int(self.value):,}"
        if self.kind == "p":
            return "< 0.001" if self.value < 0.001 else f"{self.value:.3f}"
        return f"{self.value:.3f}"


Cell = str | Fig | tuple[Fig, Fig, Fig]  # text, a figure, or (value, low, high)


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""


@dataclass(frozen=True, slots=True)
class BarPair:
    """One model's row of the leaderboard chart: verifier rate and corrected rate, each with its interval."""

    model: str
    verifier: tuple[Fig, Fig, Fig]
    corrected: tuple[Fig, Fig, Fig]


@dataclass(frozen=True, slots=True)
class LeaderboardChart:
    pairs: tuple[BarPair, ...]


@dataclass(frozen=True, slots=True)
class IntervalChart:
    """Points with whiskers, two series per row (e.g. false accepts and false rejects per model)."""

    series: tuple[str, str]
    rows: tuple[tuple[str, tuple[Fig, Fig, Fig], tuple[Fig, Fig, Fig]], ...]


Block = str | Table | LeaderboardChart | IntervalChart


@dataclass(slots=True)
class Section:
    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReportContext:
    title: str
    scope: str
    benchmarks: Sequence[str]
    command: str
    version: str
    inputs_digest: str
    methods: Sequence[str]
    rubric_questions: bool = False


@dataclass(slots=True)
class Report:
    title: str
    subtitle: str
    sections: list[Section]
    footer: list[str]


def _rate(stats: dict[str, Any], *path: str | int) -> tuple[Fig, Fig, Fig]:
    """A rate's value with its interval (Wilson or design-based), as three figures."""
    rate = resolve(stats, pointer(*path))
    value_key = "estimate" if "estimate" in rate else "value"
    return (
        Fig(rate.get(value_key), pointer(*path, value_key), reason=rate.get("reason")),
        Fig(rate.get("ci_low"), pointer(*path, "ci_low")),
        Fig(rate.get("ci_high"), pointer(*path, "ci_high")),
    )


def _coefficient(stats: dict[str, Any], *path: str | int) -> tuple[Fig, Fig, Fig] | str:
    found = resolve(stats, pointer(*path))
    if isinstance(found, dict):
        if found.get("value") is None:
            return f"— ({found.get('reason', 'undefined')})"
        return (
            Fig(found["value"], pointer(*path, "value"), "num"),
            Fig(found.get("ci_low"), pointer(*path, "ci_low"), "num"),
            Fig(found.get("ci_high"), pointer(*path, "ci_high"), "num"),
        )
    return "—" if found is None else (Fig(found, pointer(*path), "num"), Fig(None, ""), Fig(None, ""))


def build_report(stats: dict[str, Any], context: ReportContext) -> Report:
    """The report's sections, every number taken from `stats` (the object `grader stats --json` prints)."""
    sections = [
        _audited(stats, context),
        _leaderboard(stats),
        _errors(stats),
        _agreement(stats),
    ]
    if context.rubric_questions:
        sections.append(_rubric(stats))
    sections.append(_reviewers(stats))
    sections.append(Section("Methods", "methods", [*context.methods]))
    subtitle = f"{context.scope}; benchmarks: {', '.join(context.benchmarks) or 'none'}"
    footer = [
        f"grader {context.version}",
        f"command: {context.command}",
        f"inputs digest (sha256 of the verdicts, verifier verdicts and answers used): {context.inputs_digest}",
        "Every number above is the number `grader stats --json` gives with the same options.",
    ]
    return Report(context.title, subtitle, sections, footer)


def _audited(stats: dict[str, Any], context: ReportContext) -> Section:
    overall = stats["overall"]
    section = Section("What was audited", "audited")
    models = ", ".join(stats["by_model"]) or "none"
    session = stats.get("session")
    if session is not None:
        hidden = "models are pseudonyms until the session is unblinded" if session["models_hidden"] else "unblinded"
        section.blocks.append(f"Audit session {session['name']} ({hidden}).")
    section.blocks.append(f"Benchmarks: {', '.join(context.benchmarks) or 'none'}. Models: {models}.")
    section.blocks.append(
        Table(
            ("patches", "labelled items", "unlabelled graded items", "without a verifier verdict"),
            (
                (
                    Fig(overall["n_items"], pointer("overall", "n_items"), "int"),
                    Fig(overall["n"], pointer("overall", "n"), "int"),
                    Fig(overall["n_unlabelled"], pointer("overall", "n_unlabelled"), "int"),
                    Fig(overall["n_unknown_verifier"], pointer("overall", "n_unknown_verifier"), "int"),
                ),
            ),
        )
    )
    population = overall.get("population") or {}
    strata = population.get("strata") or []
    design = population.get("design", {}).get("strata") if isinstance(population.get("design"), dict) else None
    rows = []
    for i, stratum in enumerate(strata):
        if "stratum" in stratum:
            name = ", ".join(f"{k} {v}" for k, v in stratum["stratum"].items())
        else:
            name = f"{stratum['model']} / verifier {stratum['verifier']}"
        base = ("overall", "population", "strata", i)
        rows.append(
            (
                name,
                Fig(stratum["N"], pointer(*base, "N"), "int"),
                Fig(stratum["n"], pointer(*base, "n"), "int"),
                Fig(stratum["human_pass"], pointer(*base, "human_pass"), "int"),
            )
        )
    caption = f"Design: strata {' × '.join(design)}" if design else "Design: strata model × verifier verdict"
    section.blocks.append(Table(("stratum", "N_h (patches)", "n_h (audited)", "human passes"), tuple(rows), caption))
    return section


def _leaderboard(stats: dict[str, Any]) -> Section:
    section = Section("Corrected leaderboard", "leaderboard")
    section.blocks.append(
        "Per model: the verifier's pass rate against the pass rate corrected by the human audit, with 95% intervals."
    )
    pairs = []
    rows = []
    for i, row in enumerate(stats["leaderboard"]):
        verifier = _rate(stats, "leaderboard", i, "verifier_pass_rate")
        corrected = _rate(stats, "leaderboard", i, "corrected_pass_rate")
        pairs.append(BarPair(row["model"], verifier, corrected))
        rank = row.get("rank_corrected")
        rows.append(
            (
                str(rank) if rank is not None else "—",
                row["model"],
                verifier,
                corrected,
                Fig(
                    row["corrected_pass_rate"].get("n_audited"),
                    pointer("leaderboard", i, "corrected_pass_rate", "n_audited"),
                    "int",
                ),
                row["corrected_pass_rate"].get("reason") or "",
            )
        )
    section.blocks.append(LeaderboardChart(tuple(pairs)))
    section.blocks.append(
        Table(("rank", "model", "verifier pass rate", "corrected pass rate", "audited", "note"), tuple(rows))
    )
    return section


def _errors(stats: dict[str, Any]) -> Section:
    section = Section("False accepts and false rejects", "errors")
    section.blocks.append(
        "False accept: the verifier passed what the human failed; false reject: the reverse; each as a share of the "
        "labelled items and given the verifier's verdict, with 95% Wilson intervals over the audited sample."
    )
    chart_rows = []
    rows = []
    for model in stats["by_model"]:
        fa = _rate(stats, "by_model", model, "false_accept_rate")
        fr = _rate(stats, "by_model", model, "false_reject_rate")
        chart_rows.append((model, fa, fr))
        rows.append(
            (
                model,
                Fig(stats["by_model"][model]["n"], pointer("by_model", model, "n"), "int"),
                fa,
                _rate(stats, "by_model", model, "false_accept_given_auto_pass"),
                fr,
                _rate(stats, "by_model", model, "false_reject_given_auto_fail"),
            )
        )
    rows.append(
        (
            "overall",
            Fig(stats["overall"]["n"], pointer("overall", "n"), "int"),
            _rate(stats, "overall", "false_accept_rate"),
            _rate(stats, "overall", "false_accept_given_auto_pass"),
            _rate(stats, "overall", "false_reject_rate"),
            _rate(stats, "overall", "false_reject_given_auto_fail"),
        )
    )
    section.blocks.append(IntervalChart(("false accepts", "false rejects"), tuple(chart_rows)))
    section.blocks.append(
        Table(("model", "n", "false accepts", "| verifier pass", "false rejects", "| verifier fail"), tuple(rows))
    )
    return section


def _agreement(stats: dict[str, Any]) -> Section:
    section = Section("Agreement", "agreement")
    overall = stats["overall"]
    section.blocks.append(
        Table(
            ("human vs verifier", "value [95% CI]"),
            (
                ("percent agreement", _rate(stats, "overall", "percent_agreement")),
                ("Cohen's kappa", _coefficient(stats, "overall", "cohen_kappa")),
                ("Gwet's AC1", _coefficient(stats, "overall", "gwet_ac1")),
                (
                    "McNemar exact p",
                    Fig(overall.get("mcnemar_p"), pointer("overall", "mcnemar_p"), "p")
                    if overall.get("mcnemar_p") is not None
                    else "—",
                ),
            ),
        )
    )
    human = overall["human_agreement"]
    rows: list[tuple[Cell, ...]] = [
        ("raters", Fig(human["n_raters"], pointer("overall", "human_agreement", "n_raters"), "int")),
        (
            "items with two or more ratings",
            Fig(human["n_items_multi_rated"], pointer("overall", "human_agreement", "n_items_multi_rated"), "int"),
        ),
    ]
    for name, label in (
        ("krippendorff_alpha", "Krippendorff's alpha"),
        ("fleiss_kappa", "Fleiss' kappa"),
        ("percent_agreement", "percent agreement"),
    ):
        value = human.get(name)
        if value is None:
            rows.append((label, f"— ({human.get(f'{name}_reason', 'undefined')})"))
        else:
            rows.append(
                (
                    label,
                    Fig(
                        value,
                        pointer("overall", "human_agreement", name),
                        "pct" if name == "percent_agreement" else "num",
                    ),
                )
            )
    section.blocks.append(Table(("human vs human", "value"), tuple(rows)))
    return section


def _rubric(stats: dict[str, Any]) -> Section:
    section = Section("Rubric answers", "rubric")
    rubrics = stats.get("rubric") or {}
    if not rubrics:
        section.blocks.append("No rubric answers in scope.")
    for name, rubric in rubrics.items():
        section.blocks.append(f"Rubric {name}: {rubric['title']} ({rubric['source']}).")
        for q_index, question in enumerate(rubric["questions"]):
            base = ("rubric", name, "questions", q_index)
            if question["kind"] == "text":
                section.blocks.append(
                    Table(
                        (f"{question['id']} (free text)", "answered items"),
                        ((question["id"], Fig(question["answered_items"], pointer(*base, "answered_items"), "int")),),
                    )
                )
                continue
            models = list(question["options"][0]["by_model"]) if question["options"] else []
            weighted = bool(question["options"]) and "population" in question["options"][0]
            header = ("answer", "share of answered items", *(("design-weighted share",) if weighted else ()), *models)
            rows = []
            for o_index, option in enumerate(question["options"]):
                cells: list[Cell] = [
                    f"{option['value']} {option['label']}" if option["value"] != option["label"] else option["label"]
                ]
                cells.append(_rate(stats, *base, "options", o_index, "overall"))
                if weighted:  # a session: the share of its frame, by its design
                    cells.append(_rate(stats, *base, "options", o_index, "population", "overall"))
                cells += [_rate(stats, *base, "options", o_index, "by_model", model) for model in models]
                rows.append(tuple(cells))
            alpha = question["agreement"]["krippendorff_alpha"]
            agreement = (
                f"Krippendorff's alpha ({alpha['metric']}) between reviewers: "
                if alpha.get("value") is not None
                else f"Krippendorff's alpha: — ({alpha.get('reason', 'undefined')})"
            )
            caption = f"{question['id']} ({question['kind']}, {question['level']}-level): {question['prompt']}"
            section.blocks.append(Table(header, tuple(rows), caption))
            if alpha.get("value") is not None:
                section.blocks.append(
                    Table(
                        ("agreement", "value"),
                        (
                            (
                                agreement.rstrip(": "),
                                Fig(alpha["value"], pointer(*base, "agreement", "krippendorff_alpha", "value"), "num"),
                            ),
                        ),
                    )
                )
            else:
                section.blocks.append(agreement)
    where = stats.get("where")
    if where is not None:
        rows = [("overall", _rate(stats, "where", "overall"))]
        rows += [(model, _rate(stats, "where", "by_model", model)) for model in where["by_model"]]
        section.blocks.append(
            Table(
                ("model", "corrected pass rate without them"),
                tuple(rows),
                f"Without the {where['drops']} ({where['method']} estimate)",
            )
        )
    return section


def _reviewers(stats: dict[str, Any]) -> Section:
    section = Section("Reviewers on gold items", "reviewers")
    reviewers = stats.get("reviewers") or []
    if not reviewers:
        section.blocks.append("No verdicts on gold items in scope.")
        return section
    rows = []
    for i, row in enumerate(reviewers):
        rows.append(
            (
                row["reviewer"],
                _rate(stats, "reviewers", i, "accuracy"),
                _rate(stats, "reviewers", i, "drift", "first_third"),
                _rate(stats, "reviewers", i, "drift", "last_third"),
                "flagged" if row.get("flagged") else "",
            )
        )
    section.blocks.append(Table(("reviewer", "accuracy", "first third", "last third", ""), tuple(rows)))
    return section

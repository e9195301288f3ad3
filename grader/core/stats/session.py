"""Corrected pass rates of an audit session from the session's own recorded sampling design.

The population is the session's frame: its strata (any of model, verdict, repo, tag) with the N_h recorded
when the sample was drawn. The audited items are the session's sampled patches that carry a human label from
the verdicts given in that session (adjudication first, else the strict majority; see tally.item_facts).
Within a stratum the labelled items are treated as a simple random sample of it (unlabelled sampled items as
missing at random). A group that is a union of the design's strata (the whole session, or a model when the
session was stratified by model and verdict) gets the stratified estimator `corrected_pass_rate`; a group that
cuts across strata (a model in a session not stratified by model, or any group when verdict is not a stratum,
since patches without a verifier verdict are left out) gets the domain estimator `domain_pass_rate`.
Pure functions over `SessionDesign`; `load_session_design` reads one from the store.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine, select

from grader.core.audit.sampling import SampleSpec, stratum_key
from grader.core.stats.data import HumanVerdict
from grader.core.stats.estimates import CorrectedEstimate, DomainStratum, Stratum, corrected_pass_rate, domain_pass_rate
from grader.core.stats.tally import BINARY_VERIFIER, item_facts
from grader.core.store.models import (
    RETRACTED,
    AuditSession,
    Patch,
    Reviewer,
    SessionEvent,
    SessionItem,
    Submission,
    Task,
)
from grader.core.store.verdicts import current_verdicts_query, decode_tags


@dataclass(frozen=True, slots=True)
class SessionUnit:
    """A sampled patch: its recorded stratum, what domains are defined by, and its human label in the session."""

    stratum: str  # canonical JSON of the stratum's values, as recorded in session_item
    model: str
    repo: str
    benchmark: str
    verifier: str  # the raw verifier verdict (pass, fail, error, unknown)
    label: int | None  # 1 pass, 0 fail, None unlabelled


@dataclass(frozen=True, slots=True)
class SessionDesign:
    """A session's sampling design: every stratum of its frame with N_h, and its sampled units."""

    name: str
    dimensions: tuple[str, ...]
    benchmarks: tuple[str, ...]  # the session's benchmark filter (empty: every benchmark)
    populations: Mapping[str, int]  # stratum key -> N_h, including strata that drew no item
    units: tuple[SessionUnit, ...]

    def renamed(self, shown: Mapping[str, str]) -> SessionDesign:
        """The design with model names as shown (pseudonyms while the session is blind), keys included."""

        def key(stratum: str) -> str:
            values = json.loads(stratum)
            if "model" in values:
                values["model"] = shown.get(values["model"], "Model ?")
            return stratum_key(values)

        return replace(
            self,
            populations={key(k): n for k, n in self.populations.items()},
            units=tuple(replace(u, stratum=key(u.stratum), model=shown.get(u.model, "Model ?")) for u in self.units),
        )


def _coverage(
    values: Mapping[str, str], models: Collection[str] | None, repo: str | None, benchmark_partial: bool
) -> str | None:
    """Whether the stratum lies wholly in the domain ("all"), partly ("partial") or not at all (None), judged by
    its key alone (the design), never by which items happened to be drawn."""
    coverage = "all"
    if "verdict" in values:
        if values["verdict"] not in BINARY_VERIFIER:
            return None  # patches without a verifier verdict are left out of the population
    else:
        coverage = "partial"
    if models is not None:
        if "model" in values:
            if values["model"] not in models:
                return None
        else:
            coverage = "partial"
    if repo is not None:
        if "repo" in values:
            if values["repo"] != repo:
                return None
        else:
            coverage = "partial"
    if benchmark_partial:
        coverage = "partial"
    return coverage


def design_estimate(
    design: SessionDesign,
    *,
    models: Collection[str] | None = None,
    repo: str | None = None,
    benchmark: str | None = None,
    domain: str = "the group",
) -> CorrectedEstimate:
    """The corrected human pass rate of the patches of the session's frame that have a verifier verdict and
    match `models`, `repo` and `benchmark`, under the session's stratified design."""
    if benchmark is not None and design.benchmarks and benchmark not in design.benchmarks:
        return domain_pass_rate((), domain)
    benchmark_partial = benchmark is not None and tuple(design.benchmarks) != (benchmark,)
    counts: dict[str, list[int]] = {key: [0, 0, 0, 0] for key in design.populations}  # n_h, pass_h, a_h, b_h
    for unit in design.units:
        if unit.label is None:
            continue
        row = counts.setdefault(unit.stratum, [0, 0, 0, 0])
        row[0] += 1
        row[1] += unit.label
        in_domain = (
            unit.verifier in BINARY_VERIFIER
            and (models is None or unit.model in models)
            and (repo is None or unit.repo == repo)
            and (benchmark is None or unit.benchmark == benchmark)
        )
        if in_domain:
            row[2] += 1
            row[3] += unit.label
    plain: list[Stratum] = []
    crossing: list[DomainStratum] = []
    partial = False
    for key in sorted(counts):
        values = json.loads(key)
        coverage = _coverage(values, models, repo, benchmark_partial)
        if coverage is None:
            continue
        partial = partial or coverage == "partial"
        audited, passes, domain_audited, domain_passes = counts[key]
        stratum = Stratum(
            str(values.get("model", "")),
            str(values.get("verdict", "")),
            design.populations.get(key, 0),
            audited,
            passes,
            tuple(sorted((str(d), str(v)) for d, v in values.items())),
        )
        plain.append(stratum)
        crossing.append(DomainStratum(stratum, domain_audited, domain_passes))
    if partial:
        return domain_pass_rate(crossing, domain)
    return corrected_pass_rate(plain)


def population_json(design: SessionDesign, estimate: CorrectedEstimate) -> dict[str, Any]:
    out = estimate.as_json()
    out["design"] = {"session": design.name, "strata": list(design.dimensions)}
    return out


@dataclass(frozen=True, slots=True)
class SessionScope:
    """A session's design and the report's filters: what `grader stats --session` estimates populations from."""

    design: SessionDesign
    models: frozenset[str] | None = None  # the --model filter, if any
    benchmark: str | None = None

    def population(self, *, model: str | None = None, repo: str | None = None) -> dict[str, Any]:
        if model is not None:
            models: Collection[str] | None = {model} if self.models is None or model in self.models else set()
            domain = f"model {model}"
        else:
            models = self.models
            domain = "the filtered models" if self.models is not None else "the session"
        if repo is not None:
            domain = f"repo {repo or '(no repo)'}"
        estimate = design_estimate(self.design, models=models, repo=repo, benchmark=self.benchmark, domain=domain)
        return population_json(self.design, estimate)


def load_session_design(engine: Engine, session_id: int) -> SessionDesign:
    """The session's recorded design (spec, strata, N_h) and its sampled patches labelled from its own verdicts."""
    i, p, s, t = SessionItem.__table__, Patch.__table__, Submission.__table__, Task.__table__
    a, e, r = AuditSession.__table__, SessionEvent.__table__, Reviewer.__table__
    item_query = (
        select(i.c.patch_id, i.c.stratum, i.c.stratum_population, s.c.name, s.c.benchmark, t.c.repo)
        .add_columns(p.c.verifier_verdict)
        .select_from(
            i.join(p, p.c.id == i.c.patch_id).join(s, s.c.id == p.c.submission_id).join(t, t.c.id == p.c.task_id)
        )
        # Gold items are mixed into reviewers' queues but are not part of the sample.
        .where(i.c.session_id == session_id, i.c.gold.is_(False))
        .order_by(i.c.position)
    )
    current = current_verdicts_query().subquery()
    verdict_query = (
        select(current.c.patch_id, r.c.name, current.c.verdict, current.c.source, current.c.tags)
        .select_from(current.join(r, r.c.id == current.c.reviewer_id))
        .where(current.c.session_id == session_id, current.c.verdict != RETRACTED)
        .order_by(current.c.created_at, current.c.id)
    )
    with engine.connect() as conn:
        session = conn.execute(select(a.c.name, a.c.spec).where(a.c.id == session_id)).first()
        if session is None:
            raise ValueError(f"no session with id {session_id}")
        spec = SampleSpec.from_json(session.spec)
        items = conn.execute(item_query).all()
        verdicts: dict[int, list[HumanVerdict]] = {}
        for patch_id, reviewer, verdict, source, tags in conn.execute(verdict_query):
            verdicts.setdefault(int(patch_id), []).append(
                HumanVerdict(reviewer, verdict, source, session_id, tuple(decode_tags(tags)))
            )
        created = conn.execute(
            select(e.c.detail).where(e.c.session_id == session_id, e.c.kind == "created").order_by(e.c.id).limit(1)
        ).scalar()
    populations: dict[str, int] = {}
    try:
        recorded = json.loads(created or "{}").get("strata") or {}
    except (ValueError, AttributeError):
        recorded = {}
    for key, sizes in recorded.items():  # every stratum of the frame, also those that drew no item
        populations[str(key)] = int(sizes[0])
    units = []
    for patch_id, stratum, population, model, benchmark, repo, verifier in items:
        populations[str(stratum)] = int(population)
        label = item_facts(verifier, verdicts.get(int(patch_id), ())).label
        units.append(SessionUnit(str(stratum), model, repo or "", benchmark, verifier, label))
    return SessionDesign(str(session.name), tuple(spec.strata), tuple(spec.benchmarks), populations, tuple(units))

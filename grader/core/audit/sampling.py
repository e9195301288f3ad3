"""Stratified random samples of patches for audit sessions: candidates, allocation, a seeded draw.

Reproducible: candidates are sorted by (benchmark, instance id, model) — values, not database ids — before
each stratum is drawn with its own `random.Random`, so the same spec and seed give the same sample on SQLite
and PostgreSQL, in any database holding the same patches.

Allocation for `size`: proportional to the stratum populations by the largest-remainder method, then, when
the size allows (size >= number of non-empty strata), every non-empty stratum gets at least one item, taken
from the strata that were given the most beyond their exact proportional share. `per_stratum` takes
min(per_stratum, N_h) from every stratum.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction

from sqlalchemy import Connection, select

from grader.core.store.models import Patch, Submission, Task

STRATUM_DIMENSIONS = ("model", "verdict", "repo", "tag")
DEFAULT_STRATA = ("model", "verdict")


class SamplingError(ValueError):
    """A sample specification that cannot be drawn (no patches, unknown stratum, no tag data...)."""


@dataclass(frozen=True, slots=True)
class SampleSpec:
    """What a session samples. Exactly one of `size` and `per_stratum` is set."""

    benchmarks: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    strata: tuple[str, ...] = DEFAULT_STRATA
    size: int | None = None
    per_stratum: int | None = None
    seed: int = 0
    overlap: int = 1
    blind: bool = True
    reviewers: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)
    # The share of each reviewer's queue that is gold items (known answers), drawn per reviewer.
    gold_share: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SampleSpec:
        data = json.loads(text)
        for key in ("benchmarks", "models", "strata", "reviewers"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)

    def validate(self) -> None:
        if (self.size is None) == (self.per_stratum is None):
            raise SamplingError("give exactly one of --size and --per-stratum")
        if (self.size is not None and self.size < 1) or (self.per_stratum is not None and self.per_stratum < 1):
            raise SamplingError("the sample size must be at least 1")
        unknown = [s for s in self.strata if s not in STRATUM_DIMENSIONS]
        if unknown:
            raise SamplingError(f"unknown strata {', '.join(unknown)}: use {', '.join(STRATUM_DIMENSIONS)}")
        if len(set(self.strata)) != len(self.strata):
            raise SamplingError("a stratum dimension is repeated")
        if self.overlap < 1:
            raise SamplingError("--overlap must be at least 1")
        if self.reviewers and len(set(self.reviewers)) < self.overlap:
            raise SamplingError(f"--overlap {self.overlap} needs at least {self.overlap} distinct reviewers")
        if not 0 <= self.gold_share < 1:
            raise SamplingError("--gold-share must be at least 0 and below 1")
        if self.gold_share and not self.reviewers:
            raise SamplingError("--gold-share needs --reviewers: each reviewer gets gold items of their own")


@dataclass(frozen=True, slots=True)
class Candidate:
    patch_id: int
    benchmark: str
    instance_id: str
    model: str
    stratum: str  # canonical JSON of the stratum's values

    @property
    def sort_key(self) -> tuple[str, str, str]:
        return (self.benchmark, self.instance_id, self.model)


@dataclass(frozen=True, slots=True)
class DrawnItem:
    candidate: Candidate
    stratum_population: int
    stratum_sample: int
    position: int


def stratum_key(values: dict[str, str]) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def _task_tags(meta: str) -> list[str] | None:
    try:
        tags = json.loads(meta or "{}").get("tags")
    except (ValueError, AttributeError):
        return None
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    return sorted(str(t) for t in tags) if isinstance(tags, list) and tags else None


def load_candidates(conn: Connection, spec: SampleSpec) -> list[Candidate]:
    """Patches matching the filters, with their stratum, sorted by a key that does not depend on the database."""
    p, s, t = Patch.__table__, Submission.__table__, Task.__table__
    query = select(
        p.c.id, s.c.benchmark, t.c.instance_id, s.c.name, p.c.verifier_verdict, t.c.repo, t.c.meta
    ).select_from(p.join(s, s.c.id == p.c.submission_id).join(t, t.c.id == p.c.task_id))
    if spec.benchmarks:
        query = query.where(s.c.benchmark.in_(spec.benchmarks))
    if spec.models:
        query = query.where(s.c.name.in_(spec.models))
    rows = conn.execute(query).all()
    if "tag" in spec.strata and not any(_task_tags(row.meta) for row in rows):
        raise SamplingError(
            "no tag data: no task among these patches carries tags (task annotations are not imported yet); "
            "stratify by model, verdict or repo"
        )
    candidates = []
    for row in rows:
        values = {
            "model": row.name,
            "verdict": row.verifier_verdict,
            "repo": row.repo or "",
            "tag": ",".join(_task_tags(row.meta) or ["(none)"]),
        }
        key = stratum_key({dim: values[dim] for dim in spec.strata})
        candidates.append(Candidate(int(row.id), row.benchmark, row.instance_id, row.name, key))
    candidates.sort(key=lambda c: c.sort_key)
    return candidates


def allocate(populations: dict[str, int], size: int) -> dict[str, int]:
    """Proportional allocation of `size` by largest remainder, at least one per non-empty stratum if possible."""
    strata = sorted(k for k, n in populations.items() if n > 0)
    total = sum(populations[k] for k in strata)
    if size >= total:
        return {k: populations[k] for k in strata}
    quotas = {k: Fraction(size * populations[k], total) for k in strata}
    allocation = {k: int(quotas[k]) for k in strata}
    left = size - sum(allocation.values())
    by_remainder = sorted(strata, key=lambda k: (-(quotas[k] - allocation[k]), k))
    for k in by_remainder[:left]:
        allocation[k] += 1
    if size >= len(strata):
        for empty in [k for k in strata if allocation[k] == 0]:
            donor = max(
                (k for k in strata if allocation[k] > 1), key=lambda k: (allocation[k] - quotas[k], k), default=None
            )
            if donor is None:
                break
            allocation[donor] -= 1
            allocation[empty] += 1
    return allocation


def draw_sample(candidates: Sequence[Candidate], spec: SampleSpec) -> list[DrawnItem]:
    """The seeded stratified draw; items come back in the session's shuffled order (their positions)."""
    if not candidates:
        raise SamplingError("no patches match the filters")
    by_stratum: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_stratum.setdefault(candidate.stratum, []).append(candidate)
    populations = {k: len(v) for k, v in by_stratum.items()}
    if spec.size is not None:
        sizes = allocate(populations, spec.size)
    else:
        assert spec.per_stratum is not None
        sizes = {k: min(spec.per_stratum, n) for k, n in populations.items()}
    chosen: list[tuple[Candidate, int, int]] = []
    for key in sorted(by_stratum):
        rng = random.Random(f"grader-sample:{spec.seed}:{key}")
        for candidate in sorted(rng.sample(by_stratum[key], sizes[key]), key=lambda c: c.sort_key):
            chosen.append((candidate, populations[key], sizes[key]))
    random.Random(f"grader-order:{spec.seed}").shuffle(chosen)
    return [DrawnItem(c, population, sample, position) for position, (c, population, sample) in enumerate(chosen)]


def gold_per_reviewer(spec: SampleSpec, sample_size: int) -> int:
    """Gold items per reviewer so that they are `gold_share` of the reviewer's expected queue.

    A reviewer's expected share of the sample's slots is q = n·K/R; m gold items make m / (q + m) = share,
    so m = round(share·q / (1 - share)), and at least 1 when a share is asked for.
    """
    if not spec.gold_share or not spec.reviewers:
        return 0
    reviewers = len(set(spec.reviewers))
    expected = sample_size * spec.overlap / reviewers
    return max(1, round(spec.gold_share * expected / (1 - spec.gold_share)))


def draw_gold(pool: Sequence[Candidate], spec: SampleSpec, per_reviewer: int) -> dict[str, list[Candidate]]:
    """Each reviewer's gold items: min(per_reviewer, pool) drawn from the pool with the session seed.

    The pool is sorted by value (like the sample's candidates), so the draw is the same on any database.
    """
    ordered = sorted(pool, key=lambda c: c.sort_key)
    take = min(per_reviewer, len(ordered))
    return {
        reviewer: sorted(
            random.Random(f"grader-gold:{spec.seed}:{reviewer}").sample(ordered, take), key=lambda c: c.sort_key
        )
        for reviewer in sorted(set(spec.reviewers))
    }

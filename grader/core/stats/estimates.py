"""Verifier-corrected pass rates for a whole imported set from an audited sample, and audit planning.

Strata are model x binary verifier verdict, or an audit session's own recorded strata. Audited (labelled)
items of a stratum are treated as a simple random sample of it. A group that is not a union of the design's
strata (a model, when the session was not stratified by model) is estimated as a domain of the stratified
design (`domain_pass_rate`). Pure functions in plain Python; undefined figures are None with a reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from grader.core.stats.agreement import Z_95


@dataclass(frozen=True, slots=True)
class Stratum:
    """One stratum: its patches in the population, how many are audited (labelled), and human passes among them."""

    model: str
    verifier: str  # "pass" or "fail"
    population: int
    audited: int
    human_pass: int
    # A session's stratum as (dimension, value) pairs; empty for the model x verifier strata of the whole store.
    key: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        if self.key:
            return ", ".join(f"{dimension} {value}" for dimension, value in self.key)
        return f"{self.model} / verifier {self.verifier}"

    def as_json(self) -> dict[str, object]:
        if not self.key:
            return {
                "model": self.model,
                "verifier": self.verifier,
                "N": self.population,
                "n": self.audited,
                "human_pass": self.human_pass,
            }
        values = dict(self.key)
        return {
            "stratum": values,
            "model": values.get("model"),
            "verifier": values.get("verdict"),
            "N": self.population,
            "n": self.audited,
            "human_pass": self.human_pass,
        }


@dataclass(frozen=True, slots=True)
class CorrectedEstimate:
    """The stratified estimate of the human pass rate over the population, with its FPC standard error."""

    population: int
    audited: int
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    rogan_gladen: float | None
    reason: str | None
    strata: tuple[Stratum, ...]
    # Domain estimates only: the estimated number of the domain's patches, N^_D = sum_h N_h a_h / n_h.
    domain_size: float | None = None
    domain: bool = False

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "N": self.population,
            "n_audited": self.audited,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "rogan_gladen": self.rogan_gladen,
            "strata": [s.as_json() for s in self.strata],
        }
        if self.domain:
            out["method"] = "domain"
            out["N_domain"] = self.domain_size
        if self.reason:
            out["reason"] = self.reason
        return out


def corrected_pass_rate(strata: Sequence[Stratum]) -> CorrectedEstimate:
    """sum_h W_h p_h, variance sum_h W_h^2 (1 - n_h/N_h) p_h (1 - p_h) / (n_h - 1), 95% normal interval.

    Undefined when a stratum has patches but no audited one; the SE is undefined when a stratum that is not a
    census has exactly one audited item.
    """
    strata = tuple(s for s in strata if s.population > 0)
    total = sum(s.population for s in strata)
    audited = sum(s.audited for s in strata)
    if total == 0:
        return CorrectedEstimate(0, audited, None, None, None, None, None, "no patches with a verifier verdict", ())
    unaudited = [s for s in strata if s.audited == 0]
    if unaudited:
        first = unaudited[0]
        more = f" (and {len(unaudited) - 1} more)" if len(unaudited) > 1 else ""
        reason = f"stratum {first.name} has {first.population} patches, none audited{more}"
        return CorrectedEstimate(total, audited, None, None, None, None, None, reason, strata)
    estimate = 0.0
    variance = 0.0
    se_reason = None
    for s in strata:
        weight = s.population / total
        share = s.human_pass / s.audited
        estimate += weight * share
        if s.audited >= s.population:
            continue  # a census stratum has no sampling error
        if s.audited == 1:
            se_reason = se_reason or f"CI n/a: stratum {s.name} has one audited item of {s.population}"
            continue
        variance += weight**2 * (1 - s.audited / s.population) * share * (1 - share) / (s.audited - 1)
    binary = all(s.verifier in ("pass", "fail", "error") for s in strata)
    rogan_gladen = _design_weighted_rogan_gladen(strata, total) if binary else None
    se_reason = se_reason or _zero_width(strata, variance)
    if se_reason:
        return CorrectedEstimate(total, audited, estimate, None, None, None, rogan_gladen, se_reason, strata)
    se = math.sqrt(variance) if variance > 0 else 0.0
    return CorrectedEstimate(
        total, audited, estimate, se, estimate - Z_95 * se, estimate + Z_95 * se, rogan_gladen, None, strata
    )


def _zero_width(strata: Sequence[Stratum], variance: float) -> str | None:
    """Why there is no interval when a sample (not a census) shows no spread at all.

    Every sampled stratum's audited items then agree, and the normal interval would have zero width: it would
    read as certainty from what may be a handful of items (2 audited of 5 say nothing of the other 3).
    """
    sampled = [s for s in strata if s.audited < s.population]
    if variance > 0 or not sampled:
        return None
    small = min(sampled, key=lambda s: s.audited)
    return (
        f"CI n/a: in each sampled stratum all audited items agree ({small.name}: {small.audited} of "
        f"{small.population} audited); a zero-width interval would claim certainty"
    )


def _design_weighted_rogan_gladen(strata: Sequence[Stratum], total: int) -> float | None:
    """(apparent + specificity - 1) / (sensitivity + specificity - 1), all design-weighted.

    A cross-check: with design-weighted sensitivity and specificity it equals the stratified estimate.
    """
    apparent = sum(s.population for s in strata if s.verifier == "pass") / total
    true_pass_weight = sum(s.population / total * s.human_pass / s.audited for s in strata if s.verifier == "pass")
    prevalence = sum(s.population / total * s.human_pass / s.audited for s in strata)
    if prevalence <= 0 or prevalence >= 1:
        return None
    false_pass_weight = prevalence - true_pass_weight
    sensitivity = true_pass_weight / prevalence
    specificity = (1 - apparent - false_pass_weight) / (1 - prevalence)
    youden = sensitivity + specificity - 1
    if youden == 0:
        return None
    return (apparent + specificity - 1) / youden


@dataclass(frozen=True, slots=True)
class DomainStratum:
    """A design stratum seen from a domain that cuts across it (e.g. one model in a session not stratified by model).

    `audited` counts every labelled sampled item of the stratum, `domain_audited` those in the domain and
    `domain_pass` their human passes.
    """

    stratum: Stratum  # population N_h, audited n_h (all labelled items), human passes of the whole stratum
    domain_audited: int
    domain_pass: int


def domain_pass_rate(strata: Sequence[DomainStratum], domain: str) -> CorrectedEstimate:
    """The domain's human pass rate under the stratified design: a ratio estimator with its linearised variance.

    R = sum_h (N_h/n_h) b_h / sum_h (N_h/n_h) a_h (a_h domain items among the n_h audited, b_h their passes);
    with residuals e_i = d_i (y_i - R), V(R) = sum_h N_h^2 (1 - n_h/N_h) s_e,h^2 / n_h / N^_D^2, where
    N^_D = sum_h N_h a_h / n_h (Cochran 1977, 5A.13; Sarndal, Swensson & Wretman 1992, 5.6 and 10.3). When
    every stratum lies wholly in the domain this is exactly `corrected_pass_rate`. Undefined when a stratum has
    patches but no audited item (its share of the domain is unknown) or no audited item is in the domain.
    """
    strata = tuple(d for d in strata if d.stratum.population > 0)
    total = sum(d.stratum.population for d in strata)
    audited = sum(d.stratum.audited for d in strata)
    plain = tuple(d.stratum for d in strata)

    def undefined(reason: str, size: float | None = None) -> CorrectedEstimate:
        return CorrectedEstimate(total, audited, None, None, None, None, None, reason, plain, size, True)

    if total == 0:
        return undefined("no patches with a verifier verdict")
    unaudited = [d.stratum for d in strata if d.stratum.audited == 0]
    if unaudited:
        first = unaudited[0]
        more = f" (and {len(unaudited) - 1} more)" if len(unaudited) > 1 else ""
        return undefined(f"stratum {first.name} has {first.population} patches, none audited{more}")
    size = sum(d.stratum.population * d.domain_audited / d.stratum.audited for d in strata)
    if size <= 0:
        return undefined(f"no audited item of {domain}", 0.0)
    estimate = sum(d.stratum.population * d.domain_pass / d.stratum.audited for d in strata) / size
    variance = 0.0
    se_reason = None
    for d in strata:
        s = d.stratum
        if s.audited >= s.population:
            continue  # a census stratum has no sampling error
        if s.audited == 1:
            se_reason = se_reason or f"CI n/a: stratum {s.name} has one audited item of {s.population}"
            continue
        # Residuals e_i = d_i (y_i - R): their sum and sum of squares from the counts.
        e_sum = d.domain_pass - estimate * d.domain_audited
        e_squares = d.domain_pass * (1 - estimate) ** 2 + (d.domain_audited - d.domain_pass) * estimate**2
        spread = max(0.0, (e_squares - e_sum**2 / s.audited) / (s.audited - 1))
        variance += s.population**2 * (1 - s.audited / s.population) * spread / s.audited
    variance /= size**2
    se_reason = se_reason or _zero_width(plain, variance)
    if se_reason:
        return CorrectedEstimate(total, audited, estimate, None, None, None, None, se_reason, plain, size, True)
    se = math.sqrt(variance) if variance > 0 else 0.0
    return CorrectedEstimate(
        total, audited, estimate, se, estimate - Z_95 * se, estimate + Z_95 * se, None, None, plain, size, True
    )


@dataclass(frozen=True, slots=True)
class Difference:
    """a - b with a normal 95% interval, for two independent estimates."""

    difference: float
    ci_low: float
    ci_high: float

    @property
    def distinguishable(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def difference(a: float, se_a: float, b: float, se_b: float) -> Difference:
    se = math.sqrt(se_a**2 + se_b**2)
    gap = a - b
    return Difference(gap, gap - Z_95 * se, gap + Z_95 * se)


# --- planning ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StratumPlan:
    stratum: Stratum
    target_audited: int

    @property
    def additional(self) -> int:
        return max(0, self.target_audited - self.stratum.audited)


@dataclass(frozen=True, slots=True)
class AuditPlan:
    """Neyman allocation of audited items that brings the corrected interval to `half_width`."""

    half_width: float
    current_half_width: float | None
    planned_half_width: float
    strata: tuple[StratumPlan, ...]

    @property
    def additional(self) -> int:
        return sum(p.additional for p in self.strata)


def planning_share(stratum: Stratum) -> float:
    """The stratum's pass share for planning, pulled off 0 and 1 ((x + 1) / (n + 2)) so no stratum is ignored."""
    return (stratum.human_pass + 1) / (stratum.audited + 2)


def plan_audit(strata: Sequence[Stratum], half_width: float) -> AuditPlan:
    """How many audited items each stratum needs (Neyman allocation with the finite-population correction).

    Strata whose allocation exceeds their size are audited in full and the rest re-allocated. Strata already
    audited beyond their allocation keep what they have (so the plan errs on the safe side).
    """
    if not 0 < half_width < 1:
        raise ValueError("the half-width must be between 0 and 1")
    strata = tuple(s for s in strata if s.population > 0)
    total = sum(s.population for s in strata)
    current = corrected_pass_rate(strata)
    current_half = Z_95 * current.se if current.se is not None else None
    if total == 0:
        return AuditPlan(half_width, current_half, 0.0, ())
    target_variance = (half_width / Z_95) ** 2
    spread = {s: math.sqrt(planning_share(s) * (1 - planning_share(s))) for s in strata}
    targets: dict[Stratum, int] = {}
    open_strata = list(strata)
    while open_strata:
        weighted_spread = sum(s.population / total * spread[s] for s in open_strata)
        fpc_term = sum(s.population / total * spread[s] ** 2 for s in open_strata) / total
        needed = weighted_spread**2 / (target_variance + fpc_term)
        allocation = {s: needed * s.population * spread[s] / (weighted_spread * total) for s in open_strata}
        over = [s for s in open_strata if allocation[s] >= s.population]
        if not over:
            targets.update({s: min(s.population, max(2, math.ceil(allocation[s]))) for s in open_strata})
            break
        for s in over:
            targets[s] = s.population
            open_strata.remove(s)
    plans = tuple(StratumPlan(s, max(targets[s], min(s.audited, s.population))) for s in strata)
    return AuditPlan(half_width, current_half, _planned_half_width(plans, spread, total), plans)


def _planned_half_width(plans: Sequence[StratumPlan], spread: dict[Stratum, float], total: int) -> float:
    variance = 0.0
    for plan in plans:
        s, n = plan.stratum, plan.target_audited
        if n >= s.population:
            continue
        variance += (s.population / total) ** 2 * (1 - n / s.population) * spread[s] ** 2 / n
    return Z_95 * math.sqrt(variance)

"""Rates with Wilson intervals, verifier-vs-human agreement and inter-rater agreement, from counts.

Pure functions in plain Python. Each result is a small frozen dataclass whose undefined figures are None
with a `reason`; nothing here ever returns NaN or inf.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95
Z_95 = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2)


@dataclass(frozen=True, slots=True)
class Rate:
    """count / n with its Wilson 95% interval; `value` is None (with a reason) when n is 0."""

    count: int
    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    reason: str | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "count": self.count,
            "n": self.n,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class Coefficient:
    """An agreement coefficient with its standard error and normal 95% interval (None with a reason)."""

    value: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    reason: str | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"value": self.value, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high}
        if self.reason:
            out["reason"] = self.reason
        return out


def undefined_coefficient(reason: str) -> Coefficient:
    return Coefficient(None, None, None, None, reason)


def with_normal_interval(value: float, variance: float) -> Coefficient:
    """value ± z·SE; rounding can leave a variance of -1e-17, which is 0."""
    se = math.sqrt(variance) if variance > 0 else 0.0
    return Coefficient(value, se, value - Z_95 * se, value + Z_95 * se)


def wilson_interval(count: int, n: int) -> tuple[float, float]:
    """The Wilson score 95% interval of count/n (n > 0); exact at 0/n and n/n."""
    share = count / n
    z2 = Z_95 * Z_95
    denominator = 1 + z2 / n
    center = (share + z2 / (2 * n)) / denominator
    half_width = Z_95 * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / denominator
    low = 0.0 if count == 0 else max(0.0, center - half_width)
    high = 1.0 if count == n else min(1.0, center + half_width)
    return low, high


def rate(count: int, n: int, reason_if_empty: str = "no labelled items") -> Rate:
    if n <= 0:
        return Rate(count, 0, None, None, None, reason_if_empty)
    low, high = wilson_interval(count, n)
    return Rate(count, n, count / n, low, high)


# --- verifier vs human, from the 2x2 table (rows = verifier, columns = human) ---------------------------


def cohen_kappa(pass_pass: int, pass_fail: int, fail_pass: int, fail_fail: int) -> Coefficient:
    """Cohen's kappa with the Fleiss–Cohen–Everitt (1969) large-sample SE, as statsmodels `cohens_kappa`."""
    n = pass_pass + pass_fail + fail_pass + fail_fail
    if n == 0:
        return undefined_coefficient("no labelled items")
    if pass_pass == n or fail_fail == n:
        return undefined_coefficient("kappa undefined: no variation")
    cells = ((pass_pass / n, pass_fail / n), (fail_pass / n, fail_fail / n))
    row = (cells[0][0] + cells[0][1], cells[1][0] + cells[1][1])
    col = (cells[0][0] + cells[1][0], cells[0][1] + cells[1][1])
    observed = cells[0][0] + cells[1][1]
    expected = row[0] * col[0] + row[1] * col[1]
    kappa = (observed - expected) / (1 - expected)
    term_diagonal = sum(cells[i][i] * (1 - (row[i] + col[i]) * (1 - kappa)) ** 2 for i in (0, 1))
    term_off = (1 - kappa) ** 2 * sum(cells[i][j] * (col[i] + row[j]) ** 2 for i in (0, 1) for j in (0, 1) if i != j)
    term_c = (kappa - expected * (1 - kappa)) ** 2
    variance = (term_diagonal + term_off - term_c) / (1 - expected) ** 2 / n
    return with_normal_interval(kappa, variance)


def gwet_ac1(pass_pass: int, pass_fail: int, fail_pass: int, fail_fail: int) -> Coefficient:
    """Gwet's AC1 for two raters and two categories with its variance (Gwet 2008, eq. for two raters, f = 0)."""
    n = pass_pass + pass_fail + fail_pass + fail_fail
    if n == 0:
        return undefined_coefficient("no labelled items")
    cells = ((pass_pass / n, pass_fail / n), (fail_pass / n, fail_fail / n))
    categories = 2
    pi = [((cells[k][0] + cells[k][1]) + (cells[0][k] + cells[1][k])) / 2 for k in (0, 1)]
    agreement = cells[0][0] + cells[1][1]
    chance = sum(p * (1 - p) for p in pi) / (categories - 1)
    ac1 = (agreement - chance) / (1 - chance)
    term_two = sum(cells[k][k] * (1 - pi[k]) for k in (0, 1)) / (categories - 1) - agreement * chance
    term_three = (
        sum(cells[k][j] * (1 - (pi[k] + pi[j]) / 2) ** 2 for k in (0, 1) for j in (0, 1)) / (categories - 1) ** 2
        - chance**2
    )
    variance = (agreement * (1 - agreement) - 4 * (1 - ac1) * term_two + 4 * (1 - ac1) ** 2 * term_three) / (
        n * (1 - chance) ** 2
    )
    return with_normal_interval(ac1, variance)


def mcnemar_exact_p(pass_fail: int, fail_pass: int) -> float:
    """Two-sided exact McNemar p (binomial on the discordant pairs), as statsmodels `mcnemar(exact=True)`.

    1.0 when there are no discordant pairs. Summed in log space so 40k pairs cost microseconds.
    """
    discordant = pass_fail + fail_pass
    smaller = min(pass_fail, fail_pass)
    if discordant == 0 or 2 * smaller >= discordant:
        return 1.0
    log_norm = math.lgamma(discordant + 1) - discordant * math.log(2)
    # Terms fall away from the tail's edge (smaller <= discordant / 2), so stop when they no longer count.
    term = math.exp(log_norm - math.lgamma(smaller + 1) - math.lgamma(discordant - smaller + 1))
    total = term
    k = smaller
    while k > 0 and term > total * 1e-17:
        term *= k / (discordant - k + 1)
        total += term
        k -= 1
    return min(1.0, 2 * total)


# --- between humans ---------------------------------------------------------------------------------------


# Rating sums: for the items rated by exactly m raters (p pass votes, f fail votes, p + f = m), the list
# [items, sum p(p-1), sum f(f-1), sum p·f, sum p, sum f]. Integers, so items can be added and removed one at a
# time (the live panel) without drift.
RATING_SUM_FIELDS = 6


def add_rating(sums: list[int], pass_votes: int, fail_votes: int, sign: int = 1) -> None:
    """Add (or with sign -1 remove) one item to a mutable rating-sums list."""
    sums[0] += sign
    sums[1] += sign * pass_votes * (pass_votes - 1)
    sums[2] += sign * fail_votes * (fail_votes - 1)
    sums[3] += sign * pass_votes * fail_votes
    sums[4] += sign * pass_votes
    sums[5] += sign * fail_votes


@dataclass(frozen=True, slots=True)
class HumanAgreement:
    n_raters: int
    n_items_multi_rated: int
    n_items_complete: int
    percent_agreement: float | None
    percent_agreement_reason: str | None
    fleiss_kappa: float | None
    fleiss_kappa_reason: str | None
    krippendorff_alpha: float | None
    krippendorff_alpha_reason: str | None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "n_raters": self.n_raters,
            "n_items_multi_rated": self.n_items_multi_rated,
            "n_items_complete": self.n_items_complete,
        }
        for name in ("krippendorff_alpha", "fleiss_kappa", "percent_agreement"):
            out[name] = getattr(self, name)
            reason = getattr(self, f"{name}_reason")
            if reason:
                out[f"{name}_reason"] = reason
        return out


def human_agreement(sums_by_raters: Mapping[int, list[int]], n_raters: int) -> HumanAgreement:
    """Agreement among humans from rating sums keyed by m; pass and fail are the categories (unsure is missing).

    Percent agreement: mean over items with two or more ratings of the share of agreeing rater pairs.
    Fleiss' kappa: items rated by all `n_raters` raters of the group. Krippendorff's alpha: nominal,
    every item with two or more ratings (missing ratings allowed).
    """
    multi = {m: s for m, s in sums_by_raters.items() if m >= 2 and s[0] > 0}
    n_multi = sum(s[0] for s in multi.values())
    complete = multi.get(n_raters) if n_raters >= 2 else None
    n_complete = complete[0] if complete else 0
    if n_raters < 2:
        reason = "fewer than two raters"
        return HumanAgreement(n_raters, n_multi, n_complete, None, reason, None, reason, None, reason)
    if n_multi == 0:
        reason = "no item has two or more ratings"
        return HumanAgreement(n_raters, 0, 0, None, reason, None, reason, None, reason)
    percent = sum((s[1] + s[2]) / (m * (m - 1)) for m, s in multi.items()) / n_multi
    fleiss, fleiss_reason = _fleiss_kappa(complete, n_raters)
    alpha, alpha_reason = _krippendorff_alpha(multi)
    return HumanAgreement(n_raters, n_multi, n_complete, percent, None, fleiss, fleiss_reason, alpha, alpha_reason)


def _fleiss_kappa(complete: list[int] | None, raters: int) -> tuple[float | None, str | None]:
    if not complete or complete[0] == 0:
        return None, "no item rated by every rater"
    items, pass_pairs, fail_pairs, _, pass_votes, fail_votes = complete
    if pass_votes == 0 or fail_votes == 0:
        return None, "kappa undefined: no variation"
    observed = (pass_pairs + fail_pairs) / (items * raters * (raters - 1))
    pass_share = pass_votes / (items * raters)
    expected = pass_share**2 + (1 - pass_share) ** 2
    return (observed - expected) / (1 - expected), None


def _krippendorff_alpha(multi: Mapping[int, list[int]]) -> tuple[float | None, str | None]:
    pass_pass = sum(s[1] / (m - 1) for m, s in multi.items())
    fail_fail = sum(s[2] / (m - 1) for m, s in multi.items())
    pass_fail = sum(s[3] / (m - 1) for m, s in multi.items())
    if not any(s[4] for s in multi.values()) or not any(s[5] for s in multi.values()):
        return None, "alpha undefined: no variation"
    pass_total = pass_pass + pass_fail
    fail_total = fail_fail + pass_fail
    pairable = pass_total + fail_total
    return 1 - (pairable - 1) * pass_fail / (pass_total * fail_total), None

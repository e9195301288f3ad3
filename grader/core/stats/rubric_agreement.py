"""Agreement on rubric answers, from plain values: Krippendorff's alpha (nominal or ordinal) and Cohen's kappa
(unweighted or quadratic-weighted) with its confusion table. Pure functions; undefined figures are None with a
reason, never NaN.

Checked against the `krippendorff` package and scikit-learn's `cohen_kappa_score` (tests/core/test_rubric_stats.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True, slots=True)
class AlphaResult:
    value: float | None
    units: int  # units with two or more values (pairable)
    values: int  # pairable values
    metric: str
    reason: str | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "value": self.value,
            "units": self.units,
            "pairable_values": self.values,
            "metric": self.metric,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


def krippendorff_alpha(
    units: Sequence[Sequence[Hashable]], *, metric: str = "nominal", domain: Sequence[Hashable] = ()
) -> AlphaResult:
    """Krippendorff's alpha over units (each the values its raters gave; missing ones left out).

    `metric` "nominal" or "ordinal"; for ordinal, `domain` lists the scale's values in order (unused levels
    count as zero frequencies, as the `krippendorff` package does with `value_domain`). Units with fewer than
    two values are not pairable and are left out (Krippendorff 2011, "Computing Krippendorff's alpha").
    """
    if metric not in ("nominal", "ordinal"):
        raise ValueError(f"unknown metric {metric!r}")
    pairable = [list(unit) for unit in units if len(unit) >= 2]
    categories: list[Hashable] = list(domain) if domain else sorted({v for unit in pairable for v in unit}, key=str)
    position = {value: i for i, value in enumerate(categories)}
    for unit in pairable:
        for value in unit:
            if value not in position:
                raise ValueError(f"value {value!r} is not in the domain")
    size = len(categories)
    coincidence = [[0.0] * size for _ in range(size)]
    for unit in pairable:
        counts = Counter(position[v] for v in unit)
        m = len(unit)
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                pairs = n_c * (n_k - 1) if c == k else n_c * n_k
                coincidence[c][k] += pairs / (m - 1)
    totals = [sum(row) for row in coincidence]
    n = sum(totals)
    values = sum(len(unit) for unit in pairable)
    if not pairable:
        return AlphaResult(None, 0, 0, metric, "no unit has two or more values")
    if sum(1 for t in totals if t > 0) < 2:
        return AlphaResult(None, len(pairable), values, metric, "alpha undefined: every value is the same")
    delta = _delta(totals, metric)
    observed = sum(coincidence[c][k] * delta[c][k] for c in range(size) for k in range(size))
    expected = sum(totals[c] * totals[k] * delta[c][k] for c in range(size) for k in range(size)) / (n - 1)
    return AlphaResult(1 - observed / expected, len(pairable), values, metric)


def _delta(totals: Sequence[float], metric: str) -> list[list[float]]:
    size = len(totals)
    if metric == "nominal":
        return [[0.0 if c == k else 1.0 for k in range(size)] for c in range(size)]
    out = [[0.0] * size for _ in range(size)]
    for c in range(size):
        for k in range(size):
            low, high = min(c, k), max(c, k)
            between = sum(totals[low : high + 1]) - (totals[c] + totals[k]) / 2
            out[c][k] = between * between
    return out


@dataclass(frozen=True, slots=True)
class KappaResult:
    value: float | None
    n: int
    weights: str  # "quadratic" or "none"
    table: tuple[tuple[int, ...], ...]  # rows: rater A's value, columns: rater B's, in the scale's order
    labels: tuple[str, ...]
    agreement: float | None
    reason: str | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "value": self.value,
            "n": self.n,
            "weights": self.weights,
            "labels": list(self.labels),
            "table": [list(row) for row in self.table],
            "percent_agreement": self.agreement,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


def cohen_kappa_table(
    pairs: Sequence[tuple[str, str]], labels: Sequence[str], *, weights: str = "quadratic"
) -> KappaResult:
    """Cohen's kappa of two raters' (a, b) values over `labels` (in order), quadratic-weighted or unweighted.

    kappa_w = 1 - sum w_ij o_ij / sum w_ij e_ij, w_ij = (i - j)^2 (quadratic) or [i != j] (none), e_ij from the
    margins: scikit-learn's `cohen_kappa_score(a, b, labels=..., weights=...)`.
    """
    if weights not in ("quadratic", "none"):
        raise ValueError(f"unknown weights {weights!r}")
    index = {label: i for i, label in enumerate(labels)}
    size = len(labels)
    table = [[0] * size for _ in range(size)]
    for a, b in pairs:
        table[index[a]][index[b]] += 1
    n = len(pairs)
    frozen = tuple(tuple(row) for row in table)
    if n == 0:
        return KappaResult(None, 0, weights, frozen, tuple(labels), None, "no unit rated by both")
    agreement = sum(table[i][i] for i in range(size)) / n
    rows = [sum(row) for row in table]
    cols = [sum(table[i][j] for i in range(size)) for j in range(size)]

    def weight(i: int, j: int) -> float:
        return float((i - j) ** 2) if weights == "quadratic" else float(i != j)

    observed = sum(weight(i, j) * table[i][j] for i in range(size) for j in range(size))
    expected = sum(weight(i, j) * rows[i] * cols[j] / n for i in range(size) for j in range(size))
    if expected == 0:
        return KappaResult(None, n, weights, frozen, tuple(labels), agreement, "kappa undefined: no variation")
    return KappaResult(1 - observed / expected, n, weights, frozen, tuple(labels), agreement)


def pairwise_kappas(
    ratings: Mapping[Hashable, Mapping[str, str]], labels: Sequence[str], *, weights: str, minimum: int = 2
) -> list[dict[str, object]]:
    """Kappa for every pair of raters with at least `minimum` units both rated: {unit: {rater: value}}."""
    raters = sorted({rater for by_rater in ratings.values() for rater in by_rater})
    out = []
    for a, b in combinations(raters, 2):
        pairs = [(r[a], r[b]) for r in ratings.values() if a in r and b in r]
        if len(pairs) < minimum:
            continue
        result = cohen_kappa_table(pairs, labels, weights=weights)
        out.append({"raters": [a, b], "n": result.n, "value": result.value, "reason": result.reason})
    return out

"""The statistics behind the verdicts: means over seeds, differences, rank correlation.

A difference between two arms counts as *real* when it is larger than ``min_effect`` (in the
metric's own units) **and** larger than twice its standard error,
``SE = sqrt(s_a^2 / n_a + s_b^2 / n_b)`` over seeds (about a 95% interval). Both numbers are
printed with every verdict.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Diff", "Stat", "diff", "spearman", "stat"]


@dataclass(frozen=True)
class Stat:
    """Mean, standard deviation and count of a metric over seeds."""

    mean: float
    std: float
    n: int

    def pct(self, digits: int = 1) -> str:
        """``"12.3 ± 0.4"`` in percent."""
        return f"{100 * self.mean:.{digits}f} ± {100 * self.std:.{digits}f}"

    def num(self, digits: int = 3) -> str:
        """``"0.123 ± 0.004"`` in the metric's units."""
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"


def stat(values: Sequence[float | None]) -> Stat | None:
    """:class:`Stat` of the finite values, ``None`` if there are none.

    Example:
        >>> from shiftaug.harness.claims.stats import stat
        >>> stat([0.5, 0.7, None]).pct()
        '60.0 ± 14.1'
    """
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not vals:
        return None
    return Stat(statistics.fmean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0, len(vals))


@dataclass(frozen=True)
class Diff:
    """``a - b`` with its standard error and whether it counts as real."""

    delta: float
    se: float
    real: bool

    def text(self, scale: float = 100, unit: str = " pts") -> str:
        return f"{scale * self.delta:+.1f}{unit} (2 SE = {scale * 2 * self.se:.1f})"


def diff(a: Stat, b: Stat, min_effect: float) -> Diff:
    """``a.mean - b.mean``, real if ``|delta| > max(min_effect, 2 SE)``.

    Example:
        >>> from shiftaug.harness.claims.stats import Stat, diff
        >>> diff(Stat(0.9, 0.01, 3), Stat(0.5, 0.02, 3), 0.05).real
        True
    """
    se = math.sqrt(a.std**2 / max(a.n, 1) + b.std**2 / max(b.n, 1))
    delta = a.mean - b.mean
    return Diff(delta, se, abs(delta) > max(min_effect, 2 * se))


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2  # ties share their mean rank
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (Pearson correlation of the ranks; 0 if either is constant).

    Example:
        >>> from shiftaug.harness.claims.stats import spearman
        >>> spearman([1, 2, 3, 4], [10, 20, 25, 40]), spearman([1, 2, 3], [3, 2, 1])
        (1.0, -1.0)
    """
    rx, ry = _ranks(list(x)), _ranks(list(y))
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0

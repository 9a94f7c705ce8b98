"""Alert windows and burn-rate tiers: which windows an SLO needs and at what burn.

The SRE workbook's tiers are written for a 30-day window (2% of the budget in
1h, 5% in 6h, 10% in 1d, 10% in 3d). They are stored as budget shares, so a
different SLO window keeps what each alert means: the default windows scale
with the SLO window (a 7d SLO pages on 2% of its budget spent in 14 minutes)
and the burn factors stay 14.4 / 6 / 3 / 1. Tiers a user writes are taken as
written; their burn factor follows from the budget share.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from slokit.model import DEFAULT_TIERS, Tier, duration_seconds

MINUTE = 60
REFERENCE_WINDOW = 30 * 86400
# Rates shorter than this are too noisy with common scrape intervals (1m).
MIN_SHORT_WINDOW = 5 * MINUTE
# Every SLI is recorded once at this window from the raw counters ...
BASE_WINDOW = 5 * MINUTE
# ... windows up to this one are also computed from the raw counters (their
# alerts must react within minutes); longer windows are averaged from the
# recorded base rate, so their cost does not grow with the raw series.
MAX_RAW_WINDOW = 2 * 3600
# The SLO window itself (budget left, the SLI over the window), when no alert
# reads it, averages the recorded base rate sampled every 5m (a subquery with
# a 5m step: back-to-back 5m windows tile it): 8,640 samples per series for 30d
# instead of the 43,200 recorded at a 1m interval. It lags by up to this step,
# which only the budget figures see.
COARSE_STEP = 5 * MINUTE


def format_duration(seconds: int) -> str:
    """Prometheus duration in the largest units, e.g. 20160 -> 5h36m, 2592000 -> 30d."""
    if seconds <= 0:
        raise ValueError("durations are positive")
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)


@dataclass(frozen=True)
class BurnTier:
    """One multi-window burn-rate alert, resolved for a given SLO window."""

    severity: str
    budget_percent: Decimal
    long_s: int
    short_s: int
    burn_factor: Decimal

    @property
    def long_window(self) -> str:
        return format_duration(self.long_s)

    @property
    def short_window(self) -> str:
        return format_duration(self.short_s)

    def error_ratio_threshold(self, error_budget: Decimal) -> Decimal:
        """The error ratio at which this tier fires."""
        return self.burn_factor * error_budget


def _round_minutes(seconds: float) -> int:
    return max(MINUTE, int(Decimal(seconds / MINUTE).quantize(Decimal(1), ROUND_HALF_EVEN)) * MINUTE)


def burn_factor(budget_percent: Decimal, slo_window_s: int, long_s: int) -> Decimal:
    """Burn rate at which `budget_percent` of the budget goes in `long_s`."""
    factor = budget_percent / 100 * slo_window_s / long_s
    # Four significant digits: enough for any threshold, and stable text in rules.
    return Decimal(format(factor, ".4g")) if factor < 10000 else factor.quantize(Decimal(1))


def _scaled(tier: Tier, slo_window_s: int) -> tuple[int, int]:
    scale = slo_window_s / REFERENCE_WINDOW
    long_30d = duration_seconds(tier.long_window)
    short_30d = duration_seconds(tier.short_window) if tier.short_window else long_30d // 12
    short_s = max(MIN_SHORT_WINDOW, _round_minutes(short_30d * scale))
    long_s = max(2 * short_s, _round_minutes(long_30d * scale))
    return long_s, short_s


def _as_written(tier: Tier) -> tuple[int, int]:
    long_s = duration_seconds(tier.long_window)
    short_s = duration_seconds(tier.short_window) if tier.short_window else long_s // 12
    return long_s, short_s


def resolve_tiers(slo_window_s: int, tiers: list[Tier] | None) -> tuple[BurnTier, ...]:
    """The tiers an SLO alerts with: the user's, or the defaults scaled to its window."""
    resolved = []
    for tier in tiers if tiers is not None else DEFAULT_TIERS:
        long_s, short_s = _as_written(tier) if tiers is not None else _scaled(tier, slo_window_s)
        share = Decimal(str(tier.budget_percent))
        resolved.append(BurnTier(tier.severity, share, long_s, short_s, burn_factor(share, slo_window_s, long_s)))
    return tuple(resolved)


def uses_raw_counters(window_s: int) -> bool:
    return window_s <= MAX_RAW_WINDOW


def uses_coarse_average(window_s: int, slo_window_s: int, alert_windows_s: set[int]) -> bool:
    """Whether this window is the SLO window averaged from the hourly-sampled 1h rate."""
    return window_s == slo_window_s and window_s not in alert_windows_s and window_s >= 2 * COARSE_STEP \
        and not uses_raw_counters(window_s)

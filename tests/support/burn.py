"""Burn-rate math for bounding when a live alert fires and resolves.

A multi-window burn-rate alert fires when the error ratio over both its long
and its short window exceeds `burn factor x (1 - objective)` (the ratio
threshold `thr`). In a Prometheus that started `E` seconds ago with E below
both windows, each window holds exactly the data since the first scrape, so
both windows see the same ratio: bad events / all events since the start.
(rate() divides both by the same range, so their ratio is the ratio of the
increases.) From that:

* Detection. After `H` seconds of healthy traffic at `lam` events/s, a fault
  with error ratio at least `e` and event rate at least `k x lam` makes the
  ratio cross `thr` after
      t* = thr x H / (k x (e - thr))          seconds,
  independent of the traffic rate. (A running stack, whose windows are full
  and slide, keeps W seconds of events in the window, so the ratio is
  e x t / W and the detection time is the SRE workbook's
  thr x W / e = burn x (1 - objective) x long window / e: 4.3 minutes for
  the 14.4x/1h page of a 99.5% SLO at e = 1. A fresh Prometheus detects
  sooner because its window holds only H seconds.)

* Resolution. With B bad of N events in the window when the fault ends and
  traffic continuing at least at `k x lam` events/s without errors, the ratio
  drops under `thr` after
      r* = (B / thr - N) / (k x lam)          seconds.

Both hold while the whole history fits in the shorter window (E < short
window); `window_holds_history` checks that.

Windows longer than 2h are not computed from the raw counters but as
avg_over_time of the recorded 5m rates (slokit.windows.uses_raw_counters).
While E < 5m, each recorded 5m rate is the count since the first scrape / 300,
so such a window's ratio is integral(bad) / integral(all) over the history,
which reacts later: with N(t) = lam t before the fault and k lam after,
    k (e - thr) t^2 - 2 thr H t - thr H^2 = 0
gives
    t* = H (thr + sqrt(thr^2 + k (e - thr) thr)) / (k (e - thr)).
An alert fires when both its windows have crossed: the later of the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Detection:
    """Predicted detection of one alert."""

    threshold: float        # error-ratio threshold = burn factor x (1 - objective)
    healthy_s: float        # H: seconds of data before the fault
    min_error_ratio: float  # e: assumed lower bound of the fault's error ratio
    min_rate_factor: float  # k: assumed lower bound of fault traffic / healthy traffic
    averaged: bool = False  # the window is avg_over_time of recorded 5m rates (longer than 2h)

    @property
    def seconds(self) -> float:
        thr, e, k, h = self.threshold, self.min_error_ratio, self.min_rate_factor, self.healthy_s
        if e <= thr:
            raise ValueError(f"error ratio {e} never crosses the threshold {thr}")
        if self.averaged:
            return h * (thr + math.sqrt(thr * thr + k * (e - thr) * thr)) / (k * (e - thr))
        return thr * h / (k * (e - thr))


def resolution_seconds(threshold: float, bad: float, total: float, recovery_rate: float) -> float:
    """r*: seconds of clean traffic at `recovery_rate` events/s until bad/total < threshold."""
    return max(0.0, (bad / threshold - total) / recovery_rate)


def window_holds_history(elapsed_s: float, short_window_s: float) -> bool:
    """True while every sample since the first scrape is inside the short window."""
    return elapsed_s < short_window_s


def steady_state_detection_s(threshold: float, long_window_s: float, error_ratio: float = 1.0) -> float:
    """The workbook's detection time, thr x W / e: windows full of clean history (a stack running for a while)."""
    return threshold * long_window_s / error_ratio

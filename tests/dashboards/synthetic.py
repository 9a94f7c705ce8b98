"""Synthetic history for every catalog metric, as OpenMetrics text for
`promtool tsdb create-blocks-from openmetrics`.

Eight days of data: sparse (every 15 minutes) from 8 days ago, so
week-over-week and per-day queries have their past, and dense (every 15
seconds) over the last hour and the same hour a week earlier, so rates over a
few minutes have samples now and at `offset 1w`.
Label values are the catalog's declared values (without `other`); labels with
only a cardinality cap (tenant, prompt_version, version) get a few made-up
values. Counters grow at a per-series rate with a daily swing; histograms
spread their observations over the buckets; the prompt template and build
info series change version during the dense hour, so change annotations have
something to mark. Everything is deterministic (seeded).
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from typing import Iterator

from slokit.model import Catalog, MetricDef

DAY = 86400
WEEK = 7 * DAY
SPARSE_STEP = 900
DENSE_STEP = 15
DENSE_SPAN = 3600
HISTORY = 8 * DAY + 3600
CHANGE_AGO = 1800  # the version changes half an hour before `end`
OTHER = "other"
CAPPED_VALUES = {"tenant": ("acme", "globex", "initech"), "prompt_version": ("v1", "v2"),
                 "version": ("1.4.0", "1.5.0")}
MAX_VALUES = 4
# Label values of successful events get most of the traffic, so SLIs look like a service's.
GOOD_VALUES = {"status": "ok", "outcome": ("hit", "success"), "rating": "up"}
GOOD_WEIGHT = 50.0
# Dollars accrue far slower than requests.
UNIT_SCALE = {"usd": 0.002}


def timestamps(end: int) -> list[int]:
    """Sparse over eight days, dense over the last hour and the same hour a week earlier."""
    start = end - HISTORY
    times = set(range(start - start % SPARSE_STEP, end - DENSE_SPAN, SPARSE_STEP))
    for dense_end in (end, end - WEEK):
        times.update(range(dense_end - DENSE_SPAN, dense_end + 1, DENSE_STEP))
    return sorted(times)


def label_values(catalog: Catalog, label: str) -> tuple[str, ...]:
    definition = catalog.labels[label]
    if definition.values:
        return tuple(v for v in definition.values if v != OTHER)[:MAX_VALUES]
    return CAPPED_VALUES.get(label, ("a", "b"))


def label_sets(catalog: Catalog, metric: MetricDef) -> list[dict[str, str]]:
    names = list(metric.labels)
    choices = [label_values(catalog, n) for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*choices)]


@dataclass(frozen=True)
class Shape:
    """Per-series parameters: base rate (per second) and a phase for the daily swing."""

    rate: float
    phase: float

    def rate_at(self, t: int) -> float:
        return self.rate * (1.0 + 0.3 * math.sin(2 * math.pi * t / DAY + self.phase))

    def total_at(self, t: int, start: int) -> float:
        """Integral of rate_at from start to t (closed form of the swing)."""
        w = 2 * math.pi / DAY
        swing = 0.3 / w * (math.cos(w * start + self.phase) - math.cos(w * t + self.phase))
        return self.rate * ((t - start) + swing)


def _labels_text(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


def _fraction_below(le: float, median: float) -> float:
    """Share of observations <= le for a log-normal around `median` (sigma 0.8)."""
    if le <= 0:
        return 0.0
    z = (math.log(le) - math.log(median)) / 0.8
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _median(metric: MetricDef) -> float:
    buckets = metric.buckets or [1.0]
    return buckets[len(buckets) // 2 - 1] if len(buckets) > 1 else buckets[0]


def _info_active(name: str, labels: dict[str, str], t: int, end: int) -> bool:
    """Old version before the change, new version after (for every version-like label)."""
    for label in ("prompt_version", "version"):
        if label in labels:
            values = CAPPED_VALUES[label]
            current = values[1] if t >= end - CHANGE_AGO else values[0]
            return labels[label] == current
    return True


def openmetrics(catalog: Catalog, end: int, seed: int = 7) -> Iterator[str]:
    rng = random.Random(seed)
    times = timestamps(end)
    start = times[0]
    for name, metric in sorted(catalog.metrics.items()):
        family = name.removesuffix("_total") if metric.type == "counter" else name
        yield f"# TYPE {family} {metric.type}\n"
        for labels in label_sets(catalog, metric):
            weight = GOOD_WEIGHT if any(labels.get(k) in (v if isinstance(v, tuple) else (v,))
                                        for k, v in GOOD_VALUES.items()) else 1.0
            rate = rng.uniform(0.05, 0.5) * weight * UNIT_SCALE.get(metric.unit, 1.0)
            shape = Shape(rate=rate, phase=rng.uniform(0, 2 * math.pi))
            if metric.type == "counter":
                text = _labels_text(labels)
                for t in times:
                    yield f"{name}{text} {shape.total_at(t, start):.6f} {t}\n"
            elif metric.type == "histogram":
                median = _median(metric) * rng.uniform(0.7, 1.3)
                bounds = [*(metric.buckets or []), math.inf]
                for le in bounds:
                    fraction = 1.0 if le == math.inf else _fraction_below(le, median)
                    le_text = "+Inf" if le == math.inf else repr(float(le))
                    text = _labels_text({**labels, "le": le_text})
                    for t in times:
                        yield f"{name}_bucket{text} {shape.total_at(t, start) * fraction:.6f} {t}\n"
                text = _labels_text(labels)
                for t in times:
                    yield f"{name}_count{text} {shape.total_at(t, start):.6f} {t}\n"
                for t in times:
                    yield f"{name}_sum{text} {shape.total_at(t, start) * median:.6f} {t}\n"
            else:
                text = _labels_text(labels)
                info = metric.unit in ("info", "bool")
                for t in times:
                    if metric.unit == "info":
                        if _info_active(name, labels, t, end):
                            yield f"{name}{text} 1 {t}\n"
                    elif info:
                        yield f"{name}{text} {1 if (t // 600) % 7 == 0 else 0} {t}\n"
                    else:
                        yield f"{name}{text} {shape.rate_at(t):.6f} {t}\n"
    yield "# EOF\n"

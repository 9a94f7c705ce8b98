"""Write known history as OpenMetrics text and backfill it with `promtool tsdb create-blocks-from openmetrics`.

Families are written contiguously (the format requires it), series sorted by
time. Recorded series (`slo:...`) are written like any other gauge, so a test
can give Prometheus months of rule history without evaluating rules for months.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .prometheus import binary

Point = tuple[int, float]


def _labels_text(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


@dataclass
class OpenMetricsFile:
    """Collects series by family, then writes them in one valid file."""

    families: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, family: str, kind: str, name: str, labels: dict[str, str], points: Iterable[Point]) -> None:
        text = _labels_text(labels)
        self.families[(family, kind)].extend(f"{name}{text} {v:.9g} {t}\n" for t, v in points)

    def gauge(self, name: str, labels: dict[str, str], points: Iterable[Point]) -> None:
        self.add(name, "gauge", name, labels, points)

    def counter(self, name: str, labels: dict[str, str], points: Iterable[Point]) -> None:
        """`name` ends in _total; the family is the name without it."""
        self.add(name.removesuffix("_total"), "counter", name, labels, points)

    def histogram_series(self, family: str, suffix: str, labels: dict[str, str], points: Iterable[Point]) -> None:
        self.add(family, "histogram", family + suffix, labels, points)

    def write(self, path: Path) -> Path:
        with path.open("w") as f:
            for (family, kind), lines in self.families.items():
                f.write(f"# TYPE {family} {kind}\n")
                f.writelines(lines)
            f.write("# EOF\n")
        return path


def counter_points(times: Iterable[int], rate_at: Callable[[int], float], start: int) -> list[Point]:
    """A counter growing at `rate_at(t)` per second (piecewise, sampled at `times`), 0 at `start`."""
    points, total, prev = [], 0.0, start
    for t in times:
        total += rate_at(t) * (t - prev)
        prev = t
        points.append((t, total))
    return points


def backfill(om: OpenMetricsFile, work: Path, data_dir: Path) -> None:
    """promtool writes blocks into `data_dir` (the future Prometheus's TSDB)."""
    source = om.write(work / "history.om")
    backfill_file(source, data_dir)
    source.unlink()


def backfill_file(source: Path, data_dir: Path, timeout: float = 600) -> None:
    """Backfill an OpenMetrics file written by the caller (e.g. too large to build in memory)."""
    result = subprocess.run([binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                             "--max-block-duration=240h", str(source), str(data_dir)],
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"promtool backfill failed:\n{result.stdout}\n{result.stderr}"

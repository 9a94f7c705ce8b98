"""Running a backfill: where recording began, at what interval, promtool, and moving the blocks in.

Each group is backfilled up to its first recorded sample, so the history and
the live record meet without overlap, at the interval Prometheus evaluates
the group with (`avg_over_time` weighs samples, not time: a history at another
interval would weigh the past differently from the present).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from slokit.backfill.select import GroupBackfill
from slokit.ops.prom import Prometheus
from slokit.plan import RecordingRule
from slokit.promql import quote
from slokit.render.common import dump_yaml
from slokit.render.prometheus_rules import rule_dict

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
# Prometheus looks for new blocks in its data directory once a minute.
LOAD_TIMEOUT_S = 180.0


class BackfillError(Exception):
    """Something a user can fix (the message says what): unreachable Prometheus, rules not loaded, promtool failing."""


def selector(rule: RecordingRule) -> str:
    matchers = ", ".join(f"{k}={quote(v)}" for k, v in rule.labels)
    return f"{rule.record}{{{matchers}}}"


@dataclass(frozen=True)
class Hole:
    """A stretch without recorded samples that raw history may fill; `start` None is the record's beginning."""

    start: float | None
    end: float


@dataclass(frozen=True)
class Recording:
    """What a group has recorded: its evaluation interval and the holes a backfill fills.

    Blocks must end before the head block's first sample: when Prometheus next
    persists its head it truncates the head to the newest block's end, and a
    block reaching into the head would drop raw samples not yet persisted
    (why promtool's own default stops 3 hours ago). Those hours stay a hole
    that a later run fills, once Prometheus has persisted them.
    """

    interval_s: float
    holes: tuple[Hole, ...]


def head_start(prom: Prometheus) -> float:
    """The time of the oldest sample Prometheus still holds in its head block (seconds)."""
    stats = prom.tsdb_status().get("headStats", {})
    return float(stats.get("minTime", 0)) / 1000.0


def group_intervals(prom: Prometheus) -> dict[str, float]:
    return {g["name"]: float(g["interval"]) for g in prom.rule_groups("record")}


def holes(times: list[float], interval_s: float, head: float) -> tuple[Hole, ...]:
    """The record's beginning and every gap of more than 3 intervals, cut at the head block's start."""
    found = [Hole(None, times[0])]
    found += [Hole(a + interval_s / 2, b) for a, b in zip(times, times[1:]) if b - a > 3 * interval_s]
    return tuple(Hole(h.start, min(h.end, head) - 0.001) for h in found
                 if h.start is None or h.start < head)


def recording_of(prom: Prometheus, group: GroupBackfill, intervals: dict[str, float], now: float,
                 head: float) -> Recording:
    if group.group not in intervals:
        raise BackfillError(f"Prometheus does not evaluate the rule group {group.group}: load the generated rules "
                            "there first (the backfill ends where the live record begins)")
    first_rule = min(group.records, key=lambda r: r.level).rule
    span = max(r.span_s for r in group.records)
    # The samples' own timestamps (a range selector's raw points), all series of the group together.
    times = sorted({t for series in prom.range_vector(f"{selector(first_rule)}[{span}s]", now)
                    for t, _v in series.points})
    if not times:
        raise BackfillError(f"no sample of {selector(first_rule)} yet: wait for the group {group.group} to be "
                            "evaluated once, then run the backfill")
    return Recording(intervals[group.group], holes(times, intervals[group.group], head))


def rules_file(group: str, interval_s: float, rules: tuple[RecordingRule, ...], path: Path) -> Path:
    doc = {"groups": [{"name": group, "interval": f"{interval_s:g}s", "rules": [rule_dict(r) for r in rules]}]}
    path.write_text(dump_yaml(doc), encoding="utf-8")
    return path


def promtool(url: str, rules: Path, start: float, end: float, out: Path) -> None:
    binary = shutil.which("promtool")
    if binary is None:
        raise BackfillError("promtool is not installed (it ships with Prometheus; Debian package prometheus)")
    argv = [binary, "tsdb", "create-blocks-from", "rules", "--quiet", f"--url={url}",
            f"--start={start:.3f}", f"--end={end:.3f}", f"--output-dir={out}", str(rules)]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackfillError(f"promtool create-blocks-from rules failed:\n{(done.stderr or done.stdout).strip()}")


def blocks(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_dir() and ULID.match(p.name))


def wait_loaded(prom: Prometheus, rules: tuple[RecordingRule, ...], start: float, end: float,
                sleep: Callable[[float], None] = time.sleep) -> None:
    """Until Prometheus answers from the moved blocks (it rescans its data directory every minute)."""
    span = max(1, int(end - start))
    probe = " or ".join(f"count_over_time({selector(r)}[{span}s])" for r in rules)
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while not prom.query(probe, end - 0.001):
        if time.monotonic() > deadline:
            raise BackfillError(f"Prometheus did not load the backfilled blocks within {LOAD_TIMEOUT_S:.0f}s: check "
                                "that --data-dir is its --storage.tsdb.path")
        sleep(2.0)


@dataclass(frozen=True)
class Batch:
    group: str
    level: int
    rules: tuple[RecordingRule, ...]
    start: float
    end: float
    interval_s: float
    blocks: int = 0


def run_batch(prom: Prometheus, batch: Batch, work: Path, data_dir: Path | None, output_dir: Path | None) -> Batch:
    """promtool for one batch; its blocks go into `data_dir` (then waited for) or stay in `output_dir`."""
    with tempfile.TemporaryDirectory(prefix="slokit-backfill-", dir=data_dir or output_dir) as tmp:
        out = Path(tmp) / "blocks"
        out.mkdir()
        rules = rules_file(batch.group, batch.interval_s, batch.rules, work / "rules.yaml")
        promtool(prom.url, rules, batch.start, batch.end, out)
        written = blocks(out)
        target = data_dir or output_dir
        assert target is not None
        for block in written:
            # Same filesystem (the temporary directory is inside the target): an atomic rename, so Prometheus
            # never sees half a block. Its name is not a block's, so Prometheus ignores it meanwhile.
            os.rename(block, target / block.name)
    if written and data_dir is not None:
        wait_loaded(prom, batch.rules, batch.start, batch.end)
    return Batch(batch.group, batch.level, batch.rules, batch.start, batch.end, batch.interval_s, len(written))

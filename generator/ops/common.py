"""What the commands reading Prometheus share: arguments, the plan, the index of recorded series."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click

from slokit import naming as N
from slokit.ops.prom import Labels, Prometheus, PrometheusError, Sample

prometheus_option = click.option(
    "--prometheus", "prometheus_url", envvar="SLOKIT_PROMETHEUS_URL", required=True, metavar="URL",
    help="Base URL of the Prometheus HTTP API, e.g. http://127.0.0.1:9090 (or SLOKIT_PROMETHEUS_URL).")


def split_arguments(args: tuple[str, ...]) -> tuple[tuple[Path, ...], str | None]:
    """`[PATH...] [SERVICE[/SLO]]`: arguments naming existing files or directories are paths, one other is the target."""
    paths = tuple(Path(a) for a in args if Path(a).exists())
    others = [a for a in args if not Path(a).exists()]
    if len(others) > 1:
        raise click.UsageError(f"expected at most one SERVICE[/SLO] besides the paths, got {', '.join(others)} "
                               "(a path that does not exist is read as a target)")
    return paths, (others[0] if others else None)


def load_plan(paths: tuple[Path, ...], catalog: Path | None):
    from slokit.cli import load
    from slokit.plan import build_plan

    return build_plan(load(paths, catalog))


def fail(message: str, hint: str | None = None) -> None:
    """A user-facing failure (Prometheus unreachable, bad selector): message, hint, exit 1."""
    click.echo(f"slokit: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(1)


def prometheus_failure(exc: PrometheusError) -> None:
    fail(str(exc), "check --prometheus (the base URL, e.g. http://127.0.0.1:9090) and that the generated rules "
                   "are loaded there")


def owner_key(labels: Labels) -> tuple[str, str]:
    """(service, slo or budget) of a recorded series."""
    d = dict(labels)
    return d.get(N.LABEL_SERVICE, ""), d.get(N.LABEL_SLO) or d.get(N.LABEL_BUDGET, "")


def group_of(labels: Labels, group_by: tuple[str, ...]) -> Labels:
    d = dict(labels)
    return tuple((g, d.get(g, "")) for g in group_by)


@dataclass
class RecordedIndex:
    """Recorded series by (record, service, slo-or-budget, group labels), fetched once per record name."""

    prom: Prometheus
    at: float | None = None

    def __post_init__(self) -> None:
        self._cache: dict[str, list[Sample]] = {}

    def samples(self, record: str) -> list[Sample]:
        if record not in self._cache:
            self._cache[record] = self.prom.query(record, self.at)
        return self._cache[record]

    def of(self, record: str, service: str, name: str) -> list[Sample]:
        return [s for s in self.samples(record) if owner_key(s.labels) == (service, name)]

    def by_group(self, record: str, service: str, name: str, group_by: tuple[str, ...]) -> dict[Labels, float]:
        return {group_of(s.labels, group_by): s.value for s in self.of(record, service, name)}


def duration(text: str, param: str) -> int:
    """Seconds of a Prometheus duration given on the command line (30m, 7d, 1h30m); a usage error otherwise."""
    import re

    from slokit.model import duration_seconds

    if not re.fullmatch(r"([0-9]+[wdhms])+", text) or duration_seconds(text) <= 0:
        raise click.BadParameter(f"{text!r} is not a duration such as 30m, 7d or 1h30m", param_hint=param)
    return duration_seconds(text)

"""`slokit backfill [PATH]... [SERVICE[/SLO]] --prometheus URL --data-dir DIR`: the command line."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click

from slokit.ops.common import fail, load_plan, prometheus_failure, split_arguments
from slokit.ops.prom import Prometheus, PrometheusError
from slokit.windows import format_duration


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@click.command("backfill")
@click.argument("args", nargs=-1, metavar="[PATH]... [SERVICE[/SLO]]")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Metric catalog file. Default: catalog.yaml beside the SLO files.")
@click.option("--prometheus", "prometheus_url", envvar="SLOKIT_PROMETHEUS_URL", default=None, metavar="URL",
              help="Base URL of the Prometheus HTTP API that evaluates the rules and holds the raw counters "
                   "(or SLOKIT_PROMETHEUS_URL).")
@click.option("--data-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The TSDB directory of that Prometheus (its --storage.tsdb.path), on this machine: blocks are "
                   "moved in and read back, so records that read other records are backfilled too.")
@click.option("--output-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Write the blocks here instead, to copy into the data directory yourself (records that read "
                   "other backfilled records are then left out).")
@click.option("--dry-run", is_flag=True, help="Print what would be backfilled and exit (needs no Prometheus).")
def backfill_command(args: tuple[str, ...], catalog: Path | None, prometheus_url: str | None, data_dir: Path | None,
                     output_dir: Path | None, dry_run: bool) -> None:
    """Write the recorded history of a fresh deployment from the raw counters.

    Run it once right after the generated rules are first loaded. The windows
    above 2h and the SLO-window budget average the recorded 5m rates; until
    the record is as old as the window they describe only the time since the
    deployment (a blip then tickets, the budget reads low). This computes the
    records they read, for the span before recording began, with `promtool
    tsdb create-blocks-from rules` against the same Prometheus, at each
    group's evaluation interval. Needs promtool and Prometheus 2.39 or later
    (blocks that overlap are merged). Exit 1 on any failure.

    \b
    Examples:
      slokit backfill slos/ --prometheus http://127.0.0.1:9090 --data-dir /var/lib/prometheus/metrics2
      slokit backfill slos/ support-chatbot/api-success --prometheus http://127.0.0.1:9090 --output-dir blocks/
      slokit backfill slos/ --prometheus http://127.0.0.1:9090 --dry-run
    """
    from slokit.backfill.run import Batch, BackfillError, group_intervals, head_start, recording_of, run_batch
    from slokit.backfill.select import plan_backfill
    from slokit.explain import UnknownTarget

    paths, target = split_arguments(args)
    plan = load_plan(paths, catalog)
    try:
        groups = plan_backfill(plan, target)
    except UnknownTarget as exc:
        raise click.BadParameter(str(exc), param_hint="SERVICE[/SLO]") from None
    if dry_run:
        for group in groups:
            for level, span, rules in group.batches():
                names = ", ".join(r.record for r in rules)
                click.echo(f"{group.group}: {names} over the {format_duration(span)} before recording began"
                           f" (pass {level})")
        return
    if prometheus_url is None:
        raise click.UsageError("--prometheus URL is required (the server that evaluates the rules)")
    if (data_dir is None) == (output_dir is None):
        raise click.UsageError("give --data-dir (Prometheus' TSDB directory) or --output-dir, one of them")
    prom = Prometheus(prometheus_url)
    now = time.time()
    total = 0
    try:
        intervals = group_intervals(prom)
        head = head_start(prom)
        with tempfile.TemporaryDirectory(prefix="slokit-backfill-") as work:
            for group in groups:
                recording = recording_of(prom, group, intervals, now, head)
                for level, span, rules in group.batches():
                    if level > 1 and data_dir is None:
                        click.echo(f"{group.group}: left out {', '.join(r.record for r in rules)} (it reads other "
                                   "backfilled records: run with --data-dir)", err=True)
                        continue
                    for hole in recording.holes:
                        # The record's beginning: as far back as the rules read; a gap: all of it.
                        start = hole.end - span if hole.start is None else hole.start
                        batch = Batch(group.group, level, rules, start, hole.end, recording.interval_s)
                        done = run_batch(prom, batch, Path(work), data_dir, output_dir)
                        total += done.blocks
                        click.echo(f"{group.group}: {', '.join(r.record for r in rules)} from {_when(start)} to "
                                   f"{_when(hole.end)} every {recording.interval_s:g}s: {done.blocks} block(s)")
    except PrometheusError as exc:
        prometheus_failure(exc)
    except BackfillError as exc:
        fail(str(exc))
    if groups and head > 0 and head < now:
        click.echo(f"Samples after {_when(head)} are still in Prometheus' head block and were left out; run the "
                   "backfill again once Prometheus has persisted them (within 3 hours) to fill that gap.")
    where = f"moved into {data_dir}" if data_dir else f"in {output_dir}: move them into Prometheus' data directory"
    click.echo(f"{total} block(s) {where}")

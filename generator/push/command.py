"""The `slokit push grafana` and `slokit push rules` commands (registered by cli.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from slokit.push.changes import Change, PushError, summary

EXIT_FAILED = 1

specs_option = click.option("--specs", "paths", type=click.Path(exists=True, dir_okay=True, path_type=Path),
                            multiple=True, help="SLO spec files or directories (repeatable). Default: slos/.")
catalog_option = click.option("--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                              default=None, help="Metric catalog file. Default: catalog.yaml beside the SLO files.")
dry_run_option = click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")


def _plan(paths: tuple[Path, ...], catalog: Path | None):
    from slokit.cli import load
    from slokit.plan import build_plan

    return build_plan(load(paths, catalog))


def _token(env: str | None, required: bool) -> str:
    if not env:
        return ""
    value = os.environ.get(env, "")
    if not value and required:
        raise click.UsageError(f"--token-env {env}: the environment variable {env} is not set or empty; "
                               "export the API token in it (never pass tokens on the command line)")
    return value


def _report(changes: list[Change], dry_run: bool) -> None:
    for change in changes:
        click.echo(change.line(dry_run))
    click.echo(summary(changes, dry_run))


def _fail(exc: PushError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(EXIT_FAILED)


@click.group()
def push() -> None:
    """Upload the generated dashboards to Grafana, or rule groups to a Mimir/Cortex ruler.

    \b
    Examples:
      slokit push grafana --url http://127.0.0.1:3000 --token-env GRAFANA_TOKEN --dry-run
      slokit push rules --ruler-url http://mimir:8080/prometheus --tenant team-a
    """


@push.command("grafana")
@click.option("--url", required=True, help="Grafana's base URL, e.g. http://127.0.0.1:3000.")
@click.option("--token-env", required=True, metavar="VAR",
              help="Environment variable holding a Grafana service account token.")
@click.option("--prune", is_flag=True, help="Also delete slokit's dashboards (slokit tag and UID) no longer generated.")
@dry_run_option
@specs_option
@catalog_option
def push_grafana(url: str, token_env: str, prune: bool, dry_run: bool, paths: tuple[Path, ...],
                 catalog: Path | None) -> None:
    """Upload the dashboards: a folder per service, overwriting only dashboards slokit owns.

    \b
    Examples:
      GRAFANA_TOKEN=... slokit push grafana --url http://127.0.0.1:3000 --token-env GRAFANA_TOKEN --dry-run
    """
    from slokit.push import grafana

    token = _token(token_env, required=True)
    plan = _plan(paths, catalog)
    try:
        _report(grafana.push(plan, url, token, token_env, dry_run, prune), dry_run)
    except PushError as exc:
        _fail(exc)


@push.command("rules")
@click.option("--ruler-url", default=None, help="Mimir/Cortex ruler API base incl. its Prometheus prefix, "
                                                 "e.g. http://mimir:8080/prometheus.")
@click.option("--tenant", default="", help="Tenant (X-Scope-OrgID) for a multi-tenant ruler.")
@click.option("--token-env", default=None, metavar="VAR", help="Environment variable holding a bearer token.")
@click.option("--prometheus-reload", "reload_url", default=None, metavar="URL",
              help="POST URL/-/reload (Prometheus started with --web.enable-lifecycle).")
@dry_run_option
@specs_option
@catalog_option
def push_rules(ruler_url: str | None, tenant: str, token_env: str | None, reload_url: str | None, dry_run: bool,
               paths: tuple[Path, ...], catalog: Path | None) -> None:
    """Load rule groups into a ruler (a namespace per service), or make Prometheus reload its rule files.

    \b
    Examples:
      slokit push rules --ruler-url http://mimir:8080/prometheus --tenant team-a --dry-run
      slokit generate && slokit push rules --prometheus-reload http://127.0.0.1:9090
    """
    from slokit.push import rules

    if not ruler_url and not reload_url:
        raise click.UsageError("give --ruler-url URL (Mimir/Cortex) or --prometheus-reload URL, or both")
    try:
        if ruler_url:
            plan = _plan(paths, catalog)
            _report(rules.push_ruler(plan, ruler_url, tenant, _token(token_env, required=True), dry_run), dry_run)
        if reload_url:
            click.echo(rules.reload_prometheus(reload_url, dry_run))
    except PushError as exc:
        _fail(exc)

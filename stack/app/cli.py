"""`slokit-demo-app`: start the demo LLM app with uvicorn."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from slokit.errors import SlokitError

from slokit_app.config import Settings
from slokit_app.faults import ScenarioError


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default=None, help="Bind address (default 127.0.0.1, or SLOKIT_APP_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8000, or SLOKIT_APP_PORT).")
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Metric catalog (default slos/catalog.yaml, or SLOKIT_APP_CATALOG).")
@click.option("--scenario-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="YAML listing fault scenarios active from the start.")
@click.option("--time-scale", type=float, default=None,
              help="Sleep simulated latencies scaled by this (0 = never sleep, the default; 1 = real time).")
def main(host, port, catalog, scenario_file, time_scale) -> None:
    """Run the demo LLM app (simulated provider unless SLOKIT_APP_PROVIDER=openai)."""
    import uvicorn

    from slokit_app.app import create_app

    settings = Settings.from_env()
    overrides = {k: v for k, v in {"host": host, "port": port, "catalog_path": catalog,
                                   "scenario_file": scenario_file, "time_scale": time_scale}.items() if v is not None}
    settings = replace(settings, **overrides)
    try:
        app = create_app(settings)
    except SlokitError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    except ScenarioError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)

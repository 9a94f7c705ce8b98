"""`slokit init`: scaffold a new SLO repository that passes its own CI from the first commit.

It writes slokit.yaml, a catalog from a preset, one commented SLO file for a
new service, a CI workflow and a pre-commit config running validate /
generate --check / test, a README section, and the generated outputs. It
never overwrites a file (existing ones are listed and kept) and never asks
anything when not on a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PRESETS = ("llm", "http")
DEFAULT_PRESET = "llm"

# The SLO a new service starts with, per preset: a ratio SLI on the preset's request counter.
_FIRST_SLO = {
    "llm": """\
  # Model calls that complete without a provider or transport error.
  - name: api-success
    description: Model calls that complete without a provider or transport error.
    # Percent of events that must be good over the window (99.5 = 0.5% may fail).
    objective: 99.5
    window: 30d
    sli:
      ratio:
        bad:
          metric: llm_requests_total
          match: {{status: [client_error, rate_limited, server_error, timeout]}}
        total:
          metric: llm_requests_total
    # The default alerts (SRE workbook tiers) page on fast burns and ticket on slow ones.
    # alerting:
    #   min_events_per_hour: 60     # stay silent at very low traffic
    #   page: {{labels: {{channel: oncall}}}}
""",
    "http": """\
  # Requests answered without a server error.
  - name: availability
    description: Requests answered without a server error.
    # Percent of events that must be good over the window (99.9 = 0.1% may fail).
    objective: 99.9
    window: 30d
    sli:
      ratio:
        bad:
          metric: http_requests_total
          match: {{code_class: 5xx}}
        total:
          metric: http_requests_total

  # Requests served within half a second (0.5 must be one of the histogram's buckets).
  - name: latency
    description: Requests served within 500ms.
    objective: 99
    sli:
      threshold:
        metric: http_request_duration_seconds
        le: 0.5
""",
}

_SERVICE = """\
# One file per service. `slokit validate` checks it against catalog.yaml,
# `slokit generate` turns it into rules, dashboards and runbooks, and
# `slokit explain {service}` shows what its alerts promise.
version: 1
service: {service}
description: {description}
{owner_line}
slos:
{slos}"""

_CONFIG = """\
# slokit project file: found by every slokit command run in this directory or below it.
# Reference: docs/config.md of slokit; JSON Schema: `slokit schema --kind config`.
version: 1
preset: {preset}
specs: [slos]
output: .
# Rule formats `slokit generate` writes and keeps (prometheus is always written).
formats: [prometheus]
# Where alert links point: docs/runbooks/ as published, and Grafana.
# links:
#   runbook_base_url: https://github.com/acme/slos/blob/main/docs/runbooks
#   grafana_url: https://grafana.example.com
# Conventions of your Alertmanager routes: the burn-rate alerts' name, severity words, labels.
# naming:
#   alert_name: SLOErrorBudgetBurn
#   severity_values: {{page: critical, ticket: warning}}
#   labels: {{env: prod}}
"""

_WORKFLOW = """\
# SLO checks: the specs validate, the committed outputs are what the specs generate,
# and the generated promtool rule tests pass. (slokit's own repository also ships a
# composite action, action.yml, that runs the same steps and comments `slokit diff`.)
name: slokit
on:
  pull_request:
  push:
    branches: [main]
env:
  # Pin the slokit you use, e.g. slokit==0.1.0 or git+https://github.com/<owner>/slokit@<rev>.
  SLOKIT_PACKAGE: slokit
jobs:
  slos:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install slokit and promtool
        run: |
          python -m pip install --quiet "$SLOKIT_PACKAGE"
          sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends prometheus
      - name: Validate
        run: slokit validate
      - name: Generated files are up to date
        run: slokit generate --check
      - name: Rule tests
        run: slokit test
"""

_PRECOMMIT = """\
# pre-commit (https://pre-commit.com): the same checks before every commit.
# slokit's repository also publishes these hooks (.pre-commit-hooks.yaml:
# slokit-validate, slokit-generate-check) for use with `repo: <its URL>`.
repos:
  - repo: local
    hooks:
      - id: slokit-validate
        name: slokit validate
        entry: slokit validate
        language: system
        files: ^(slokit\\.yaml|slos/.*\\.ya?ml)$
        pass_filenames: false
      - id: slokit-generate-check
        name: slokit generate --check
        entry: slokit generate --check
        language: system
        pass_filenames: false
"""

_README = """\
## SLOs

The service level objectives of this repository are code, checked and compiled by
slokit:

- `slos/catalog.yaml`: every metric and label the application exports;
- `slos/<service>.yaml`: one file per service with its SLOs (start from `slos/{service}.yaml`);
- `slokit.yaml`: where the specs and outputs live, rule formats, alert links, naming.

```sh
slokit validate            # check the specs against the catalog
slokit generate            # write alerts/, dashboards/, stack/grafana/, docs/runbooks/
slokit test                # run the generated promtool rule tests
slokit explain {service}   # what each alert promises: burn rates, detection times
```

Commit the generated files: CI (`.github/workflows/slokit.yml`) fails when they are stale.
"""


@dataclass(frozen=True)
class Planned:
    path: str  # relative to the target directory
    text: str


def preset_catalog(preset: str) -> str:
    return resources.files("slokit").joinpath("data", f"{preset}.catalog.yaml").read_text(encoding="utf-8")


def scaffold(preset: str, service: str, owner: str | None) -> list[Planned]:
    """Every file `init` writes, as text (nothing touches the disk here)."""
    owner_line = f"owner: {owner}" if owner else \
        "# owner: my-team     # the owning team; becomes the `team` label alerts are routed on"
    spec = _SERVICE.format(service=service, description=f"The {service} service.", owner_line=owner_line,
                           slos=_FIRST_SLO[preset].format())
    return [
        Planned("slokit.yaml", _CONFIG.format(preset=preset)),
        Planned("slos/catalog.yaml", preset_catalog(preset)),
        Planned(f"slos/{service}.yaml", spec),
        Planned(".github/workflows/slokit.yml", _WORKFLOW),
        Planned(".pre-commit-config.yaml", _PRECOMMIT),
        Planned("README.md", "# SLOs\n\n" + _README.format(service=service)),
    ]


@dataclass(frozen=True)
class InitResult:
    written: list[Path]
    kept: list[Path]


def write_scaffold(target: Path, planned: list[Planned]) -> InitResult:
    """Write each planned file that does not exist yet; never overwrite, never follow a symlink."""
    written, kept = [], []
    for item in planned:
        path = target / item.path
        if path.exists() or path.is_symlink():
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(item.text)
        written.append(path)
    return InitResult(written, kept)


# -- the command ------------------------------------------------------------

import sys  # noqa: E402

import click  # noqa: E402


def _ask(interactive: bool, text: str, default: str | None) -> str | None:
    """A prompt on a terminal; the default (asking nothing) anywhere else, e.g. in CI."""
    if not interactive:
        return default
    return click.prompt(text, default=default or "", show_default=bool(default)) or None


@click.command("init")
@click.argument("directory", required=False, default=Path("."), type=click.Path(file_okay=False, path_type=Path))
@click.option("--preset", type=click.Choice(PRESETS), default=None,
              help=f"Catalog and first SLOs to start from (default {DEFAULT_PRESET}): llm (an LLM application's "
              "metrics, as slokit's example) or http (a request counter and a latency histogram).")
@click.option("--service", default=None, help="Name of the first service (default: the directory's name).")
@click.option("--owner", default=None, help="Owning team of the service (the `team` label of its alerts).")
def init_command(directory: Path, preset: str | None, service: str | None, owner: str | None) -> None:
    """Start an SLO repository: slokit.yaml, a catalog, a first SLO file, CI and pre-commit, a README section.

    Existing files are never overwritten (they are listed as kept). On a
    terminal it asks for what is not given; elsewhere (CI, scripts) it asks
    nothing and uses the defaults. The outputs are generated at once, so the
    new repository passes its own CI workflow (validate, generate --check,
    test) from the first commit.

    \b
    Examples:
      slokit init
      slokit init slo-repo --preset http --service checkout --owner payments
    """
    from slokit.importers.common import is_slug, slug

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    preset = preset or _ask(interactive, f"Preset ({', '.join(PRESETS)})", DEFAULT_PRESET) or DEFAULT_PRESET
    if preset not in PRESETS:
        raise click.BadParameter(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}",
                                 param_hint="--preset")
    name = service or _ask(interactive, "Service name", slug(directory.resolve().name)) or "my-service"
    if not is_slug(name):
        raise click.BadParameter(f"{name!r} is not a slug: use lowercase letters, digits, - and _",
                                 param_hint="--service")
    owner = owner or _ask(interactive, "Owning team (empty: none yet)", None)
    if owner is not None and not is_slug(owner):
        raise click.BadParameter(f"{owner!r} is not a slug", param_hint="--owner")
    result = write_scaffold(directory, scaffold(preset, name, owner))
    for path in result.written:
        click.echo(f"wrote {path}")
    for path in result.kept:
        click.echo(f"kept {path} (exists; slokit init never overwrites)")
    _generate(directory)


def _generate(directory: Path) -> None:
    """Write the outputs the new specs generate, so `generate --check` passes from the start."""
    from slokit.config import CONFIG_FILE, load_config
    from slokit.errors import SlokitError
    from slokit.pipeline import build_outputs
    from slokit.pipeline import load_and_check
    from slokit.transaction import TransactionError
    from slokit.write import write_outputs

    try:
        settings = load_config(directory / CONFIG_FILE)
        project = load_and_check(list(settings.specs), settings.catalog, settings)
    except SlokitError as exc:
        for diag in exc.diagnostics:
            click.echo(diag.format(), err=True)
        click.echo("the repository does not validate yet (see above; a kept file may not fit the new ones); "
                   "fix it, then run `slokit generate`", err=True)
        sys.exit(1)
    outputs = build_outputs(project, settings.formats)
    try:
        result = write_outputs(settings.output, outputs, project.inputs)
    except (SlokitError, OSError, TransactionError) as exc:
        click.echo(f"slokit: nothing generated: {exc}", err=True)
        sys.exit(1)
    for warning in result.warnings:
        click.echo(f"slokit: warning: {warning}", err=True)
    click.echo(f"generated {len(outputs)} files ({len(result.changes)} changed) under {settings.output}")
    click.echo("next: edit slos/, run `slokit generate`, commit everything")

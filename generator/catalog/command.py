"""`slokit catalog ...`: discover entries from live metrics, print presets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from slokit.catalog.discover import DEFAULT_MAX_VALUES, DiscoverError, from_exposition, http_get, from_prometheus, render_snippet


@click.group(name="catalog")
def catalog_group() -> None:
    """Build a metric catalog from what exists: discovered metrics and bundled presets.

    \b
    Examples:
      slokit catalog discover --prometheus http://127.0.0.1:9090 --match '{job="llm-app"}'
      slokit catalog preset otel-genai
    """


@catalog_group.command(name="discover")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prometheus", "prometheus", metavar="URL", default=None,
              help="A running Prometheus: read /api/v1/metadata, /api/v1/series and label values.")
@click.option("--scrape", metavar="URL", default=None, help="Fetch a /metrics page (Prometheus text or OpenMetrics).")
@click.option("--match", "matches", multiple=True, metavar="SELECTOR",
              help="With --prometheus: only series matching this selector, e.g. '{job=\"app\"}' (repeatable).")
@click.option("--max-values", type=click.IntRange(1, 10000), default=DEFAULT_MAX_VALUES, show_default=True,
              help="A label with more observed values than this gets max_cardinality instead of values.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the snippet to this new file (never overwritten) instead of stdout.")
def discover_command(file: Path | None, prometheus: str | None, scrape: str | None, matches: tuple[str, ...],
                     max_values: int, out: Path | None) -> None:
    """Print catalog entries (YAML) for the metrics a source really has.

    Exactly one source: FILE (an exposition in Prometheus text or OpenMetrics
    format), --scrape URL, or --prometheus URL. Labels get their observed
    values, or max_cardinality when there are more than --max-values; labels
    that look like user, trace or session ids, emails or prompts are left out
    and flagged FORBIDDEN in a comment. Review the snippet and copy what you
    want into your catalog; slokit never merges it for you.

    \b
    Examples:
      slokit catalog discover --prometheus http://127.0.0.1:9090 --match '{job="llm-app"}'
      slokit catalog discover --scrape http://127.0.0.1:8000/metrics
      slokit catalog discover metrics.txt --out discovered.yaml
    """
    sources = [s for s in (file, prometheus, scrape) if s is not None]
    if len(sources) != 1:
        raise click.UsageError("give exactly one source: FILE, --scrape URL or --prometheus URL")
    if matches and prometheus is None:
        raise click.UsageError("--match only applies to --prometheus")
    if out is not None and (out.exists() or out.is_symlink()):
        raise click.UsageError(f"{out} exists; slokit never overwrites or merges a file: choose a new --out")
    try:
        if prometheus is not None:
            observed = from_prometheus(prometheus, list(matches))
        elif scrape is not None:
            observed = from_exposition(_fetch(scrape), scrape)
        else:
            observed = from_exposition(_read(file), str(file))
    except DiscoverError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    snippet = render_snippet(observed, max_values)
    if out is None:
        click.echo(snippet, nl=False)
        return
    try:
        # O_EXCL: a file that appeared since the check above is not overwritten either.
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        click.echo(f"error: cannot create {out}: {exc.strerror}", err=True)
        sys.exit(1)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(snippet)
    click.echo(f"wrote {out} ({len(observed.families)} metrics)", err=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DiscoverError(f"{path}: cannot read: {exc}") from None


def _fetch(url: str) -> str:
    return http_get(url, accept="application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")


@catalog_group.command(name="preset")
@click.argument("name", required=False)
def preset_command(name: str | None) -> None:
    """Print a bundled catalog preset (YAML), or list the presets without NAME.

    A catalog uses a preset with `include: [NAME]`; entries written in the
    catalog itself replace the preset's entries of the same name.

    \b
    Examples:
      slokit catalog preset                # list the presets
      slokit catalog preset otel-genai     # print one
    """
    from slokit.presets import preset_names, preset_text

    names = preset_names()
    if name is None:
        for known in names:
            click.echo(known)
        return
    if name not in names:
        raise click.BadParameter(f"unknown preset {name!r}; bundled presets: {', '.join(names)}", param_hint="NAME")
    click.echo(preset_text(name), nl=False)

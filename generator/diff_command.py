"""`slokit diff [PATH] [--base REF] [--format md|json]`: the command line of diff.py."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from slokit.cli import EXIT_INVALID, catalog_option, emit, max_errors_option, report
from slokit.errors import SlokitError


@click.command("diff")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=True, path_type=Path))
@catalog_option
@click.option("--base", default=None, help="git ref to compare with. Default: the merge base with the default "
              "branch (origin/HEAD, origin/main, main, ...), else HEAD.")
@click.option("--format", "diff_format", type=click.Choice(["md", "json", "text", "github", "sarif"]),
              default="md", show_default=True,
              help="md (a pull-request comment) or json; text, github or sarif report spec problems only.")
@click.option("--prometheus", metavar="URL", default=None,
              help="Also give each SLO's budget in failed events at its current traffic (rate over 1h), read from "
              "this Prometheus.")
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Directory with a diff.md.j2 overriding the shipped template (default: templates/ beside "
                   "slokit.yaml, else beside the SLO files, when it exists).")
@max_errors_option
def diff_command(path: Path | None, catalog: Path | None, base: str | None, diff_format: str,
                 prometheus: str | None, templates: Path | None, max_errors: int) -> None:
    """What a change to the specs does, compared with a git ref.

    Services and SLOs added, removed and changed (objective, window, SLI,
    group_by, tiers, routes) with their error budget before and after,
    detection times per tier, alerts added or removed, budgets changed and
    generated files changed with line counts.

    \b
    Examples:
      slokit diff                              # slos/ against the merge base with main
      slokit diff slos/ --base origin/main --format json
    """
    from slokit.diff import DiffError, diff_project
    from slokit.diff_render import as_json, markdown
    from slokit.templating import template_dir

    target = path or Path("slos")
    if not target.exists():
        raise click.UsageError("no PATH given and there is no slos/ directory here")
    report_format = diff_format if diff_format in ("text", "github", "sarif") else "text"
    try:
        result = diff_project(target, base, catalog, prometheus=prometheus)
    except DiffError as exc:
        click.echo(f"slokit diff: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    except SlokitError as exc:
        report(exc, report_format, max_errors)
    templates = template_dir(templates, (target,))
    try:
        text = as_json(result) if diff_format == "json" else markdown(result, templates)
    except Exception as exc:  # a repository's own template: report it, not a traceback
        import jinja2

        if not isinstance(exc, jinja2.TemplateError):
            raise
        line = getattr(exc, "lineno", None) or 1
        click.echo(f"{getattr(exc, 'filename', None) or 'diff.md.j2'}:{line}:1: diff template: {exc}\n"
                   "  hint: fix the template in templates/ (or --templates) or remove it to use the shipped one",
                   err=True)
        sys.exit(EXIT_INVALID)
    if diff_format in ("text", "github", "sarif"):
        emit((), report_format, max_errors)
        click.echo(text, nl=False, err=report_format != "text")
        return
    click.echo(text, nl=False)

"""The `slokit` command line.

Exit status: 0 success, 1 invalid input (or stale outputs, failing tests),
2 usage error (click's own convention).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from slokit import __version__
from slokit.errors import SlokitError

EXIT_INVALID = 1

paths_argument = click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, path_type=Path)
)
catalog_option = click.option(
    "--catalog",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Metric catalog file. Default: catalog.yaml beside the SLO files.",
)


def report(exc: SlokitError) -> None:
    """Print every diagnostic, sorted by file and line, then exit 1."""
    for diag in exc.diagnostics:
        click.echo(diag.format(), err=True)
    n = len(exc.diagnostics)
    click.echo(f"{n} error{'s' if n != 1 else ''}", err=True)
    sys.exit(EXIT_INVALID)


def inputs(paths: tuple[Path, ...], catalog: Path | None):
    """PATHs and --catalog as given, else from slokit.yaml, else slos/ (errors in slokit.yaml exit 1)."""
    from slokit.config import resolve_inputs

    try:
        found = resolve_inputs(paths, catalog)
    except SlokitError as exc:
        report(exc)
    if not found.paths:
        command = click.get_current_context().info_name
        raise click.UsageError(f"no PATH given, no slokit.yaml and no slos/ directory here; pass the SLO files or "
                               f"their directory, e.g. `slokit {command} specs/`, or run `slokit init`")
    return found


def load(paths: tuple[Path, ...], catalog: Path | None):
    from slokit.project import load_project

    found = inputs(paths, catalog)
    try:
        return load_project(list(found.paths), found.catalog, found.settings)
    except SlokitError as exc:
        report(exc)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="slokit")
def main() -> None:
    """SLOs as code for LLM applications.

    Write SLOs and a metric catalog in YAML (slos/), then validate them and
    compile them into Prometheus rules, promtool tests, Grafana dashboards and
    runbooks.

    \b
    Examples:
      slokit validate                 # check slos/*.yaml against slos/catalog.yaml
      slokit generate                 # write alerts/, dashboards/, stack/grafana/
      slokit generate --check         # CI: fail if committed outputs are stale
      slokit test                     # run promtool unit tests on the rules

    Exit status: 0 success, 1 invalid input (or stale outputs, failing
    tests), 2 usage error. Errors are printed as file:line:column: message.
    """


@main.command()
@paths_argument
@catalog_option
def validate(paths: tuple[Path, ...], catalog: Path | None) -> None:
    """Check SLO spec files and the metric catalog; print every problem found.

    PATHS are directories (every *.yaml / *.yml in them) or single spec files;
    the default is slos/.

    \b
    Examples:
      slokit validate
      slokit validate slos/support-chatbot.yaml
      slokit validate specs/ --catalog metrics/catalog.yaml
    """
    project = load(paths, catalog)
    n_slos = sum(len(s.spec.slos) for s in project.services)
    n_budgets = sum(len(s.spec.budgets) for s in project.services)
    click.echo(
        f"ok: {len(project.services)} services, {n_slos} SLOs, {n_budgets} budgets, "
        f"{len(project.catalog.metrics)} catalog metrics"
    )


@main.command()
@click.option(
    "--kind",
    type=click.Choice(["all", "slo", "catalog", "config"]),
    default="all",
    show_default=True,
    help="Which schema to print.",
)
@click.option(
    "--write",
    "write_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write slo.schema.json, catalog.schema.json and config.schema.json into this directory instead of "
    "printing.",
)
def schema(kind: str, write_dir: Path | None) -> None:
    """Print the JSON Schema of SLO spec files and of the metric catalog.

    Editors use it to complete and check files; add this first line to a file:
    `# yaml-language-server: $schema=../docs/schema/slo.schema.json`

    \b
    Examples:
      slokit schema --kind slo > slo.schema.json
      slokit schema --write docs/schema      # refresh the published schemas
      slokit schema
    """
    from slokit.schema import json_schemas, schema_text, write_schemas

    if write_dir is not None:
        for path in write_schemas(write_dir):
            click.echo(f"wrote {path}")
        return
    schemas = json_schemas()
    doc = schemas if kind == "all" else schemas[kind]
    click.echo(schema_text(doc), nl=False)


@main.command()
@paths_argument
@catalog_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output root: alerts/, dashboards/, stack/grafana/ and docs/runbooks/ are written under it. Default: "
    "slokit.yaml's `output`, else the working directory.",
)
@click.option("--check", is_flag=True,
              help="Write no output (only slokit's cache); exit 1 with a diff if the outputs are stale.")
@click.option("--no-cache", is_flag=True,
              help="Neither read nor write the cache of rendered rule tests in OUT/.slokit/cache/.")
@click.option(
    "--format",
    "formats",
    type=click.Choice(["prometheus", "operator", "mimir", "sloth"]),
    multiple=True,
    help="Rule file formats (repeatable). prometheus: alerts/<service>.rules.yaml, always written (promtool and "
    "the rule tests read it); operator: also alerts/<service>.prometheusrule.yaml (PrometheusRule objects); "
    "mimir: also alerts/<service>.mimir.yaml (one ruler namespace per service); sloth: also "
    "alerts/<service>.sloth.rules.yaml (Sloth's recording-rule names and labels, for Sloth dashboards). "
    "slokit.yaml's `formats` are "
    "always added, so a plain `generate` (or --check) keeps them.",
)
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Directory with runbook*.md.j2 templates overriding the shipped ones (default: templates/ "
                   "beside slokit.yaml, else beside the SLO files, when it exists).")
def generate(paths: tuple[Path, ...], catalog: Path | None, out_dir: Path | None, check: bool, no_cache: bool,
             formats: tuple[str, ...], templates: Path | None) -> None:
    """Compile SLO specs into rules, rule tests, dashboards, provisioning and runbooks.

    Everything is rendered in memory first: on any error nothing is written.
    The write is one transaction (staged in .slokit/, rolled back on any
    failure, recovered by the next run after a crash). A file slokit
    generated before and no longer produces is removed only while it still
    holds what slokit wrote; anything else is left alone. A service's rule
    tests are cached by a digest of its plan, the catalog and slokit's
    version and code in OUT/.slokit/cache/ (safe to delete).

    \b
    Examples:
      slokit generate                       # slos/ -> alerts/, dashboards/, ...
      slokit generate --check               # CI: fail when committed outputs are stale
      slokit generate specs/ --out build/   # another spec directory and output root
      slokit generate --format operator     # also PrometheusRule objects for the Prometheus Operator
    """
    from slokit.cache import Cache
    from slokit.pipeline import build_outputs

    project = load(paths, catalog)
    found = inputs(paths, catalog)
    out_dir = out_dir if out_dir is not None else found.output
    cache = None if no_cache else Cache.open(out_dir)
    try:
        outputs = build_outputs(project, found.formats(tuple(formats)), runbook_inputs(out_dir, templates, paths), cache)
    except SlokitError as exc:  # a repository's runbook template
        report(exc)
    if check:
        if cache is not None:
            cache.commit()
        check_outputs(out_dir, outputs, project.inputs)
    else:
        write_all(out_dir, outputs, project.inputs)
        if cache is not None:
            cache.commit()


def runbook_inputs(out_dir: Path, templates: Path | None, paths: tuple[Path, ...]):
    """The repository's templates and the runbooks as they are now (their kept sections come back)."""
    from slokit.render.runbooks import RunbookInputs
    from slokit.templating import template_dir
    from slokit.write import read_existing

    return RunbookInputs(template_dir(templates, paths), lambda rel: read_existing(out_dir, rel))


def check_outputs(out_dir: Path, outputs: dict[str, str], inputs: frozenset[Path]) -> None:
    from slokit.naming import MANIFEST_FILE
    from slokit.write import Change, diff, pending_transaction, plan_write

    if pending_transaction(out_dir):
        click.echo(f"slokit: an interrupted `slokit generate` left {out_dir / '.slokit/transaction'}; run "
                   "`slokit generate` (it rolls the interrupted run back) before checking", err=True)
        sys.exit(EXIT_INVALID)
    try:
        plan = plan_write(out_dir, outputs, inputs)
    except SlokitError as exc:
        report(exc)
    for warning in plan.warnings:
        click.echo(f"slokit: warning: {warning}", err=True)
    changes = plan.changes
    if plan.manifest_stale and (changes or plan.current_manifest):
        # Committed hashes that do not match the outputs would make a later prune keep stale files.
        changes = [*changes, Change(MANIFEST_FILE, "changed" if plan.current_manifest else "added")]
        outputs = {**outputs, MANIFEST_FILE: plan.manifest_text}
    if not changes:
        click.echo(f"up to date: {len(outputs)} files")
        return
    click.echo(diff(out_dir, outputs, changes), nl=False)
    for change in changes:
        click.echo(f"{change.kind}: {change.path}", err=True)
    click.echo(f"{len(changes)} generated file{'s' if len(changes) != 1 else ''} out of date; "
               "run `slokit generate` and commit the result", err=True)
    sys.exit(EXIT_INVALID)


def write_all(out_dir: Path, outputs: dict[str, str], inputs: frozenset[Path]) -> None:
    from slokit.transaction import TransactionError
    from slokit.write import write_outputs

    def waiting() -> None:
        click.echo("slokit: waiting for another `slokit generate` in the same output root to finish", err=True)

    try:
        result = write_outputs(out_dir, outputs, inputs, on_wait=waiting)
    except SlokitError as exc:
        report(exc)
    except (TransactionError, OSError) as exc:
        click.echo(f"slokit: nothing written: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    for warning in result.warnings:
        click.echo(f"slokit: warning: {warning}", err=True)
    for change in result.changes:
        click.echo(f"{change.kind}: {out_dir / change.path}")
    click.echo(f"{len(outputs)} files, {len(result.changes)} changed")


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, path_type=Path))
def test_rules(paths: tuple[Path, ...]) -> None:
    """Run the promtool unit tests of the rules (`promtool test rules`).

    PATHS are test files or directories of them (every *.yaml / *.yml); the
    default is alerts/tests/ under the output root (slokit.yaml's `output`),
    where `slokit generate` writes a test file per service. Hand-written test files placed there run too. Exit 1, with
    promtool's report, when a test fails.

    \b
    Examples:
      slokit test
      slokit test alerts/tests/support-chatbot.test.yaml
      slokit test build/alerts/tests my-tests/
    """
    from slokit.ruletest import PromtoolMissing, find_test_files, run_promtool

    from slokit.config import project_settings

    try:
        settings = project_settings()
    except SlokitError as exc:
        report(exc)
    default = (settings.output or Path(".")) / "alerts" / "tests"
    if not paths and not default.is_dir():
        raise click.UsageError(f"no PATH given and there is no {default}/ directory; run `slokit generate` "
                               "first or pass test files")
    files = find_test_files(list(paths) or [default])
    if not files:
        raise click.UsageError("no test files found; run `slokit generate` first or pass test files")
    try:
        result = run_promtool(files)
    except PromtoolMissing as exc:
        click.echo(f"slokit: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    if result.output:
        click.echo(result.output, nl=not result.output.endswith("\n"), err=not result.ok)
    if not result.ok:
        click.echo(f"promtool test rules failed ({len(files)} test file{'s' if len(files) != 1 else ''})", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"ok: {len(files)} test file{'s' if len(files) != 1 else ''} passed")


@main.command()
@click.argument("args", nargs=-1, metavar="[PATHS]... [TARGET]")
@click.option("--specs", "spec_paths", type=click.Path(exists=True, dir_okay=True, path_type=Path), multiple=True,
              hidden=True, help="Older spelling of PATHS.")
@catalog_option
def explain(args: tuple[str, ...], spec_paths: tuple[Path, ...], catalog: Path | None) -> None:
    """Show what each SLO's alerts promise: windows, burn factors, thresholds, detection times, budget.

    PATHS are spec files or directories, as for every command (default:
    slokit.yaml's specs, else slos/). TARGET is SERVICE or SERVICE/SLO (or
    SERVICE/BUDGET); without it every SLO and budget is shown. An argument
    that names an existing file or directory is a PATH, the other one the
    TARGET.

    \b
    Examples:
      slokit explain
      slokit explain support-chatbot
      slokit explain slos/ support-chatbot/api-success
    """
    paths = list(spec_paths) + [Path(a) for a in args if Path(a).exists()]
    targets = [a for a in args if not Path(a).exists()]
    if len(targets) > 1:
        raise click.UsageError(f"one TARGET at most, got {', '.join(targets)} (and no such files or directories)")
    target = targets[0] if targets else None
    paths_t = tuple(paths)
    from slokit.explain import UnknownTarget
    from slokit.explain import explain as explain_text
    from slokit.plan import build_plan

    project = load(paths_t, catalog)
    try:
        text = explain_text(build_plan(project), target)
    except UnknownTarget as exc:
        raise click.BadParameter(str(exc), param_hint="TARGET") from None
    click.echo(text, nl=False)


def _register() -> None:
    # Front ends over the same model and plan live in modules of their own.
    from slokit.catalog.command import catalog_group
    from slokit.importers.command import import_group
    from slokit.init import init_command
    from slokit.ops.status import status_command
    from slokit.ops.gate import gate_command
    from slokit.ops.report import report_command

    main.add_command(catalog_group)
    main.add_command(import_group)
    main.add_command(init_command)
    main.add_command(status_command)
    main.add_command(gate_command)
    main.add_command(report_command)


_register()

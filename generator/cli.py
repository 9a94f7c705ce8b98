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


format_option = click.option(
    "--format",
    "report_format",
    type=click.Choice(["text", "json", "github", "sarif"]),
    default="text",
    show_default=True,
    help="How problems are reported: text (stderr), json, github (workflow commands for inline PR annotations) "
    "or sarif (SARIF 2.1.0 for code scanning) on stdout.",
)
max_errors_option = click.option(
    "--max-errors",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Print at most this many problems, then '... and N more' (0: no limit).",
)


def emit(found, report_format: str, max_errors: int) -> bool:
    """Print diagnostics in the chosen format; True when the run must fail (errors, or warnings with --strict)."""
    from slokit.report import Report, render

    report = found if isinstance(found, Report) else Report(tuple(found))
    if click.get_current_context().find_root().params.get("strict"):
        report = report.strict()
    if report_format == "text" and not report.diagnostics and not report.omitted:
        return False
    rendered = render(report, report_format, max_errors)
    if rendered.stdout:
        click.echo(rendered.stdout, nl=False)
    if rendered.stderr:
        click.echo(rendered.stderr, nl=False, err=True)
    return report.failed


def report(exc: SlokitError, report_format: str = "text", max_errors: int = 100) -> None:
    """Print every diagnostic, sorted by file and line, then exit 1."""
    from slokit.report import Report

    emit(Report(tuple(exc.diagnostics), exc.omitted), report_format, max_errors)
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


def load(paths: tuple[Path, ...], catalog: Path | None, report_format: str = "text", max_errors: int = 100):
    """Load the project; print problems and exit 1 on errors (or on warnings with --strict)."""
    from slokit.pipeline import load_and_check

    found = inputs(paths, catalog)
    try:
        project = load_and_check(list(found.paths), found.catalog, found.settings)
    except SlokitError as exc:
        report(exc, report_format, max_errors)
    if project.warnings and emit(project.warnings, report_format, max_errors):
        sys.exit(EXIT_INVALID)
    return project


def info(text: str, report_format: str = "text") -> None:
    """A progress or success line: stdout for people, stderr when stdout carries a machine format."""
    click.echo(text, err=report_format != "text")


class _Commands(click.Group):
    """The commands of this module, and the front ends that live in modules of their own.

    Those are imported when they are run (or listed by --help), not at every start: a `generate` with nothing
    changed should not pay for importing `status`, `gate` or `catalog discover`.
    """

    FRONT_ENDS = {
        "backfill": "slokit.backfill.command:backfill_command",
        "catalog": "slokit.catalog.command:catalog_group",
        "diff": "slokit.diff_command:diff_command",
        "gate": "slokit.ops.gate:gate_command",
        "import": "slokit.importers.command:import_group",
        "init": "slokit.init:init_command",
        "push": "slokit.push.command:push",
        "report": "slokit.ops.report:report_command",
        "status": "slokit.ops.status:status_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.FRONT_ENDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.FRONT_ENDS and name not in self.commands:
            import importlib

            module, attr = self.FRONT_ENDS[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="slokit")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
def main(strict: bool) -> None:
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
    tests), 2 usage error. Errors are printed as file:line:column: message;
    warnings too, but they fail the run only with --strict. Every problem has
    a stable code (docs/diagnostics.md), shown by --format json|github|sarif.
    """


@main.command()
@paths_argument
@catalog_option
@format_option
@max_errors_option
def validate(paths: tuple[Path, ...], catalog: Path | None, report_format: str, max_errors: int) -> None:
    """Check SLO spec files and the metric catalog; print every problem found.

    PATHS are directories (every *.yaml / *.yml in them) or single spec files;
    the default is slos/.

    \b
    Examples:
      slokit validate
      slokit validate slos/support-chatbot.yaml
      slokit validate specs/ --catalog metrics/catalog.yaml
      slokit validate --format github       # inline annotations in a GitHub pull request
    """
    from slokit.report import plural

    project = load(paths, catalog, report_format, max_errors)
    if report_format != "text" and not project.warnings:
        emit((), report_format, max_errors)  # an empty report, so CI always gets a document
    n_slos = sum(len(s.spec.slos) for s in project.services)
    n_budgets = sum(len(s.spec.budgets) for s in project.services)
    info(f"ok: {plural(len(project.services), 'service')}, {plural(n_slos, 'SLO')}, "
         f"{plural(n_budgets, 'budget')}, {plural(len(project.catalog.metrics), 'catalog metric')}", report_format)


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
              help="Neither read nor write slokit's cache in OUT/.slokit/cache/ (rendered rule tests, the last run's record).")
@click.option(
    "--format",
    "formats",
    type=click.Choice(["prometheus", "operator", "mimir", "vmalert", "thanos", "sloth", "text", "json", "github",
                       "sarif"]),
    multiple=True,
    help="Rule file formats (repeatable). prometheus: alerts/<service>.rules.yaml, always written (promtool and "
    "the rule tests read it); operator: also alerts/<service>.prometheusrule.yaml (PrometheusRule objects); "
    "mimir: also alerts/<service>.mimir.yaml (one ruler namespace per service); vmalert: also "
    "alerts/<service>.vmalert.yaml (for VictoriaMetrics' vmalert: rates written for MetricsQL); thanos: also "
    "alerts/<service>.thanos.yaml (with partial_response_strategy, for Thanos Ruler); sloth: also "
    "alerts/<service>.sloth.rules.yaml (Sloth's recording-rule names and labels, for Sloth dashboards). "
    "slokit.yaml's `formats` are always added, so a plain `generate` (or --check) keeps them. text, json, github "
    "or sarif choose how problems and stale files are reported, as for `validate`.",
)
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Directory with runbook*.md.j2 templates overriding the shipped ones (default: templates/ "
                   "beside slokit.yaml, else beside the SLO files, when it exists).")
@max_errors_option
def generate(paths: tuple[Path, ...], catalog: Path | None, out_dir: Path | None, check: bool, no_cache: bool,
             formats: tuple[str, ...], templates: Path | None, max_errors: int) -> None:
    """Compile SLO specs into rules, rule tests, dashboards, provisioning and runbooks.

    Everything is rendered in memory first: on any error nothing is written.
    The write is one transaction (staged in .slokit/, rolled back on any
    failure, recovered by the next run after a crash). A file slokit
    generated before and no longer produces is removed only while it still
    holds what slokit wrote; anything else is left alone. A service's rule
    tests are cached by a digest of its plan, the catalog and slokit's
    version and code in OUT/.slokit/cache/ (safe to delete). When no input,
    option, template, slokit version or output changed since the last
    recorded run, it answers from that record without loading anything.

    \b
    Examples:
      slokit generate                       # slos/ -> alerts/, dashboards/, ...
      slokit generate --check               # CI: fail when committed outputs are stale
      slokit generate specs/ --out build/   # another spec directory and output root
      slokit generate --format operator     # also PrometheusRule objects for the Prometheus Operator
    """
    from slokit.cache import Cache
    from slokit.pipeline import build_outputs
    from slokit.report import FORMATS

    report_formats = [f for f in formats if f in FORMATS]
    if len(report_formats) > 1:
        raise click.UsageError(f"choose one of --format text|json|github|sarif, got {', '.join(report_formats)}")
    report_format = report_formats[0] if report_formats else "text"
    rule_formats = tuple(f for f in formats if f not in FORMATS)
    found = inputs(paths, catalog)
    out_dir = out_dir if out_dir is not None else found.output
    run = None if no_cache else _shortcut(found, out_dir, found.formats(rule_formats), templates, paths, check,
                                          report_format, max_errors)
    before = run.snapshot() if run is not None else None  # the inputs as they were before loading read them
    project = load(paths, catalog, report_format, max_errors)
    cache = None if no_cache else Cache.open(out_dir)
    book = runbook_inputs(out_dir, templates, paths)
    if run is not None:
        from dataclasses import replace

        from slokit.shortcut import Reads, forget

        reads = Reads(book.existing)
        book = replace(book, existing=reads)
    try:
        outputs = build_outputs(project, found.formats(rule_formats), book, cache)
    except SlokitError as exc:  # a repository's runbook template
        report(exc, report_format, max_errors)
    # A run is recorded for the next one only when it is the fixed point (see shortcut.py).
    record = run is not None and reads.fixed_point(outputs)
    if check:
        if cache is not None:
            cache.commit()
        manifest_current = check_outputs(out_dir, outputs, project.inputs, report_format, max_errors)
        if record:
            from slokit.shortcut import remember

            remember(out_dir, run, before, project.inputs, outputs, manifest_current, project.warnings)
    else:
        if run is not None:
            forget(out_dir)
        warned = write_all(out_dir, outputs, project.inputs)
        if cache is not None:
            cache.commit()
        if record and not warned:
            from slokit.shortcut import remember

            remember(out_dir, run, before, project.inputs, outputs, True, project.warnings)


def _shortcut(found, out_dir: Path, rule_formats: tuple[str, ...], templates: Path | None,
              paths: tuple[Path, ...], check: bool, report_format: str, max_errors: int):
    """Answer from the last run's record when nothing it read changed (exits); else the inputs to record."""
    from slokit.config import find_config
    from slokit.report import plural
    from slokit.shortcut import run_inputs, up_to_date
    from slokit.templating import template_dir

    run = run_inputs(found.paths, found.catalog, out_dir, rule_formats, template_dir(templates, paths),
                     find_config())
    answer = up_to_date(out_dir, run, for_generate=not check)
    if answer is None:
        return run
    if answer.warnings and emit(answer.warnings, report_format, max_errors):
        sys.exit(EXIT_INVALID)
    count = answer.count
    if check:
        if report_format != "text":
            emit((), report_format, max_errors)
        info(f"up to date: {plural(count, 'file')}", report_format)
    else:
        click.echo(f"{plural(count, 'file')}, 0 changed")
    sys.exit(0)


def runbook_inputs(out_dir: Path, templates: Path | None, paths: tuple[Path, ...]):
    """The repository's templates and the runbooks as they are now (their kept sections come back)."""
    from slokit.render.runbooks import RunbookInputs
    from slokit.templating import template_dir
    from slokit.write import read_existing

    return RunbookInputs(template_dir(templates, paths), lambda rel: read_existing(out_dir, rel))


def check_outputs(out_dir: Path, outputs: dict[str, str], inputs: frozenset[Path], report_format: str = "text",
                  max_errors: int = 100) -> bool:
    """Exit 1 with a diff when outputs are stale; else True when a `generate` would not touch the manifest either."""
    from slokit.diagnose import stale_diagnostics
    from slokit.naming import MANIFEST_FILE
    from slokit.report import plural
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
    if plan.manifest_stale_for_check(outputs) and (changes or plan.current_manifest):
        # Committed hashes that do not match the outputs would make a later prune keep stale files.
        changes = [*changes, Change(MANIFEST_FILE, "changed" if plan.current_manifest else "added")]
        outputs = {**outputs, MANIFEST_FILE: plan.manifest_text}
    if not changes:
        if report_format != "text":
            emit((), report_format, max_errors)
        info(f"up to date: {plural(len(outputs), 'file')}", report_format)
        return not plan.manifest_stale and not plan.warnings
    if report_format != "text":
        emit(stale_diagnostics(out_dir, outputs, changes), report_format, max_errors)
        sys.exit(EXIT_INVALID)
    click.echo(diff(out_dir, outputs, changes), nl=False)
    for change in changes:
        click.echo(f"{change.kind}: {change.path}", err=True)
    click.echo(f"{plural(len(changes), 'generated file')} out of date; "
               "run `slokit generate` and commit the result", err=True)
    sys.exit(EXIT_INVALID)


def write_all(out_dir: Path, outputs: dict[str, str], inputs: frozenset[Path]) -> bool:
    """Write the outputs (exit 1 on failure); True when the write warned about something."""
    from slokit.report import plural
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
    click.echo(f"{plural(len(outputs), 'file')}, {len(result.changes)} changed")
    return bool(result.warnings)


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, path_type=Path))
@format_option
@max_errors_option
def test_rules(paths: tuple[Path, ...], report_format: str, max_errors: int) -> None:
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
    from slokit.report import plural
    from slokit.ruletest import PromtoolMissing, find_test_files, promtool_major, run_promtool, semantics_warnings

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
        if report_format != "text":
            sys.exit(_test_report(files, report_format, max_errors))
        for warning in semantics_warnings(files, promtool_major()):
            click.echo(warning.format(), err=True)
        result = run_promtool(files)
    except PromtoolMissing as exc:
        click.echo(f"slokit: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    if result.output:
        click.echo(result.output, nl=not result.output.endswith("\n"), err=not result.ok)
    if not result.ok:
        click.echo(f"promtool test rules failed ({plural(len(files), 'test file')})", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"ok: {plural(len(files), 'test file')} passed")


def _test_report(files: list[Path], report_format: str, max_errors: int) -> int:
    """Run each test file on its own, so each failure is reported at its file."""
    from slokit.diagnose import test_failure_diagnostic
    from slokit.report import plural
    from slokit.ruletest import run_promtool

    diags = []
    for f in files:
        result = run_promtool([f])
        if not result.ok:
            diags.append(test_failure_diagnostic(f, result.output))
    failed = emit(diags, report_format, max_errors)
    info(f"{len(diags)} of {plural(len(files), 'test file')} failed" if diags else
         f"ok: {plural(len(files), 'test file')} passed", report_format)
    return EXIT_INVALID if failed else 0


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



"""`slokit import sloth|openslo FILE...`: another tool's SLOs as slokit spec files and a catalog."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import click

from slokit.errors import Diagnostic, SlokitError

EXIT_INVALID = 1

out_option = click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("slos"), show_default=True,
    help="Directory for the spec files and catalog.yaml; existing files are never overwritten.")
files_argument = click.argument("files", nargs=-1, required=True,
                                type=click.Path(exists=True, dir_okay=False, path_type=Path))


def _warn(diags: list[Diagnostic]) -> None:
    for d in diags:
        click.echo(f"{d.path}:{d.line}:{d.column}: warning: {d.message}" + (f"\n  hint: {d.hint}" if d.hint else ""),
                   err=True)


def _fail(exc: SlokitError) -> None:
    for d in exc.diagnostics:
        click.echo(d.format(), err=True)
    click.echo(f"{len(exc.diagnostics)} error{'s' if len(exc.diagnostics) != 1 else ''}", err=True)
    sys.exit(EXIT_INVALID)


def run_import(tool: str, files: tuple[Path, ...], out_dir: Path,
               convert: Callable[[list], "object"]) -> None:
    from slokit.importers.build import build_files
    from slokit.importers.output import write_import
    from slokit.load import read_documents
    from slokit.pipeline import load_and_check

    documents = []
    try:
        for f in files:
            documents += read_documents(f, str(f))
        result = convert(documents)
        files_out, services = build_files(tool, result)
        if not services:
            _warn(result.warnings.sorted())
            raise SlokitError([Diagnostic(str(files[0]), 1, 1, "nothing to import: no SLO could be carried over",
                                          "see the warnings above")])
        _warn(result.warnings.sorted())
        written = write_import(out_dir, files_out)
    except SlokitError as exc:
        _fail(exc)
    for path in written:
        click.echo(f"wrote {path}")
    n_slos = sum(len(s.slos) for s in services)
    n_warn = len(result.warnings.sorted())
    click.echo(f"imported {len(services)} service{'s' if len(services) != 1 else ''}, {n_slos} SLO"
               f"{'s' if n_slos != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}")
    try:
        load_and_check([out_dir])
    except SlokitError as exc:
        click.echo("the imported files do not validate yet; fix these and run `slokit validate`:", err=True)
        _fail(exc)
    click.echo(f"ok: `slokit validate {out_dir}` passes; review the `# review:` comments in "
               f"{out_dir / 'catalog.yaml'}")


@click.group("import")
def import_group() -> None:
    """Import SLOs written for Sloth or in OpenSLO as slokit spec files plus a metric catalog.

    Every field that cannot be carried over is printed as a warning with its
    position in the source file. The result is validated at once.

    \b
    Examples:
      slokit import sloth sloth/*.yaml --out slos/
      slokit import openslo openslo.yaml --out slos/
    """


@import_group.command("sloth")
@files_argument
@out_option
def sloth(files: tuple[Path, ...], out_dir: Path) -> None:
    """Sloth `prometheus/v1` specs and `PrometheusServiceLevel` objects (several per file).

    \b
    Examples:
      slokit import sloth sloth/checkout.yaml
      slokit import sloth k8s/*.yaml --out imported/
    """
    from slokit.importers.sloth import import_documents

    run_import("sloth", files, out_dir, import_documents)


@import_group.command("openslo")
@files_argument
@out_option
def openslo(files: tuple[Path, ...], out_dir: Path) -> None:
    """OpenSLO v1 SLO, SLI, AlertPolicy, AlertCondition, DataSource (and Service) documents.

    Pass every file that defines a referenced SLI, AlertPolicy, AlertCondition
    or DataSource.

    \b
    Examples:
      slokit import openslo openslo.yaml
      slokit import openslo slos.yaml slis.yaml policies.yaml --out imported/
    """
    from slokit.importers.openslo import import_documents

    run_import("openslo", files, out_dir, import_documents)

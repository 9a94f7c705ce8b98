"""The command line contract: --version, --help with examples everywhere, exit status 0 / 1 / 2.

Exit status: 0 valid, 1 invalid input (printed as file:line:column: message),
2 usage error. The help test walks every command, so commands added later
must ship their own examples too.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import slokit
from slokit.cli import main

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "corpus" / "cases"


def commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The argv prefix of every command, groups included, e.g. ('validate',)."""
    found = [prefix]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # front ends are registered lazily: ask the group, not its dict
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += commands(command, prefix + (name,))
        else:
            found.append(prefix + (name,))
    return found


def run(args: list[str], cwd: Path | None = None, monkeypatch=None):
    """Invoke the CLI in-process, named as installed (click would call it `main`)."""
    if cwd is not None:
        monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, args, prog_name="slokit")


# -- --version ------------------------------------------------------------------


def test_version_is_the_installed_package_version():
    result = run(["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"slokit, version {version('slokit')}\n"
    assert slokit.__version__ == version("slokit")


# -- --help -----------------------------------------------------------------------


def test_every_command_is_covered():
    assert {("validate",), ("schema",)} <= set(commands())


@pytest.mark.parametrize("argv", commands(), ids=lambda a: " ".join(a) or "slokit")
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_with_examples_everywhere(argv: tuple[str, ...], flag: str):
    result = run([*argv, flag])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith(f"Usage: slokit {' '.join(argv)}".rstrip() + " ")
    assert "Examples:" in text
    examples = text.split("Examples:", 1)[1]
    # At least one runnable example of this very command.
    assert f"slokit {' '.join(argv)}".strip() in examples


def test_top_level_help_states_the_exit_status():
    text = run(["--help"]).stdout
    assert "Exit status: 0 success, 1 invalid input" in " ".join(text.split())
    assert "2 usage error" in " ".join(text.split())


# -- exit status 0 ----------------------------------------------------------------


def counts(text: str) -> tuple[int, int, int]:
    """(services, SLOs, budgets) of an `ok:` line."""
    import re

    found = re.match(r"ok: (\d+) services?, (\d+) SLOs?, (\d+) budgets?, ", text)
    assert found, text
    return tuple(int(x) for x in found.groups())


def spec_counts(*files: Path) -> tuple[int, int, int]:
    """What the spec files hold, read with plain YAML: an adopter's added or edited service keeps this true."""
    import yaml

    specs = [yaml.safe_load(f.read_text(encoding="utf-8")) for f in files]
    return len(specs), sum(len(s.get("slos") or []) for s in specs), sum(len(s.get("budgets") or []) for s in specs)


def test_exit_0_on_the_bundled_example_with_default_path(monkeypatch):
    result = run(["validate"], ROOT, monkeypatch)
    assert result.exit_code == 0, result.output
    specs = [f for f in sorted((ROOT / "slos").glob("*.y*ml")) if f.name != "catalog.yaml"]
    assert counts(result.stdout) == spec_counts(*specs)
    assert result.stderr == ""


def test_exit_0_on_explicit_files_and_catalog(monkeypatch):
    result = run(["validate", "slos/support-chatbot.yaml", "--catalog", "slos/catalog.yaml"], ROOT, monkeypatch)
    assert result.exit_code == 0, result.output
    assert counts(result.stdout) == spec_counts(ROOT / "slos" / "support-chatbot.yaml")


def test_exit_0_when_a_file_is_named_twice(monkeypatch):
    result = run(["validate", "slos", str(ROOT / "slos" / "support-chatbot.yaml")], ROOT, monkeypatch)
    assert result.exit_code == 0, result.output


def test_exit_0_for_schema():
    result = run(["schema", "--kind", "slo"])
    assert result.exit_code == 0
    assert '"title": "slokit SLO spec"' in result.stdout


# -- exit status 1 ----------------------------------------------------------------


def test_exit_1_on_invalid_input_with_positioned_errors_on_stderr(monkeypatch):
    result = run(["validate", ".", "--catalog", "../../catalog.yaml"], CASES / "objective-hundred", monkeypatch)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("spec.yaml:5:16: objective must be between 0 and 100 exclusive")
    assert result.stderr.endswith("\n1 error\n")


def test_exit_1_when_no_catalog_is_found(tmp_path: Path, monkeypatch):
    (tmp_path / "svc.yaml").write_text("service: demo\nowner: team\n")
    result = run(["validate", "."], tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert result.stderr == (".:1:1: no metric catalog found: expected catalog.yaml beside the SLO files\n"
                             "  hint: create it, or pass --catalog FILE\n1 error\n")


def test_exit_1_when_a_directory_has_no_spec_files(tmp_path: Path, monkeypatch):
    (tmp_path / "catalog.yaml").write_bytes((ROOT / "slos" / "catalog.yaml").read_bytes())
    result = run(["validate", "."], tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert ".:1:1: no SLO spec files (*.yaml, *.yml) found" in result.stderr


# -- exit status 2 ----------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["no-such-command"],
    ["--no-such-option"],
    ["validate", "--no-such-option"],
    ["validate", "does/not/exist"],
    ["validate", "--catalog", "does/not/exist.yaml"],
    ["validate", "--catalog"],
    ["schema", "--kind", "nonsense"],
], ids=lambda a: " ".join(a))
def test_exit_2_on_usage_errors(args: list[str], monkeypatch):
    result = run(args, ROOT, monkeypatch)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_exit_2_without_path_and_without_slos_dir(tmp_path: Path, monkeypatch):
    result = run(["validate"], tmp_path, monkeypatch)
    assert result.exit_code == 2
    assert "no PATH given, no slokit.yaml and no slos/ directory here" in result.stderr
    assert "`slokit validate specs/`, or run `slokit init`" in result.stderr


# -- the installed entry point, as a real process ------------------------------------


@pytest.mark.parametrize("args, status", [
    (["--version"], 0),
    (["validate"], 0),
    (["validate", "tests/language/corpus/cases/objective-zero/spec.yaml", "--catalog",
      "tests/language/corpus/catalog.yaml"], 1),
    (["validate", "does/not/exist"], 2),
])
def test_exit_status_of_the_real_process(args: list[str], status: int):
    proc = subprocess.run([sys.executable, "-m", "slokit", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr

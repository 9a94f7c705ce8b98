"""The whole-run shortcut (OUT/.slokit/cache/run.json): a run where nothing changed skips loading and rendering.

Every test either shows that an unchanged run is answered without loading the
project, with exactly what a full run prints, or that a change to an input,
an option, slokit's version, code or libraries, or to the outputs on disk
makes a full run that gives exactly the outputs of a run without any cache.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import slokit
from slokit import cache as C
from slokit import project as P
from slokit import shortcut as S
from slokit.cli import main

from .test_cache import outputs, truth
from .test_write import generate, project  # noqa: F401  (project is a fixture)

RECORD = Path(".slokit") / "cache" / S.RECORD


@pytest.fixture
def loads(monkeypatch) -> list[int]:
    """Counts the loads of the project: a shortcut answer loads nothing."""
    count: list[int] = []
    real = P.load_project

    def counting(*args, **kwargs):
        count.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(P, "load_project", counting)
    return count


def settle(root: Path, *args: str) -> None:
    """Generate until the run is recorded (the first run reads no runbooks yet, so it is not the fixed point)."""
    assert generate(root, *args).exit_code == 0
    assert not (root / RECORD).exists()
    assert generate(root, *args).exit_code == 0
    assert (root / RECORD).is_file()


def test_an_unchanged_run_and_check_load_nothing_and_print_what_a_full_run_prints(project, loads):
    settle(project)
    loads.clear()
    again, check = generate(project), generate(project, "--check")
    as_json = generate(project, "--check", "--format", "json")
    assert loads == []
    assert again.exit_code == 0 and again.output.endswith(" files, 0 changed\n")
    assert check.exit_code == 0 and check.output.startswith("up to date:")
    full, full_check = generate(project, "--no-cache"), generate(project, "--no-cache", "--check")
    full_json = generate(project, "--no-cache", "--check", "--format", "json")
    assert loads == [1, 1, 1]
    assert (again.output, check.output, as_json.output) == (full.output, full_check.output, full_json.output)


def test_warnings_are_reported_again_and_fail_under_strict(project, loads, monkeypatch):
    spec = project / "slos" / "rag-assistant.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("objective: 99.5", "objective: 99.99", 1),
                    encoding="utf-8")
    settle(project)
    loads.clear()
    answered = generate(project)
    assert loads == [] and "warning:" in answered.output
    assert answered.output == generate(project, "--no-cache").output
    monkeypatch.chdir(project)
    strict = CliRunner().invoke(main, ["--strict", "generate"])
    full = CliRunner().invoke(main, ["--strict", "generate", "--no-cache"])
    assert strict.exit_code == full.exit_code == 1 and strict.output == full.output


def edit(project: Path, what: str) -> tuple[str, ...]:
    """Change one thing; the arguments the following runs take."""
    slos = project / "slos"
    if what == "spec":
        spec = slos / "support-chatbot.yaml"
        spec.write_text(spec.read_text(encoding="utf-8").replace("objective: 99.5", "objective: 99.6", 1),
                        encoding="utf-8")
    elif what == "spec comment":  # the outputs stay the same, but the input changed: a full run finds that out
        spec = slos / "support-chatbot.yaml"
        spec.write_text(spec.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    elif what == "catalog":
        cat = slos / "catalog.yaml"
        cat.write_text(cat.read_text(encoding="utf-8").replace("values: [simulated, openai, anthropic, other]",
                                                               "values: [openai, simulated, anthropic, other]"),
                       encoding="utf-8")
    elif what == "new spec file":
        text = (slos / "rag-assistant.yaml").read_text(encoding="utf-8")
        (slos / "rag-copy.yaml").write_text(text.replace("service: rag-assistant", "service: rag-copy"),
                                            encoding="utf-8")
    elif what == "removed spec file":
        (slos / "rag-assistant.yaml").unlink()
    elif what == "slokit.yaml":
        (project / "slokit.yaml").write_text("version: 1\nformats: [mimir]\n", encoding="utf-8")
    elif what == "template":
        shipped = Path(slokit.__file__).parent / "templates" / "runbook.md.j2"
        (slos / "templates").mkdir()
        (slos / "templates" / "runbook.md.j2").write_text(shipped.read_text(encoding="utf-8") + "\nlocal footer\n",
                                                          encoding="utf-8")
    elif what == "option --format":
        return ("--format", "operator")
    elif what == "edited output":
        rules = project / "alerts" / "support-chatbot.rules.yaml"
        rules.write_text(rules.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    elif what == "deleted output":
        (project / "alerts" / "tests" / "rag-assistant.test.yaml").unlink()
    elif what == "edited manifest":
        manifest = project / ".slokit-manifest.json"
        doc = json.loads(manifest.read_text(encoding="utf-8"))
        doc["files"]["alerts/support-chatbot.rules.yaml"] = "0" * 64
        manifest.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    elif what == "damaged record":
        record = project / RECORD
        record.write_text(record.read_text(encoding="utf-8").replace('"outputs": {', '"outputs": {"x": "y", '),
                          encoding="utf-8")
    else:
        raise AssertionError(what)
    return ()


CHANGES = ["spec", "spec comment", "catalog", "new spec file", "removed spec file", "slokit.yaml", "template",
           "option --format", "edited output", "deleted output", "edited manifest", "damaged record"]


@pytest.mark.parametrize("what", CHANGES)
def test_any_change_makes_a_full_run_with_the_outputs_of_an_uncached_one(project, tmp_path, loads, what):
    settle(project)
    loads.clear()
    args = edit(project, what)
    run = generate(project, *args)
    assert run.exit_code == 0, run.output
    assert loads == [1]
    got = outputs(project)  # before the ground truth is written beside it
    if what == "slokit.yaml":
        expected = truth_with_config(project, tmp_path)
    elif what == "template":
        expected = truth_with_templates(project, tmp_path)
    else:
        expected = truth(project, tmp_path, *args)
    assert got == expected
    loads.clear()
    assert generate(project, *args, "--check").exit_code == 0


def truth_with_config(project: Path, tmp_path: Path) -> dict[str, bytes]:
    fresh = tmp_path / "truth-config"
    shutil.copytree(project / "slos", fresh / "slos")
    shutil.copy(project / "slokit.yaml", fresh / "slokit.yaml")
    assert generate(fresh, "--no-cache").exit_code == 0
    found = outputs(fresh)
    assert any(k.endswith(".mimir.yaml") for k in found)
    return found


def truth_with_templates(project: Path, tmp_path: Path) -> dict[str, bytes]:
    fresh = tmp_path / "truth-templates"
    shutil.copytree(project / "slos", fresh / "slos")
    assert generate(fresh, "--no-cache").exit_code == 0
    found = outputs(fresh)
    assert b"local footer" in found["docs/runbooks/rag-assistant.md"]
    return found


@pytest.mark.parametrize("what", ["version", "code", "libraries"])
def test_another_slokit_or_library_makes_a_full_run(project, monkeypatch, loads, what):
    settle(project)
    loads.clear()
    if what == "version":
        monkeypatch.setattr(slokit, "__version__", slokit.__version__ + ".post1")
    elif what == "code":
        monkeypatch.setattr(C, "code_digest", lambda: "another generator")
    else:
        real = S._libraries
        monkeypatch.setattr(S, "_libraries", lambda: [*real(), "PyYAML without libyaml"])
    assert generate(project).exit_code == 0
    assert loads == [1]


def test_a_hand_kept_runbook_section_is_kept_and_then_recorded(project, loads):
    settle(project)
    runbook = project / "docs" / "runbooks" / "rag-assistant.md"
    text = runbook.read_text(encoding="utf-8")
    marker = "<!-- slokit:keep slo-answer-success -->\n"
    runbook.write_text(text.replace(marker, marker + "Call the on-call of the search team.\n"), encoding="utf-8")
    loads.clear()
    assert generate(project).exit_code == 0 and loads == [1]
    assert "Call the on-call of the search team." in runbook.read_text(encoding="utf-8")
    assert generate(project, "--check").exit_code == 0
    loads.clear()
    assert generate(project).exit_code == 0 and generate(project, "--check").exit_code == 0
    assert loads == [1] or loads == []  # recorded by the first of them at the latest
    loads.clear()
    assert generate(project).exit_code == 0 and loads == []


def test_no_cache_neither_reads_nor_writes_the_record(project, loads):
    assert generate(project, "--no-cache").exit_code == 0
    assert generate(project, "--no-cache").exit_code == 0
    assert not (project / RECORD).exists()
    settle_from_nothing = generate(project)
    assert settle_from_nothing.exit_code == 0 and (project / RECORD).is_file()
    loads.clear()
    assert generate(project, "--no-cache").exit_code == 0 and loads == [1]


def test_a_symlinked_record_is_not_used(project, tmp_path, loads):
    settle(project)
    elsewhere = tmp_path / "record.json"
    shutil.move(project / RECORD, elsewhere)
    (project / RECORD).symlink_to(elsewhere)
    loads.clear()
    assert generate(project).exit_code == 0 and loads == [1]


def test_a_spec_edited_while_a_run_loads_is_not_hidden_by_its_record(project, tmp_path, monkeypatch):
    """The record holds the inputs as they were before the run read them, not as they are after it."""
    settle(project)
    spec = project / "slos" / "support-chatbot.yaml"
    real = P.load_project

    def load_then_edit(*args, **kwargs):
        loaded = real(*args, **kwargs)
        spec.write_text(spec.read_text(encoding="utf-8").replace("objective: 99.5", "objective: 99.6", 1),
                        encoding="utf-8")
        return loaded

    (project / "alerts" / "support-chatbot.rules.yaml").write_text("# edited\n", encoding="utf-8")  # a full run
    monkeypatch.setattr(P, "load_project", load_then_edit)
    assert generate(project).exit_code == 0
    monkeypatch.setattr(P, "load_project", real)
    assert generate(project, "--check").exit_code == 1  # the edit is seen: the outputs are of the older spec
    assert generate(project).exit_code == 0
    got = outputs(project)
    assert got == truth(project, tmp_path)

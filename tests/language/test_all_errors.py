"""All errors at once: a partly broken file still gets its other mistakes reported; duplicates blame the new file."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from slokit.cli import main

ROOT = Path(__file__).resolve().parents[2]


def example(tmp_path: Path) -> Path:
    for f in (ROOT / "slos").iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def edit(path: Path, old: str, new: str, occurrence: int = 0) -> None:
    text = path.read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(re.escape(old), text)]
    at = starts[occurrence]
    path.write_text(text[:at] + new + text[at + len(old):], encoding="utf-8")


def validate(cwd: Path, monkeypatch) -> list[str]:
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, ["validate", "."])
    assert result.exit_code == 1
    return [line for line in result.stderr.splitlines() if re.match(r"\S+:\d+:\d+: ", line)]


def test_unparsable_objective_does_not_hide_the_other_slos_mistakes(tmp_path, monkeypatch):
    spec = example(tmp_path) / "support-chatbot.yaml"
    edit(spec, "objective: ", "objective: abc #")
    edit(spec, "metric: llm_requests_total", "metric: llm_requestz_total", occurrence=-1)
    errors = validate(tmp_path, monkeypatch)
    assert len(errors) == 2, errors
    assert re.match(r"support-chatbot\.yaml:\d+:\d+: objective must be a number, got 'abc'", errors[0])
    # The other SLO's mistake, at its own line (positions survive setting the broken SLO aside).
    line = int(errors[1].split(":")[1])
    assert "llm_requestz_total" in spec.read_text(encoding="utf-8").splitlines()[line - 1]
    assert errors[1].endswith("unknown metric 'llm_requestz_total'")


def test_broken_budget_and_broken_optional_key_do_not_hide_slo_mistakes(tmp_path, monkeypatch):
    spec = example(tmp_path) / "support-chatbot.yaml"
    edit(spec, "limit: ", "limit: lots #")
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text + "grafana_url: [not, a, url]\n", encoding="utf-8")
    edit(spec, "metric: llm_requests_total", "metric: llm_requestz_total")
    errors = validate(tmp_path, monkeypatch)
    assert any("limit must be a number" in e for e in errors), errors
    assert any("grafana_url" in e for e in errors), errors
    assert any(e.endswith("unknown metric 'llm_requestz_total'") for e in errors), errors


def test_broken_required_key_reports_only_the_shape(tmp_path, monkeypatch):
    spec = example(tmp_path) / "support-chatbot.yaml"
    edit(spec, "service: ", "service: [x] #")
    edit(spec, "metric: llm_requests_total", "metric: llm_requestz_total")
    errors = validate(tmp_path, monkeypatch)
    # The service name is what everything else hangs on: no guessing past it.
    assert len(errors) == 1 and "service" in errors[0], errors


def duplicate(tmp_path: Path) -> None:
    """b-chatbot.yaml is the committed service; a-copy.yaml defines the same service again."""
    example(tmp_path)
    (tmp_path / "rag-assistant.yaml").unlink()
    (tmp_path / "support-chatbot.yaml").rename(tmp_path / "b-chatbot.yaml")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_duplicate_service_blames_the_file_the_change_adds(tmp_path, monkeypatch):
    duplicate(tmp_path)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    shutil.copy(tmp_path / "b-chatbot.yaml", tmp_path / "a-copy.yaml")  # sorts first, but is the new file
    errors = validate(tmp_path, monkeypatch)
    assert len(errors) == 1
    assert errors[0].startswith("a-copy.yaml:")
    assert "already defined in b-chatbot.yaml:" in errors[0]


def test_duplicate_service_blames_the_modified_file(tmp_path, monkeypatch):
    duplicate(tmp_path)
    shutil.copy(tmp_path / "b-chatbot.yaml", tmp_path / "a-copy.yaml")
    edit(tmp_path / "a-copy.yaml", "service: support-chatbot", "service: other")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    edit(tmp_path / "a-copy.yaml", "service: other", "service: support-chatbot")
    errors = validate(tmp_path, monkeypatch)
    assert len(errors) == 1 and errors[0].startswith("a-copy.yaml:"), errors


def test_duplicate_service_without_git_blames_the_later_path(tmp_path, monkeypatch):
    duplicate(tmp_path)
    shutil.copy(tmp_path / "b-chatbot.yaml", tmp_path / "a-copy.yaml")
    errors = validate(tmp_path, monkeypatch)  # tmp_path is no git work tree
    assert len(errors) == 1 and errors[0].startswith("b-chatbot.yaml:"), errors
    assert "already defined in a-copy.yaml:" in errors[0]

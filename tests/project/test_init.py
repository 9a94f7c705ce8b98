"""`slokit init`: the repository it scaffolds passes its own CI workflow (the `slokit` steps of
.github/workflows/slokit.yml, run here with the real promtool), never overwrites, asks nothing when not on
a terminal, and its presets validate."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from slokit.cli import main
from slokit.init import PRESETS, preset_catalog

REPO = Path(__file__).resolve().parents[2]
SLOKIT = [sys.executable, "-m", "slokit"]


def workflow_commands(root: Path) -> list[list[str]]:
    workflow = yaml.safe_load((root / ".github" / "workflows" / "slokit.yml").read_text(encoding="utf-8"))
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    return [shlex.split(s["run"]) for s in steps if str(s.get("run", "")).startswith("slokit ")]


@pytest.mark.parametrize("preset", PRESETS)
def test_a_new_repository_passes_its_own_ci(preset, tmp_path):
    root = tmp_path / "slo-repo"
    proc = subprocess.run(SLOKIT + ["init", str(root), "--preset", preset, "--owner", "team-a"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("slokit.yaml", "slos/catalog.yaml", "slos/slo-repo.yaml", ".github/workflows/slokit.yml",
                 ".pre-commit-config.yaml", "README.md", "alerts/slo-repo.rules.yaml"):
        assert (root / name).is_file(), name
    commands = workflow_commands(root)
    assert [c[:2] for c in commands] == [["slokit", "validate"], ["slokit", "generate"], ["slokit", "test"]]
    for command in commands:
        proc = subprocess.run(SLOKIT + command[1:], cwd=root, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, (command, proc.stdout + proc.stderr)
    # The pre-commit hooks run the same commands.
    hooks = yaml.safe_load((root / ".pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"][0]["hooks"]
    assert [h["entry"] for h in hooks] == ["slokit validate", "slokit generate --check"]


def test_init_never_overwrites_and_asks_nothing_without_a_terminal(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README.md").write_text("# Mine\n", encoding="utf-8")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["init"], input="")  # not a terminal: no prompt may wait for input
    assert result.exit_code == 0, result.output
    assert "kept README.md (exists; slokit init never overwrites)" in result.output
    assert (root / "README.md").read_text(encoding="utf-8") == "# Mine\n"
    spec = root / "slos" / "repo.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("99.5", "99.9"), encoding="utf-8")
    again = CliRunner().invoke(main, ["init"], input="")
    assert again.exit_code == 0, again.output
    assert "objective: 99.9" in spec.read_text(encoding="utf-8")
    assert again.output.count("kept ") == 6


def test_the_llm_preset_is_the_bundled_catalog():
    bundled = (REPO / "slos" / "catalog.yaml").read_text(encoding="utf-8")
    preset = preset_catalog("llm")
    assert yaml.safe_load(preset) == yaml.safe_load(bundled)


def test_a_service_name_that_is_not_a_slug_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["init", str(tmp_path / "x"), "--service", "My Service"], input="")
    assert result.exit_code == 2
    assert "'My Service' is not a slug" in result.output
    assert not (tmp_path / "x").exists()

"""`slokit generate`: all or nothing, pruning only its own files, `--check`, determinism, golden files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from slokit import naming as N
from slokit import write as W
from slokit.cli import main
from slokit.pipeline import build_outputs
from slokit.project import load_project

from . import family

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
FROZEN_CATALOG = REPO / "tests" / "language" / "corpus" / "catalog.yaml"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the bundled example (slos/) in a temporary directory, which is also the output root."""
    shutil.copytree(REPO / "slos", tmp_path / "slos")
    return tmp_path


def generate(root: Path, *args: str):
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, ["generate", *args])
    finally:
        os.chdir(cwd)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file and directory under root (slokit's lock and its .gitignore aside, which a run may create)."""
    own = {N.STATE_DIR, N.LOCK_FILE, f"{N.STATE_DIR}/.gitignore"}
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*")) if p.relative_to(root).as_posix() not in own}


def test_generate_then_check_is_clean(project):
    result = generate(project)
    assert result.exit_code == 0, result.output
    files = W.read_manifest(project).paths
    assert {N.rules_path("support-chatbot"), N.rule_tests_path("support-chatbot"),
            N.budget_rule_tests_path("support-chatbot"), N.runbook_path("rag-assistant")} <= files
    result = generate(project, "--check")
    assert result.exit_code == 0 and result.output.startswith("up to date:")


def test_check_fails_with_a_diff_when_outputs_are_stale(project):
    assert generate(project).exit_code == 0
    rules = project / N.rules_path("support-chatbot")
    rules.write_text(rules.read_text().replace("14.4", "14.5", 1))
    (project / N.runbook_path("rag-assistant")).unlink()
    before = snapshot(project)
    result = generate(project, "--check")
    assert result.exit_code == 1
    assert f"--- a/{N.rules_path('support-chatbot')}" in result.stdout and "-" in result.stdout
    assert "+      slo:burn_rate:rate1h" in result.stdout and "14.4" in result.stdout
    assert f"changed: {N.rules_path('support-chatbot')}" in result.stderr
    assert f"added: {N.runbook_path('rag-assistant')}" in result.stderr
    assert "2 generated files out of date" in result.stderr
    assert snapshot(project) == before  # --check writes nothing


def test_invalid_input_writes_nothing(project):
    (project / "slos" / "rag-assistant.yaml").write_text("service: rag\nowner: x\nslos:\n  - name: a\n    objective: 120\n")
    result = generate(project)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "rag-assistant.yaml:5:" in result.stderr
    assert not (project / "alerts").exists() and not (project / N.MANIFEST_FILE).exists()


def test_a_failing_renderer_writes_nothing(project, monkeypatch):
    from slokit import pipeline

    def broken(plan):
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(pipeline, "renderers", lambda *a, **k: [*ORIGINAL_RENDERERS(*a, **k), broken])
    result = generate(project)
    assert isinstance(result.exception, RuntimeError)
    assert snapshot(project) == {p: b for p, b in snapshot(project).items() if p == "slos" or p.startswith("slos/")}


ORIGINAL_RENDERERS = __import__("slokit.pipeline", fromlist=["renderers"]).renderers


def test_a_write_failure_midway_changes_nothing(project, monkeypatch):
    assert generate(project).exit_code == 0
    spec = project / "slos" / "support-chatbot.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.5", "objective: 99.7"))
    before = snapshot(project)
    calls = []
    real_replace = os.replace

    def flaky(src, dst, **kw):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, **kw)

    monkeypatch.setattr(os, "replace", flaky)
    result = generate(project)
    assert result.exit_code == 1 and "nothing written: [Errno 28] No space left on device" in result.stderr
    assert len(calls) > 3  # the roll back moved the backups back
    assert snapshot(project) == before  # no output replaced, nothing staged left behind


def test_a_directory_in_the_way_changes_nothing(project):
    (project / N.rules_path("rag-assistant")).mkdir(parents=True)
    result = generate(project)
    assert result.exit_code == 1 and "is a directory" in result.stderr
    assert sorted(p for p in snapshot(project) if p != "slos" and not p.startswith("slos/")) == ["alerts", N.rules_path("rag-assistant")]
    assert [p for p in project.rglob("*.tmp")] == [] and not (project / N.TRANSACTION_DIR).exists()


def test_prune_removes_only_files_slokit_generated(project):
    assert generate(project).exit_code == 0
    mine = {"alerts/custom.rules.yaml": "groups: []\n", "alerts/tests/handwritten.test.yaml": "tests: []\n",
            "docs/runbooks/README.md": "# mine\n"}
    for rel, text in mine.items():
        (project / rel).write_text(text)
    (project / "slos" / "rag-assistant.yaml").unlink()
    result = generate(project)
    assert result.exit_code == 0, result.output
    assert f"removed: {N.rules_path('rag-assistant')}" in result.stdout
    for rel in (N.rules_path("rag-assistant"), N.rule_tests_path("rag-assistant"), N.runbook_path("rag-assistant")):
        assert not (project / rel).exists()
    for rel, text in mine.items():
        assert (project / rel).read_text() == text
    assert N.rules_path("rag-assistant") not in W.read_manifest(project).paths


def test_a_hand_edited_manifest_cannot_delete_outside_the_output_root(project, tmp_path_factory):
    victim = tmp_path_factory.mktemp("outside") / "victim.txt"
    victim.write_text("keep me")
    (project / N.MANIFEST_FILE).write_text(W.manifest_text(dict.fromkeys(
        [str(victim), f"../{victim.parent.name}/victim.txt", "alerts/../../x"])))
    result = generate(project)
    assert result.exit_code == 1 and "is an absolute path" in result.stderr and "contains `..`" in result.stderr
    assert victim.read_text() == "keep me"


def run_generate(cwd: Path, args: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "slokit", "generate", *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_output_is_byte_identical_whatever_hash_seed_locale_and_file_order(tmp_path):
    runs = [
        ({"PYTHONHASHSEED": "0", "LC_ALL": "C"}, ["slos"]),
        ({"PYTHONHASHSEED": "4242", "LC_ALL": "C.UTF-8"},
         ["slos/support-chatbot.yaml", "slos/rag-assistant.yaml", "--catalog", "slos/catalog.yaml"]),
        ({"PYTHONHASHSEED": "7", "LC_ALL": "C.UTF-8", "TZ": "Pacific/Auckland"},
         ["slos/rag-assistant.yaml", "slos/support-chatbot.yaml", "--catalog", "slos/catalog.yaml"]),
    ]
    results = []
    for i, (env, args) in enumerate(runs):
        root = tmp_path / f"run{i}"
        (root / "slos").mkdir(parents=True)
        # Files created in a different order each time (directory listing order follows it on most filesystems).
        names = sorted(p.name for p in (REPO / "slos").glob("*.yaml"))
        for name in (names if i % 2 == 0 else reversed(names)):
            shutil.copy(REPO / "slos" / name, root / "slos" / name)
        run_generate(root, args, env)
        results.append({k: v for k, v in snapshot(root).items() if not k.startswith("slos/")})
    assert results[0] and results[0] == results[1] == results[2]


def golden_outputs(tmp_path: Path) -> dict[str, str]:
    files = family.write_small_family(tmp_path / "specs", FROZEN_CATALOG)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        outputs = build_outputs(load_project([Path("specs/small-family.yaml")], Path("specs/catalog.yaml")),
                                ("operator", "mimir", "vmalert"))
    finally:
        os.chdir(cwd)
    assert files
    # Only this helper's outputs: the dashboards have their own golden files.
    return {k: v for k, v in outputs.items() if k.startswith(("alerts/", "docs/runbooks/"))}


def test_golden_files(tmp_path):
    """Rules in four formats, rule tests and runbook of a small family on a frozen catalog.

    Refresh after an intended change with `SLOKIT_UPDATE_GOLDEN=1 pytest tests/rules/test_write.py` and
    review the diff.
    """
    outputs = golden_outputs(tmp_path)
    if os.environ.get("SLOKIT_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, text in outputs.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_text(text, encoding="utf-8")
    golden = {p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8")
              for p in sorted(GOLDEN.rglob("*")) if p.is_file()}
    assert sorted(golden) == sorted(outputs)
    for rel, text in outputs.items():
        assert text == golden[rel], f"{rel} differs from its golden file"


def test_committed_outputs_are_up_to_date():
    """What CI runs on a pull request: the committed alerts/, dashboards/, runbooks match the specs."""
    result = generate(REPO, "--check")
    assert result.exit_code == 0, result.output

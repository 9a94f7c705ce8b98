"""The cache of rendered rule tests (OUT/.slokit/cache/): used when nothing changed, never when anything did.

Every test compares a cached run with the ground truth, a run without the
cache into a fresh output root, or shows which work the cache skipped by
making that work fail.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import slokit
from slokit import cache as C
from slokit.render.ruletests import promtool_tests as rule_tests

# The same copy of the bundled example and the same `generate` as the write tests.
from .test_write import generate, project  # noqa: F401  (project is a fixture)


def outputs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".slokit" not in p.relative_to(root).parts and "slos" not in p.relative_to(root).parts}


def truth(project: Path, tmp_path: Path, *args: str) -> dict[str, bytes]:
    """The outputs of a run without any cache, in a fresh root."""
    fresh = tmp_path / "truth"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(project / "slos", fresh / "slos")
    assert generate(fresh, "--no-cache", *args).exit_code == 0
    assert not (fresh / ".slokit" / "cache").exists()
    return outputs(fresh)


def forbid(monkeypatch, target, name: str) -> None:
    def fail(*a, **k):
        raise AssertionError(f"{name} ran although the cache should have answered")
    monkeypatch.setattr(target, name, fail)


def test_unchanged_run_and_check_reuse_every_rule_test(project, monkeypatch):
    assert generate(project).exit_code == 0
    forbid(monkeypatch, rule_tests, "render_service")
    again = generate(project)
    assert again.exit_code == 0 and again.output.endswith(" files, 0 changed\n")
    check = generate(project, "--check")
    assert check.exit_code == 0 and check.output.startswith("up to date:")


def test_a_hand_edited_output_is_not_hidden_by_the_cache(project, tmp_path):
    assert generate(project).exit_code == 0
    rules = project / "alerts" / "support-chatbot.rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert generate(project, "--check").exit_code == 1
    assert generate(project).exit_code == 0
    assert outputs(project) == truth(project, tmp_path)


def test_a_deleted_output_is_written_again(project, tmp_path):
    assert generate(project).exit_code == 0
    (project / "alerts" / "tests" / "rag-assistant.test.yaml").unlink()
    assert generate(project, "--check").exit_code == 1
    assert generate(project).exit_code == 0
    assert outputs(project) == truth(project, tmp_path)


@pytest.mark.parametrize("edit", ["spec", "catalog", "new spec file", "removed spec file"])
def test_any_input_change_gives_the_outputs_of_an_uncached_run(project, tmp_path, edit):
    assert generate(project).exit_code == 0
    slos = project / "slos"
    if edit == "spec":
        spec = slos / "support-chatbot.yaml"
        spec.write_text(spec.read_text(encoding="utf-8").replace("objective: 99.5", "objective: 99.6", 1),
                        encoding="utf-8")
    elif edit == "catalog":
        cat = slos / "catalog.yaml"
        # The rule tests' synthetic series take the first catalog value of each label.
        cat.write_text(cat.read_text(encoding="utf-8").replace("values: [simulated, openai, anthropic, other]",
                                                               "values: [openai, simulated, anthropic, other]"),
                       encoding="utf-8")
    elif edit == "new spec file":
        text = (slos / "rag-assistant.yaml").read_text(encoding="utf-8")
        (slos / "rag-copy.yaml").write_text(text.replace("service: rag-assistant", "service: rag-copy"),
                                            encoding="utf-8")
    else:
        (slos / "rag-assistant.yaml").unlink()
    before = outputs(project)
    assert generate(project).exit_code == 0
    after = outputs(project)
    assert after != before
    assert after == truth(project, tmp_path)
    assert generate(project, "--check").exit_code == 0


def test_an_option_change_invalidates_the_run(project, tmp_path):
    assert generate(project).exit_code == 0
    assert generate(project, "--check", "--format", "operator").exit_code == 1
    assert generate(project, "--format", "operator").exit_code == 0
    assert outputs(project) == truth(project, tmp_path, "--format", "operator")


@pytest.mark.parametrize("change", ["version", "code"])
def test_another_slokit_version_or_code_reuses_nothing(project, monkeypatch, change):
    assert generate(project).exit_code == 0
    if change == "version":
        monkeypatch.setattr(slokit, "__version__", slokit.__version__ + ".post1")
    else:
        monkeypatch.setattr(C, "code_digest", lambda: "another generator")
    rendered = []
    real = rule_tests.render_service
    monkeypatch.setattr(rule_tests, "render_service", lambda s, c, *rest: rendered.append(s.service) or real(s, c, *rest))
    assert generate(project).exit_code == 0
    assert sorted(rendered) == ["rag-assistant", "support-chatbot"]


def test_one_changed_service_renders_only_its_tests(project, tmp_path, monkeypatch):
    assert generate(project).exit_code == 0
    spec = project / "slos" / "rag-assistant.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "\n# a comment changes the file, not the plan\n",
                    encoding="utf-8")
    other = project / "slos" / "support-chatbot.yaml"
    other.write_text(other.read_text(encoding="utf-8").replace("objective: 99.5", "objective: 99.6", 1),
                     encoding="utf-8")
    rendered = []
    real = rule_tests.render_service
    monkeypatch.setattr(rule_tests, "render_service", lambda s, c, *rest: rendered.append(s.service) or real(s, c, *rest))
    assert generate(project).exit_code == 0
    assert rendered == ["support-chatbot"]
    assert outputs(project) == truth(project, tmp_path)


def test_a_damaged_entry_is_recomputed(project, tmp_path):
    assert generate(project).exit_code == 0
    cache = project / ".slokit" / "cache"
    for entry in (cache / "rule-tests").glob("*.json"):
        doc = json.loads(entry.read_text(encoding="utf-8"))
        doc["data"] = {k: v.replace("exp_samples", "exp_sample") for k, v in doc["data"].items()}
        entry.write_text(json.dumps(doc), encoding="utf-8")
    for p in (project / "alerts" / "tests").glob("*.yaml"):
        p.unlink()
    assert generate(project).exit_code == 0
    assert outputs(project) == truth(project, tmp_path)


def test_a_symlinked_cache_directory_is_not_used(project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / ".slokit").mkdir()
    (project / ".slokit" / "cache").symlink_to(elsewhere, target_is_directory=True)
    assert generate(project).exit_code == 0
    assert list(elsewhere.iterdir()) == []
    assert outputs(project) == truth(project, tmp_path)


def test_keys_cover_every_part():
    base = C.digest("a", "b")
    assert C.digest("a", "b") == base
    assert C.digest("ab", "") != base and C.digest("a", "b", "") != base

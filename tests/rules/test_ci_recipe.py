"""The CI recipe: the pre-commit hooks run by the real pre-commit on a scratch repository, and the action's
slokit steps run as written on the bundled example."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


def hook_repo(dest: Path) -> str:
    """A git repository of this worktree's tracked files as they are now (pre-commit installs from it)."""
    files = git(ROOT, "ls-files", "-z").split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / name)
    git(dest, "init", "-q")
    git(dest, "add", ".")
    git(dest, "commit", "-qm", "hooks")
    return git(dest, "rev-parse", "HEAD").strip()


def scratch(tmp: Path) -> Path:
    repo = tmp / "user"
    shutil.copytree(ROOT / "slos", repo / "slos")
    subprocess.run([str(BIN / "slokit"), "generate", "slos"], cwd=repo, check=True, capture_output=True)
    git(repo, "init", "-q")
    return repo


def test_pre_commit_hooks_pass_and_catch_a_stale_output(tmp_path):
    hooks = tmp_path / "hooks"
    rev = hook_repo(hooks)
    repo = scratch(tmp_path)
    config = {"repos": [{"repo": str(hooks), "rev": rev,
                         "hooks": [{"id": "slokit-validate"}, {"id": "slokit-generate-check"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PATH": f"{BIN}:{os.environ['PATH']}"}
    run = lambda: subprocess.run([str(BIN / "pre-commit"), "run", "--all-files"], cwd=repo, env=env,
                                 capture_output=True, text=True, timeout=1200)
    ok = run()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.search(r"slokit validate\.+Passed", ok.stdout) and re.search(r"slokit generate --check\.+Passed",
                                                                           ok.stdout)
    spec = repo / "slos" / "support-chatbot.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("objective: 99.5", "objective: 99.9", 1),
                    encoding="utf-8")
    git(repo, "add", ".")
    stale = run()
    assert stale.returncode == 1
    assert re.search(r"slokit validate\.+Passed", stale.stdout)
    assert re.search(r"slokit generate --check\.+Failed", stale.stdout)
    assert "alerts/support-chatbot.rules.yaml" in stale.stdout


def test_action_steps_pass_on_the_bundled_example(tmp_path):
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    steps = [s for s in action["runs"]["steps"] if s.get("run", "").startswith("slokit ")]
    assert [s["name"] for s in steps] == ["slokit validate", "slokit generate --check", "slokit test"]
    repo = scratch(tmp_path)
    for step in steps:
        command = step["run"].replace("${{ inputs.specs }}", action["inputs"]["specs"]["default"])
        done = subprocess.run(command, shell=True, cwd=repo, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert "::error" not in done.stdout

"""The Makefile on a machine that already has everything: no apt-get, no reinstall."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fake(bin_dir: Path, name: str, log: Path) -> None:
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\necho {name} \"$@\" >> {log}\n", encoding="utf-8")
    script.chmod(0o755)


def test_system_deps_accepts_debians_prometheus_alertmanager(tmp_path):
    # Debian installs /usr/bin/prometheus-alertmanager, never `alertmanager`.
    assert shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for name in ("apt-get", "sudo"):
        fake(bin_dir, name, log)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(["make", "-s", "system-deps"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not log.exists(), log.read_text()
    assert done.stdout.startswith("promtool, version")


def test_setup_reinstalls_only_when_pyproject_changes(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text("#!/bin/sh\n", encoding="utf-8")
    stamp = tmp_path / "venv" / ".slokit-installed"
    stamp.touch()
    past = time.time() - 3600
    os.utime(tmp_path / "pyproject.toml", (past, past))

    def plan() -> str:
        return subprocess.run(["make", "-n", "setup", "VENV=venv"], cwd=tmp_path, capture_output=True, text=True,
                              check=True, timeout=60).stdout

    assert "pip install" not in plan()
    os.utime(tmp_path / "pyproject.toml", None)
    os.utime(stamp, (past, past))
    assert "pip install -q -e '.[app,test]'" in plan()

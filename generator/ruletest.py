"""`slokit test`: run promtool's rule unit tests."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path



@dataclass(frozen=True)
class PromtoolResult:
    ok: bool
    output: str


def find_test_files(paths: list[Path]) -> list[Path]:
    """Test files under `paths`: files as given, directories by their *.yaml / *.yml (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            files.append(path)
    return list(dict.fromkeys(files))


class PromtoolMissing(Exception):
    def __str__(self) -> str:
        return ("promtool is not installed or not on PATH; hint: install Prometheus (Debian/Ubuntu: "
                "apt-get install prometheus) or run `make system-deps`")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        raise PromtoolMissing()
    return found


def run_promtool(files: list[Path]) -> PromtoolResult:
    """`promtool test rules` on every file at once; rule_files resolve relative to each test file."""
    proc = subprocess.run([promtool(), "test", "rules", *map(str, files)], capture_output=True, text=True,
                          check=False)
    return PromtoolResult(proc.returncode == 0, (proc.stdout + proc.stderr).strip() + "\n")

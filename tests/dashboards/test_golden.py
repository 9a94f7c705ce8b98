"""The committed dashboards and provisioning are what `slokit generate` writes
for the bundled example (golden files), and generation is deterministic:
byte-identical across hash seeds, locales and the order the spec files are
given in, in separate processes of the real CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from support.fixtures import slokit_argv

from .harness import EXAMPLE, REPO, example_outputs

MINE = ("dashboards/", "stack/grafana/provisioning/")


def my_outputs(outputs: dict[str, str]) -> dict[str, str]:
    return {p: t for p, t in outputs.items() if p.startswith(MINE)}


def test_committed_files_are_current() -> None:
    stale = [p for p, text in my_outputs(example_outputs()).items()
             if not (REPO / p).is_file() or (REPO / p).read_text(encoding="utf-8") != text]
    assert not stale, f"stale or missing (run `slokit generate` and commit): {stale}"


def test_golden_files_cover_every_output() -> None:
    assert len(my_outputs(example_outputs())) == 6


def _generate(out: Path, seed: str, locale: str, specs: list[str]) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "LC_ALL": locale, "LANG": locale}
    result = subprocess.run([*slokit_argv(), "generate", *specs, "--catalog", str(EXAMPLE / "catalog.yaml"),
                             "--out", str(out)], capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and str(p.relative_to(out)).startswith(MINE)}


@pytest.mark.parametrize("seed,locale,reverse", [("1", "C", False), ("4242", "C.UTF-8", True)])
def test_generation_is_byte_identical_across_processes(tmp_path: Path, seed: str, locale: str,
                                                       reverse: bool) -> None:
    specs = sorted(str(p.relative_to(REPO)) for p in EXAMPLE.glob("*.yaml") if p.name != "catalog.yaml")
    first = _generate(tmp_path / "a", "0", "C.UTF-8", specs)
    second = _generate(tmp_path / "b", seed, locale, list(reversed(specs)) if reverse else specs)
    assert first == second
    assert {p: t.decode() for p, t in first.items()} == my_outputs(example_outputs())

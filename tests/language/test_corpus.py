"""The bad-input corpus: every case fails with its exact messages and exit 1.

Each directory under corpus/cases/ holds the input files of one case and an
`expected` file with the exact stderr of `slokit validate .` run inside it
(messages with file:line:column, hints and the error count). Cases without
their own catalog.yaml use the frozen corpus/catalog.yaml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from slokit.cli import main

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p for p in (CORPUS / "cases").iterdir() if p.is_dir())


def validate_args(case: Path) -> list[str]:
    args = ["validate", "."]
    if not (case / "catalog.yaml").exists():
        args += ["--catalog", "../../catalog.yaml"]
    return args


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


def test_shared_catalog_is_valid(monkeypatch):
    monkeypatch.chdir(CORPUS)
    good = CORPUS / "cases" / "unknown-metric" / "spec.yaml"
    result = CliRunner().invoke(main, ["validate", str(good), "--catalog", "catalog.yaml"])
    # Only the deliberate mistake of that case is reported: the catalog itself is clean.
    assert result.exit_code == 1
    assert result.stderr.count("catalog.yaml") == 0
    assert result.stderr.endswith("1 error\n")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_fails_with_exact_messages(case: Path, monkeypatch):
    expected = (case / "expected").read_text(encoding="utf-8")
    monkeypatch.chdir(case)
    result = CliRunner().invoke(main, validate_args(case))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not a crash
    assert result.stdout == ""
    assert result.stderr == expected


@pytest.mark.parametrize("name", ["yaml-alias-bomb", "yaml-not-utf8", "raw-invalid-promql", "duplicate-service-across-files"])
def test_case_through_a_real_process(name: str):
    case = CORPUS / "cases" / name
    proc = subprocess.run([sys.executable, "-m", "slokit", *validate_args(case)], cwd=case, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr == (case / "expected").read_text(encoding="utf-8")

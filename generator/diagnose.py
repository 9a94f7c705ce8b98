"""Diagnostics for what is not a spec mistake: stale generated files and failing rule tests.

They go through the same formats as validation errors (report.py), so a CI
job annotates a stale dashboard or a failing promtool test the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

from slokit import codes as C
from slokit.errors import Diagnostic


def _first_difference(old: list[str], new: list[str]) -> int:
    for i, (a, b) in enumerate(zip(old, new)):
        if a != b:
            return i + 1
    return min(len(old), len(new)) + 1


def stale_diagnostics(root: Path, outputs: dict[str, str], changes) -> list[Diagnostic]:
    """One diagnostic per out-of-date generated file, at its first differing line."""
    diags = []
    for change in changes:
        target = root / change.path
        shown = str(target) if str(root) not in ("", ".") else change.path
        if change.kind == "added":
            diags.append(Diagnostic(shown, 1, 1, "generated file is missing",
                                    "run `slokit generate` and commit the result", C.STALE_OUTPUT))
            continue
        if change.kind == "removed":
            diags.append(Diagnostic(shown, 1, 1, "generated file is no longer produced by the specs",
                                    "run `slokit generate` (it removes the file) and commit the result",
                                    C.STALE_OUTPUT))
            continue
        try:
            old = target.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            old = []
        line = _first_difference(old, outputs.get(change.path, "").splitlines())
        diags.append(Diagnostic(shown, line, 1, "generated file is out of date (first difference on this line)",
                                "run `slokit generate` and commit the result", C.STALE_OUTPUT))
    return diags


_TEST_NAME = re.compile(r"^\s*name: (.*?),?\s*$", re.M)


def _line_of_test(text: str, name: str) -> int:
    """The line of `- name: NAME` in a test file (promtool reports names, not lines), else 1."""
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.strip().removeprefix("- ").strip()
        if stripped.startswith("name:") and stripped[5:].strip().strip("'\"").startswith(name[:60]):
            return i
    return 1


def test_failure_diagnostic(path: Path, output: str) -> Diagnostic:
    """A failed `promtool test rules` run of one file, as one diagnostic at the failing test."""
    failed = output.split("FAILED:", 1)[-1].strip() if "FAILED:" in output else output.strip()
    match = _TEST_NAME.search(failed)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    line = _line_of_test(text, match.group(1)) if match else 1
    summary = failed.splitlines()[0:12]
    return Diagnostic(str(path), line, 1, "rule test failed: " + "\n".join(s.strip() for s in summary),
                      "run `slokit test` for promtool's full report", C.RULE_TEST_FAILED)

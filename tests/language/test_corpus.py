"""The bad-input corpus: every case fails with its exact messages and exit 1.

Each directory under corpus/cases/ holds the input files of one case and an
`expected` file with the exact stderr of `slokit validate .` run inside it
(messages with file:line:column, hints and the error count); a case whose
mistake is only a warning gives `--strict` in an `args` file. Cases without
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
    # A case whose mistake is only a warning runs with the global options in its `args` file (--strict).
    options = (case / "args").read_text().split() if (case / "args").exists() else []
    args = [*options, "validate", "."]
    if not (case / "catalog.yaml").exists():
        args += ["--catalog", "../../catalog.yaml"]
    return args


# Every kind of bad input the SLO-language issue names, and the cases that cover it.
CATEGORIES = {
    "YAML syntax errors": ["yaml-bad-indentation", "yaml-unclosed-bracket", "yaml-unterminated-quote"],
    "tabs": ["yaml-tab-indentation"],
    "duplicate keys": ["yaml-duplicate-key"],
    "empty files": ["yaml-empty-file", "yaml-comments-only", "catalog-empty"],
    "non-mapping documents": ["yaml-document-is-list", "yaml-document-is-scalar", "yaml-two-documents"],
    "non-UTF-8 bytes": ["yaml-not-utf8", "yaml-utf16"],
    "alias bombs": ["yaml-alias-bomb"],
    "absurd nesting": ["yaml-deep-nesting", "yaml-deep-block-nesting"],
    "huge numbers": ["yaml-huge-integer", "yaml-huge-float"],
    "objective 0/100/negative/strings": ["objective-zero", "objective-hundred", "objective-negative",
                                         "objective-string", "objective-percent-sign", "objective-quoted-number",
                                         "objective-bool"],
    "bad windows": ["window-words", "window-seconds", "window-units-out-of-order", "window-number",
                    "window-too-long", "window-too-short", "window-too-short-for-default-tiers"],
    "unknown metric": ["unknown-metric", "raw-unknown-metric"],
    "unknown label": ["unknown-label", "budget-by-unknown-label", "scope-unknown-label"],
    "label value outside its set": ["label-value-not-allowed", "scope-value-not-allowed"],
    "threshold not a bucket": ["threshold-not-a-bucket", "threshold-above-largest-bucket",
                               "threshold-gt-not-a-bucket", "threshold-duration-not-a-bucket"],
    "threshold durations": ["threshold-duration-on-non-time-unit", "threshold-not-a-duration"],
    "regex and exclusion selectors": ["match-regex-invalid", "match-regex-lookahead", "match-regex-selects-nothing",
                                      "match-not-excludes-everything", "match-not-value-not-allowed",
                                      "match-empty-condition", "ratio-on-bucket-series"],
    "naming conventions under --strict": ["catalog-counter-without-total"],
    "dotted OpenTelemetry names": ["metric-name-dotted-otel"],
    "raw SLIs the rule tests cannot feed, under --strict": ["raw-untested-expression"],
    "names with quotes, braces, slashes or ..": ["name-with-quotes", "name-with-braces", "name-with-slashes-and-dots",
                                                 "name-with-newline", "name-with-template", "match-value-with-quote",
                                                 "metric-name-with-selector", "alert-label-name-with-quote"],
    "duplicate SLO names across files": ["duplicate-service-across-files", "duplicate-slo-name"],
    "forbidden high-cardinality label in catalog": ["catalog-forbidden-label", "catalog-forbidden-trace-id",
                                                    "catalog-forbidden-prompt"],
    "all errors of a run at once, sorted by file and line": ["many-errors-sorted"],
    # FIFOs, unreadable files, limits and manifest tampering need the file system at test time:
    # tests/language/test_hostile_files.py and tests/rules/test_write_safety.py build those cases.
    "symlinks out of the spec directory (never echoed)": ["spec-symlink-out-of-directory",
                                                         "spec-symlink-to-system-file", "spec-dangling-symlink"],
    "special files in the spec directory": ["spec-directory-named-yaml"],
    # Issue 11: user text never executes or breaks an output. Template and Markdown text is accepted (and
    # escaped where it lands: tests/rules/test_user_text.py), so those cases show only their one real mistake.
    "template text": ["template-text-runbook-url-twice", "template-text-shared-runbook-url-annotation",
                      "template-text-accepted-beside-an-error"],
    "collisions": ["collision-service-overview", "collision-service-cost", "collision-service-slokit-overview",
                   "collision-service-slokit-cost", "collision-hashed-dashboard-uid"],
    "confusables": ["confusable-label-value-zero-width", "confusable-label-value-bidi-override",
                    "confusable-label-value-cyrillic", "confusable-label-value-nbsp", "confusable-match-value-cyrillic"],
    "injection into Markdown and headers": ["markdown-injection-accepted-beside-an-error",
                                            "header-injection-in-file-name"],
}


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_category_of_bad_input_has_cases(category: str):
    names = {c.name for c in CASES}
    missing = [n for n in CATEGORIES[category] if n not in names]
    assert not missing, f"{category}: no case directory {missing}"


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
    assert "slokit-corpus-secret" not in result.stderr and "root:" not in result.stderr  # no linked content


@pytest.mark.parametrize("name", ["yaml-alias-bomb", "yaml-not-utf8", "raw-invalid-promql", "duplicate-service-across-files",
                                  "many-errors-sorted"])
def test_case_through_a_real_process(name: str):
    case = CORPUS / "cases" / name
    proc = subprocess.run([sys.executable, "-m", "slokit", *validate_args(case)], cwd=case, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr == (case / "expected").read_text(encoding="utf-8")

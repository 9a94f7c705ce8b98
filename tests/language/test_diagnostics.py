"""Stable codes, severities, --strict, the error cap and the machine formats (json, github, sarif)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from slokit import codes as C
from slokit.cli import main
from slokit.errors import MAX_COLLECTED, Diagnostic, SlokitError
from slokit.project import load_project
from slokit.report import escape_data, github_command

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p for p in (CORPUS / "cases").iterdir() if p.is_dir())


def invoke(args, cwd: Path, monkeypatch):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, args)


def example(tmp_path: Path) -> Path:
    for f in (ROOT / "slos").iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    return tmp_path


# -- codes ------------------------------------------------------------------


def test_every_code_is_documented_once():
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(SLK\d{3})` \| `([a-z-]+)` \|", doc, re.M)
    assert sorted(rows) == sorted((c.id, c.name) for c in C.CODES.values())


def test_code_names_and_ids_are_unique_and_well_formed():
    assert len({c.name for c in C.CODES.values()}) == len(C.CODES)
    assert all(re.fullmatch(r"SLK\d{3}", c) for c in C.CODES)
    constants = {v for k, v in vars(C).items() if k.isupper() and isinstance(v, str)}
    assert constants == set(C.CODES)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_corpus_case_reports_specific_codes_in_json(case: Path, monkeypatch):
    options = (case / "args").read_text().split() if (case / "args").exists() else []  # --strict
    args = [*options, "validate", ".", "--format", "json", "--max-errors", "0"]
    if not (case / "catalog.yaml").exists():
        args += ["--catalog", "../../catalog.yaml"]
    result = invoke(args, case, monkeypatch)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    diags = doc["diagnostics"]
    assert diags
    for d in diags:
        assert set(d) == {"file", "line", "column", "severity", "code", "name", "message", "hint"}
        assert d["code"] in C.CODES and d["code"] != C.INVALID, d
        assert d["name"] == C.CODES[d["code"]].name
        assert d["line"] >= 1 and d["column"] >= 1
    # The same problems as the text report of the case (its expected file ends with the count).
    count = (case / "expected").read_text(encoding="utf-8").splitlines()[-1]
    errors = sum(d["severity"] == "error" for d in diags)
    warnings = len(diags) - errors
    assert count == f"{errors} error{'s' if errors != 1 else ''}" + (
        f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
    assert doc["summary"] == {"errors": errors, "warnings": warnings, "omitted": 0}


def test_codes_tell_kinds_apart():
    def codes(case: str) -> set[str]:
        with pytest.raises(SlokitError) as info:
            case_dir = CORPUS / "cases" / case
            catalog = case_dir / "catalog.yaml"
            load_project([case_dir], catalog if catalog.exists() else CORPUS / "catalog.yaml")
        return {d.code for d in info.value.diagnostics}

    assert codes("unknown-metric") == {C.UNKNOWN_METRIC}
    assert codes("yaml-tab-indentation") == {C.YAML_SYNTAX}
    assert codes("yaml-alias-bomb") == {C.YAML_UNSUPPORTED}
    assert codes("objective-hundred") == {C.OUT_OF_RANGE}
    assert codes("duplicate-service-across-files") == {C.DUPLICATE_SERVICE}
    assert codes("catalog-forbidden-label") == {C.FORBIDDEN_LABEL}


# -- severities -------------------------------------------------------------


def tight(tmp_path: Path) -> Path:
    spec = example(tmp_path) / "support-chatbot.yaml"
    text = spec.read_text(encoding="utf-8")
    first = re.search(r"objective: [0-9.]+", text)
    spec.write_text(text[: first.start()] + "objective: 99.995" + text[first.end():], encoding="utf-8")
    return tmp_path


def test_warning_is_printed_at_its_position_and_does_not_fail(tmp_path, monkeypatch):
    result = invoke(["validate", "."], tight(tmp_path), monkeypatch)
    assert result.exit_code == 0, result.output
    assert re.search(r"^support-chatbot\.yaml:\d+:\d+: warning: objective 99\.995% over 30d leaves an error budget "
                     r"of 2m10s of full outage$", result.stderr, re.M)
    assert result.stderr.endswith("1 warning\n")
    assert result.stdout.startswith("ok: 2 services")


def test_strict_turns_warnings_into_errors(tmp_path, monkeypatch):
    result = invoke(["--strict", "validate", ".", "--format", "json"], tight(tmp_path), monkeypatch)
    assert result.exit_code == 1
    (diag,) = json.loads(result.stdout)["diagnostics"]
    assert (diag["severity"], diag["code"]) == ("error", C.TIGHT_OBJECTIVE)


def test_warnings_do_not_stop_generation(tmp_path, monkeypatch):
    result = invoke(["generate", ".", "--out", "out"], tight(tmp_path), monkeypatch)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "alerts" / "support-chatbot.rules.yaml").is_file()
    assert invoke(["--strict", "generate", ".", "--out", "out2"], tmp_path, monkeypatch).exit_code == 1
    assert not (tmp_path / "out2").exists()


# -- the cap ----------------------------------------------------------------


def many_mistakes(tmp_path: Path, entries: int) -> Path:
    (tmp_path / "catalog.yaml").write_bytes((ROOT / "slos" / "catalog.yaml").read_bytes())
    (tmp_path / "x.yaml").write_text("service: x\nowner: team-x\nslos:\n" + "- {}\n" * entries, encoding="utf-8")
    return tmp_path


def test_collecting_stops_at_the_bound_and_counts_the_rest(tmp_path):
    with pytest.raises(SlokitError) as info:
        load_project([many_mistakes(tmp_path, 2000)])
    # Each `{}` misses name, objective and sli.
    assert len(info.value.diagnostics) == MAX_COLLECTED
    assert info.value.total == 3 * 2000


def test_text_output_is_capped(tmp_path, monkeypatch):
    result = invoke(["validate", "."], many_mistakes(tmp_path, 2000), monkeypatch)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert sum(bool(re.match(r"x\.yaml:\d+:\d+: ", line)) for line in lines) == 100
    assert lines[-2:] == ["... and 5,900 more", "6,000 errors"]
    few = invoke(["validate", ".", "--max-errors", "3"], tmp_path, monkeypatch)
    assert few.stderr.splitlines()[-2:] == ["... and 5,997 more", "6,000 errors"]


# -- GitHub workflow commands -------------------------------------------------


def test_github_command_escapes_properties_and_message():
    diag = Diagnostic("dir,a:b/100%.yaml", 3, 7, "50% of it\r\nbroken, really: yes", "fix: it", C.OUT_OF_RANGE)
    assert github_command(diag) == (
        "::error file=dir%2Ca%3Ab/100%25.yaml,line=3,col=7,title=SLK104::"
        "50%25 of it%0D%0Abroken, really: yes%0Ahint: fix: it")
    warning = Diagnostic("a.yaml", 1, 1, "w", "", C.TIGHT_OBJECTIVE, "warning")
    assert github_command(warning) == "::warning file=a.yaml,line=1,col=1,title=SLK217::w"


def unescape(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def test_github_format_annotates_every_problem(monkeypatch):
    case = CORPUS / "cases" / "many-errors-sorted"
    args = ["validate", ".", "--format", "github"] + ([] if (case / "catalog.yaml").exists()
                                                     else ["--catalog", "../../catalog.yaml"])
    result = invoke(args, case, monkeypatch)
    assert result.exit_code == 1
    commands = result.stdout.splitlines()
    expected = [line for line in (case / "expected").read_text(encoding="utf-8").splitlines()
                if re.match(r"\S+:\d+:\d+: ", line)]
    assert len(commands) == len(expected)
    for command, text in zip(commands, expected):
        match = re.fullmatch(r"::error file=([^,]+),line=(\d+),col=(\d+),title=(SLK\d{3})::(.*)", command)
        assert match, command
        path, line, col, _, message = match.groups()
        assert f"{unescape(path)}:{line}:{col}: {unescape(message).splitlines()[0]}" == text
    assert escape_data(escape_data("%")) == "%2525"


# -- SARIF --------------------------------------------------------------------

# The required properties and enumerations of the parts of SARIF 2.1.0 that
# slokit writes (OASIS sarif-schema-2.1.0.json: sarifLog, run, tool,
# toolComponent, reportingDescriptor, result, message, location,
# physicalLocation, artifactLocation, region).
MESSAGE = {"type": "object", "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
           "properties": {"text": {"type": "string"}}}
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"enum": ["2.1.0"]},
        "$schema": {"type": "string"},
        "runs": {"type": "array", "items": {
            "type": "object",
            "required": ["tool"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name"], "properties": {
                        "name": {"type": "string"},
                        "rules": {"type": "array", "items": {"type": "object", "required": ["id"], "properties": {
                            "id": {"type": "string"}, "shortDescription": MESSAGE}}},
                    }}}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {
                        "ruleId": {"type": "string"},
                        "ruleIndex": {"type": "integer", "minimum": -1},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": MESSAGE,
                        "locations": {"type": "array", "items": {"type": "object", "properties": {
                            "physicalLocation": {"type": "object", "properties": {
                                "artifactLocation": {"type": "object", "properties": {
                                    "uri": {"type": "string"}, "uriBaseId": {"type": "string"}}},
                                "region": {"type": "object", "properties": {
                                    "startLine": {"type": "integer", "minimum": 1},
                                    "startColumn": {"type": "integer", "minimum": 1}}},
                            }}}}},
                    }}},
            }}},
    },
}


def test_sarif_log_has_the_required_shape(monkeypatch):
    case = CORPUS / "cases" / "many-errors-sorted"
    args = ["validate", ".", "--format", "sarif"] + ([] if (case / "catalog.yaml").exists()
                                                    else ["--catalog", "../../catalog.yaml"])
    result = invoke(args, case, monkeypatch)
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.validate(log, SARIF_SUBSET)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["results"]
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] == "error"


def test_machine_formats_print_a_document_on_success(monkeypatch):
    for fmt in ("json", "sarif"):
        result = invoke(["validate", "slos/", "--format", fmt], ROOT, monkeypatch)
        assert result.exit_code == 0
        doc = json.loads(result.stdout)
        assert doc.get("diagnostics", doc.get("runs", [{}])[0].get("results")) == []
        assert result.stderr.startswith("ok: 2 services")
    github = invoke(["validate", "slos/", "--format", "github"], ROOT, monkeypatch)
    assert github.exit_code == 0 and github.stdout == ""


def test_generate_check_reports_stale_files_as_diagnostics(tmp_path, monkeypatch):
    example(tmp_path)
    assert invoke(["generate", "."], tmp_path, monkeypatch).exit_code == 0
    rules = tmp_path / "alerts" / "support-chatbot.rules.yaml"
    lines = rules.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[9] = "# edited by hand\n"
    rules.write_text("".join(lines), encoding="utf-8")
    result = invoke(["generate", ".", "--check", "--format", "json"], tmp_path, monkeypatch)
    assert result.exit_code == 1
    (diag,) = json.loads(result.stdout)["diagnostics"]
    assert (diag["file"], diag["line"], diag["code"]) == ("alerts/support-chatbot.rules.yaml", 10, C.STALE_OUTPUT)
    assert invoke(["generate", ".", "--check", "--format", "json", "--format", "github"], tmp_path,
                  monkeypatch).exit_code == 2


def test_test_command_reports_a_failing_rule_test(tmp_path, monkeypatch):
    example(tmp_path)
    assert invoke(["generate", "."], tmp_path, monkeypatch).exit_code == 0
    test_file = tmp_path / "alerts" / "tests" / "rag-assistant.test.yaml"
    text = test_file.read_text(encoding="utf-8")
    broken = text.replace("severity: page", "severity: pager", 1)
    assert broken != text
    test_file.write_text(broken, encoding="utf-8")
    result = invoke(["test", "--format", "json"], tmp_path, monkeypatch)
    assert result.exit_code == 1, result.output
    (diag,) = json.loads(result.stdout)["diagnostics"]
    assert diag["file"] == "alerts/tests/rag-assistant.test.yaml" and diag["code"] == C.RULE_TEST_FAILED
    # At the failing test's `- name:` line (promtool names the test, not the line).
    assert test_file.read_text(encoding="utf-8").splitlines()[diag["line"] - 1].lstrip().startswith("- name: ")
    assert "alertname: " in diag["message"]

"""Printing diagnostics for people and for machines.

One list of diagnostics, four renderings:

- text: `path:line:column: message` with hints on stderr, capped at
  `max_errors` ("... and 4,213 more"), then a count;
- json: one document on stdout with every collected diagnostic;
- github: workflow commands (`::error file=...,line=...,col=...,title=CODE::message`)
  on stdout, which GitHub Actions turns into inline annotations;
- sarif: a SARIF 2.1.0 log on stdout, for code scanning.

Machine formats are capped at `max_errors` too (GitHub shows only a handful
of annotations per step anyway); every format says how many were left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from slokit import __version__
from slokit import codes as C
from slokit.errors import WARNING, Diagnostic

FORMATS = ("text", "json", "github", "sarif")
DEFAULT_MAX_ERRORS = 100
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/slokit/slokit/blob/main/docs/diagnostics.md"


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 service`, `2 services`, `1,204 errors`."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


@dataclass(frozen=True)
class Report:
    """What one run found: the diagnostics kept and how many more there were."""

    diagnostics: tuple[Diagnostic, ...]
    omitted: int = 0  # found but not kept (beyond the collection bound)

    @property
    def errors(self) -> int:
        return sum(d.severity != WARNING for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity == WARNING for d in self.diagnostics)

    def strict(self) -> "Report":
        """Warnings turned into errors (`slokit --strict`)."""
        return Report(tuple(d.as_error() for d in self.diagnostics), self.omitted)

    @property
    def failed(self) -> bool:
        return self.errors > 0 or self.omitted > 0


@dataclass(frozen=True)
class Rendered:
    stdout: str
    stderr: str


def render(report: Report, fmt: str, max_errors: int = DEFAULT_MAX_ERRORS) -> Rendered:
    shown = report.diagnostics[:max_errors] if max_errors > 0 else report.diagnostics
    left_out = len(report.diagnostics) - len(shown) + report.omitted
    if fmt == "text":
        return Rendered("", text(shown, left_out, report))
    if fmt == "json":
        return Rendered(as_json(shown, left_out, report), "")
    if fmt == "github":
        return Rendered(github(shown, left_out), "")
    if fmt == "sarif":
        return Rendered(sarif(shown, left_out), "")
    raise ValueError(f"unknown format {fmt!r}")


# --------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------


def summary(report: Report) -> str:
    total_errors = report.errors + report.omitted
    if not report.warnings:
        return plural(total_errors, "error")
    if not total_errors:
        return plural(report.warnings, "warning")
    return f"{plural(total_errors, 'error')}, {plural(report.warnings, 'warning')}"


def text(shown, left_out: int, report: Report) -> str:
    lines = [d.format() for d in shown]
    if left_out:
        lines.append(f"... and {left_out:,} more")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# json
# --------------------------------------------------------------------------


def diagnostic_dict(d: Diagnostic) -> dict:
    return {"file": d.path, "line": d.line, "column": d.column, "severity": d.severity, "code": d.code,
            "name": C.CODES[d.code].name if d.code in C.CODES else "", "message": d.message, "hint": d.hint}


def as_json(shown, left_out: int, report: Report) -> str:
    doc = {
        "version": 1,
        "tool": {"name": "slokit", "version": __version__},
        "diagnostics": [diagnostic_dict(d) for d in shown],
        "summary": {"errors": report.errors + report.omitted, "warnings": report.warnings, "omitted": left_out},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------
# GitHub workflow commands
# --------------------------------------------------------------------------


def escape_data(value: str) -> str:
    """Escape a workflow command's message (GitHub's documented escaping: %, CR, LF)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value: the message escapes plus ':' and ','."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github_command(d: Diagnostic) -> str:
    kind = "warning" if d.severity == WARNING else "error"
    props = {"file": d.path, "line": str(d.line), "col": str(d.column), "title": d.code}
    prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    return f"::{kind} {prop_text}::{escape_data(message)}"


def github(shown, left_out: int) -> str:
    lines = [github_command(d) for d in shown]
    if left_out:
        lines.append(f"::error title=slokit::{escape_data(f'... and {left_out:,} more problems not shown')}")
    return "".join(line + "\n" for line in lines)


# --------------------------------------------------------------------------
# SARIF 2.1.0
# --------------------------------------------------------------------------


def _rule(code: str) -> dict:
    known = C.CODES.get(code)
    return {"id": code, "name": known.name if known else code,
            "shortDescription": {"text": known.summary if known else code},
            "helpUri": f"{INFORMATION_URI}#{code.lower()}"}


def _result(d: Diagnostic, rule_index: int) -> dict:
    message = d.message + (f" (hint: {d.hint})" if d.hint else "")
    return {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": "warning" if d.severity == WARNING else "error",
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": d.path.replace("\\", "/"), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(1, d.line), "startColumn": max(1, d.column)},
        }}],
    }


def sarif(shown, left_out: int) -> str:
    codes = sorted({d.code for d in shown})
    index = {code: i for i, code in enumerate(codes)}
    run = {
        "tool": {"driver": {"name": "slokit", "version": __version__, "informationUri": INFORMATION_URI,
                            "rules": [_rule(code) for code in codes]}},
        "results": [_result(d, index[d.code]) for d in shown],
        "properties": {"omitted": left_out},
    }
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

"""User-facing diagnostics.

Every mistake a user can make is reported as a `Diagnostic` with a source
position, in the `path:line:column: message` form that promtool and compilers
use, so editors and CI annotate the right line. Each carries a stable code
(codes.py) and a severity: errors fail the run, warnings are reported the
same way but do not (unless `slokit --strict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from slokit import codes as C

ERROR = "error"
WARNING = "warning"

# Collecting stops here: a file of a million mistakes must not cost a million
# formatted messages. The rest is only counted (SlokitError.omitted).
MAX_COLLECTED = 1000


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    column: int
    message: str
    hint: str = field(default="", compare=False)
    code: str = field(default=C.INVALID, compare=False)
    severity: str = field(default=ERROR, compare=False)

    def format(self) -> str:
        # Errors keep the plain compiler form; warnings say so.
        label = "warning: " if self.severity == WARNING else ""
        text = f"{self.path}:{self.line}:{self.column}: {label}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_error(self) -> "Diagnostic":
        return replace(self, severity=ERROR)


def bounded(diagnostics: list[Diagnostic], omitted: int = 0) -> tuple[list[Diagnostic], int]:
    """The first MAX_COLLECTED diagnostics (sorted) and how many were dropped."""
    ordered = sorted(diagnostics)
    extra = max(0, len(ordered) - MAX_COLLECTED)
    return ordered[:MAX_COLLECTED], omitted + extra


class SlokitError(Exception):
    """Raised for any problem in user input; carries every diagnostic found (up to MAX_COLLECTED).

    `omitted` counts the diagnostics found beyond that bound, which were not
    kept. Warnings found alongside errors travel here too, so they are shown.
    """

    def __init__(self, diagnostics: list[Diagnostic], omitted: int = 0):
        self.diagnostics, self.omitted = bounded(diagnostics, omitted)
        super().__init__("\n".join(d.format() for d in self.diagnostics))

    @property
    def total(self) -> int:
        return len(self.diagnostics) + self.omitted

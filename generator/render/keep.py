"""Hand-written sections of a generated Markdown file that survive regeneration.

A team writes between two marker lines of a runbook

    <!-- slokit:keep contacts -->
    Escalate to #payments-oncall after 15 minutes.
    <!-- /slokit:keep -->

and the next `slokit generate` puts the same text back at the place the
template names `contacts`. The old file is only scanned for the marker
lines: its text is copied back verbatim (neither rendered as a template nor
escaped again, since it is the team's Markdown). A section the template no
longer places is not dropped: it is appended at the end of the file, so a
template change never loses anybody's notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NAME = r"[a-z0-9][a-z0-9._-]{0,99}"
_START = re.compile(rf"^<!-- slokit:keep ({NAME}) -->$")
END = "<!-- /slokit:keep -->"
ORPHANS_HEADING = "## Kept sections no longer placed by the template"


def start_marker(name: str) -> str:
    return f"<!-- slokit:keep {name} -->"


def valid_name(name: str) -> bool:
    return re.fullmatch(NAME, name) is not None


def kept_sections(text: str) -> dict[str, str]:
    """{name: body} of every kept section in `text`, in file order.

    A section left open runs to the end of the file (nothing a team wrote is
    lost); a second section of the same name is appended to the first.
    """
    sections: dict[str, list[str]] = {}
    name: str | None = None
    for line in text.splitlines():
        if name is None:
            match = _START.match(line.rstrip())
            if match:
                name = match.group(1)
                sections.setdefault(name, [])
            continue
        if line.rstrip() == END:
            name = None
            continue
        sections[name].append(line)
    return {n: "\n".join(body).strip("\n") for n, body in sections.items()}


@dataclass
class Keeper:
    """Places kept sections during one render and remembers which were placed."""

    old: dict[str, str]
    placed: list[str] = field(default_factory=list)

    def section(self, name: str, default: str = "") -> str:
        """The marked section `name`: the old body when there is one, else `default`."""
        if not valid_name(name):
            raise ValueError(f"kept section name {name!r} must match {NAME}")
        if name in self.placed:
            raise ValueError(f"kept section {name!r} is placed twice by the template")
        self.placed.append(name)
        body = self.old.get(name, default).strip("\n")
        return "\n".join([start_marker(name), *([body] if body else []), END])

    def orphans(self) -> str:
        """The old sections the template did not place, under one heading, or ''."""
        left = [n for n in self.old if n not in self.placed and self.old[n].strip()]
        if not left:
            return ""
        parts = [ORPHANS_HEADING, ""]
        for n in left:
            parts += [start_marker(n), self.old[n], END, ""]
        return "\n".join(parts)

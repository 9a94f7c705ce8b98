"""The plan of changes a push makes, printed the same way for every target."""

from __future__ import annotations

from dataclasses import dataclass

CREATE, UPDATE, DELETE, UNCHANGED = "create", "update", "delete", "unchanged"
DONE = {CREATE: "created", UPDATE: "updated", DELETE: "deleted", UNCHANGED: "unchanged"}
PLANNED = {CREATE: "would create", UPDATE: "would update", DELETE: "would delete", UNCHANGED: "unchanged"}


@dataclass(frozen=True)
class Change:
    action: str  # create | update | delete | unchanged
    kind: str  # folder | dashboard | rule group
    name: str
    where: str = ""  # folder or namespace

    def line(self, dry_run: bool) -> str:
        verb = (PLANNED if dry_run else DONE)[self.action]
        where = f" in {self.where}" if self.where else ""
        return f"{verb:<13} {self.kind} {self.name}{where}"


class PushError(Exception):
    """A push that cannot go on: the message says what failed and what to do."""


def summary(changes: list[Change], dry_run: bool) -> str:
    counts = ", ".join(f"{sum(c.action == a for c in changes)} {(PLANNED if dry_run else DONE)[a]}"
                       for a in (CREATE, UPDATE, DELETE, UNCHANGED))
    return ("dry run, nothing changed: " if dry_run else "") + counts

"""Semantic checks across files: references into the catalog, uniqueness, bounds.

All problems are collected and returned at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slokit.errors import Diagnostic

if TYPE_CHECKING:
    from slokit.project import Project


def validate_project(project: "Project") -> list[Diagnostic]:
    return []

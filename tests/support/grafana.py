"""Grafana dashboard JSON -> the PromQL a browser would send.

`dashboard_queries(path)` walks every panel (rows included) and annotation
of a dashboard and yields its queries; `expand(expr, ...)` substitutes
Grafana's template variables the way Grafana does for the default view
("All" selected: a variable's `allValue`, else a regex of nothing in
particular) and its built-in interval variables.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")


@dataclass(frozen=True)
class Query:
    dashboard: str   # uid
    where: str       # panel title / annotation name, with its id
    datasource: str  # datasource uid as written (e.g. "${datasource}", "tempo")
    expr: str        # as written in the dashboard
    instant: bool = False  # Grafana runs an instant query (else a range query over the time picker's range)

    @property
    def is_prometheus(self) -> bool:
        return self.datasource not in ("tempo", "alertmanager", "-- Grafana --")


def _ds_uid(ds: Any) -> str:
    if isinstance(ds, dict):
        return str(ds.get("uid", ""))
    return str(ds or "")


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_queries(path: Path) -> list[Query]:
    board = json.loads(path.read_text())
    uid = board["uid"]
    queries = []
    for panel in _panels(board.get("panels", [])):
        for target in panel.get("targets", []):
            expr = target.get("expr") or target.get("query")
            if expr:
                ds = _ds_uid(target.get("datasource") or panel.get("datasource"))
                queries.append(Query(uid, f"panel {panel.get('id')} {panel.get('title', '')!r}", ds, expr,
                                     bool(target.get("instant")) and not target.get("range")))
    for annotation in board.get("annotations", {}).get("list", []):
        expr = annotation.get("expr")
        if expr:
            queries.append(Query(uid, f"annotation {annotation.get('name')!r}", _ds_uid(annotation.get("datasource")),
                                 expr))
    return queries


def template_defaults(path: Path) -> dict[str, str]:
    """Variable name -> the value Grafana substitutes with "All" selected."""
    board = json.loads(path.read_text())
    values = {}
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") == "datasource":
            values[variable["name"]] = "prometheus"
        elif variable.get("includeAll"):
            values[variable["name"]] = variable.get("allValue") or ".*"
        else:
            current = variable.get("current", {}).get("value")
            values[variable["name"]] = current[0] if isinstance(current, list) else str(current or "")
    return values


def expand(expr: str, variables: dict[str, str], *, rate_interval: str, interval: str, range_: str) -> str:
    """Substitute `$var`, `${var}`, `${var:fmt}`, `[[var]]` and the built-ins
    `$__rate_interval`, `$__interval`, `$__range` (and their `_s`/`_ms`
    forms are left alone: a test that needs them should add them)."""
    builtins = {"__rate_interval": rate_interval, "__interval": interval, "__range": range_}

    def sub(match: re.Match) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name in builtins:
            return builtins[name]
        if name in variables:
            return variables[name]
        if name.isdigit():
            # label_replace's capture group ($1): Grafana leaves names it does not know as written.
            return match.group(0)
        raise KeyError(f"unknown dashboard variable ${name} in {expr!r}")

    return _VARIABLE.sub(sub, expr)

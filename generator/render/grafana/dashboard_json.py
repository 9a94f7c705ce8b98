"""A thin layer over grafanalib that emits Grafana's current dashboard model.

Dashboards are described with the small frozen dataclasses below (what slokit
needs: time series, stats, tables, state timelines, text, rows, variables,
annotations, links). `render_dashboard` lays them out, builds grafanalib
objects and then modernises grafanalib's output, because grafanalib 0.7.1
writes the Grafana 6/7-era model:

- `schemaVersion` 12 (Grafana would migrate the JSON on every load);
- legacy keys (`__inputs`, `rows`, `hideControls`, `sharedCrosshair`, `style`,
  panel `span`/`height`/`minSpan`/`error`/`editable`, target
  `metric`/`step`/`target`/`query`/`intervalFactor`, ...) and many nulls;
- datasources as plain names, no `exemplar` on targets;
- threshold steps with graph-era fields (`op`, `yaxis`, `line`, `index`) and
  the base step as the *string* "null".

This is the only module that imports grafanalib: swapping the builder (for
grafana-foundation-sdk, see docs in the issue note) touches nothing else.
Output is deterministic and stable: grid positions follow declaration order,
panel ids are derived from each panel's row and title (see `stable_ids`), so
adding or removing a panel renumbers no other; JSON keys are sorted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import grafanalib.core as G
from grafanalib._gen import DashboardEncoder

from slokit import naming
from slokit.render.common import dump_json

SCHEMA_VERSION = 41
GRID_WIDTH = 24
ROW_HEIGHT = 1

PROMETHEUS_TYPE = "prometheus"
TEMPO_TYPE = "tempo"
# Every Prometheus query goes through the dashboard's datasource variable, so
# the same file works with any Prometheus-compatible datasource (Mimir,
# Thanos) picked at view time.
DATASOURCE_VARIABLE = "datasource"


# --------------------------------------------------------------------------
# The description of a dashboard
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasourceRef:
    type: str
    uid: str

    def as_json(self) -> dict[str, str]:
        return {"type": self.type, "uid": self.uid}


PROMETHEUS = DatasourceRef(PROMETHEUS_TYPE, "${" + DATASOURCE_VARIABLE + "}")


@dataclass(frozen=True)
class PromQuery:
    """A Prometheus target. `exemplar` asks Grafana to fetch exemplars (histograms)."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False
    exemplar: bool = False
    # Minimum step, e.g. "1d" for a bar per day.
    interval: str = ""


@dataclass(frozen=True)
class TraceQuery:
    """A Tempo TraceQL search."""

    traceql: str
    limit: int = 20
    spans_per_span_set: int = 3


Query = PromQuery | TraceQuery


@dataclass(frozen=True)
class Step:
    """A threshold step: from `value` up (None is the base step) use `color`."""

    value: float | None
    color: str


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    new_tab: bool = False


@dataclass(frozen=True)
class ValueText:
    """Value mapping: show `text` in `color` for the exact numeric `value`."""

    value: int
    text: str
    color: str


@dataclass(frozen=True)
class Override:
    """Field override: for the fields matched, set properties {id: value}."""

    matcher: str  # byName | byFrameRefID | byRegexp
    match: str
    properties: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Panel:
    kind: str  # timeseries | stat | table | state-timeline | text | traces-table
    title: str
    description: str
    unit: str = "none"
    queries: tuple[Query, ...] = ()
    width: int = 12
    height: int = 8
    steps: tuple[Step, ...] = ()
    # timeseries: draw the threshold steps as lines ("line", "dashed") or not ("off").
    threshold_style: str = "off"
    stacked: bool = False
    bars: bool = False
    min: float | None = None
    max: float | None = None
    soft_max: float | None = None
    decimals: int | None = None
    links: tuple[Link, ...] = ()
    mappings: tuple[ValueText, ...] = ()
    overrides: tuple[Override, ...] = ()
    # stat: how a series becomes one value; table: the reduce used for time series.
    reduce: str = "lastNotNull"
    color_background: bool = False
    legend_calcs: tuple[str, ...] = ()
    # table: join the instant queries into one row per label set.
    merge: bool = False
    hide_columns: tuple[str, ...] = ()
    # table: initial sort, (column display name, descending).
    sort_by: tuple[tuple[str, bool], ...] = ()
    content: str = ""  # text panels (markdown)
    # Relative time override, e.g. "7d" for a week of daily bars on a 24h dashboard.
    time_from: str | None = None
    # A key others link to (naming.panel_id gives its id); by default row and title.
    key: str = ""


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]
    collapsed: bool = False
    # Grafana repeats the row (and its panels) once per selected value of this variable.
    repeat: str | None = None


@dataclass(frozen=True)
class Variable:
    """A template variable. kind: datasource | query | constant."""

    name: str
    label: str
    kind: str
    query: str
    description: str = ""
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None
    hidden: bool = False
    current: str | None = None


@dataclass(frozen=True)
class Annotation:
    """A Prometheus annotation query: an event wherever `expr` has a sample."""

    name: str
    expr: str
    title: str
    text: str
    tags: tuple[str, ...]
    color: str
    step: str = "1m"


@dataclass(frozen=True)
class DashboardLink:
    title: str
    url: str = ""
    tags: tuple[str, ...] = ()  # a "dashboards" link (by tag) when url is empty


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    rows: tuple[Row, ...]
    variables: tuple[Variable, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    links: tuple[DashboardLink, ...] = ()
    time_from: str = "now-6h"
    refresh: str = "1m"


# --------------------------------------------------------------------------
# Layout: stable ids and grid positions, in declaration order
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    panel: Panel
    id: int
    x: int
    y: int


@dataclass(frozen=True)
class PlacedRow:
    row: Row
    id: int
    y: int
    panels: tuple[Placed, ...]


# Panel ids live in one namespace per dashboard and end up in URLs
# (`viewPanel=`), so they must not move when other panels come and go. An id
# is a hash of the panel's key (row title + panel title) into 2^31 - 1 values
# (Grafana stores ids as int64, its frontend as a JS number; 2^31 stays safe
# in both). A collision (about 1 in 10^5 for 300 panels) is resolved by
# probing upwards, keys taken in sorted order, so the result depends only on
# the set of keys in this dashboard, never on declaration order.
ID_SPACE = naming.PANEL_ID_SPACE


def _hash_id(key: str) -> int:
    return naming.panel_id(key) if ID_SPACE == naming.PANEL_ID_SPACE else naming.panel_id(key) % ID_SPACE + 1


def stable_ids(keys: list[str], pinned: frozenset[str] = frozenset()) -> dict[str, int]:
    """{key: id}, unique; a key's id depends only on the set of keys. Pinned keys (linked to from
    alerts) are placed first and must get their own hash."""
    ids: dict[str, int] = {}
    used: set[int] = set()
    for key in sorted(set(keys), key=lambda k: (k not in pinned, k)):
        candidate = _hash_id(key)
        if key in pinned and candidate in used:
            raise ValueError(f"panel keys collide on id {candidate}: {key!r}")
        while candidate in used:
            candidate = candidate % ID_SPACE + 1
        ids[key] = candidate
        used.add(candidate)
    return ids


def _keys(rows: tuple[Row, ...]) -> list[tuple[str, list[str]]]:
    """A key per row and per panel: titles, numbered when a title repeats (in order) within its scope."""
    seen: dict[str, int] = {}

    def unique(key: str) -> str:
        seen[key] = seen.get(key, 0) + 1
        return key if seen[key] == 1 else f"{key}#{seen[key]}"

    out = []
    for row in rows:
        row_key = unique(f"row\x00{row.title}")
        out.append((row_key, [p.key or unique(f"{row_key}\x00{p.title}") for p in row.panels]))
    return out


def layout(rows: tuple[Row, ...]) -> tuple[PlacedRow, ...]:
    """Rows stacked top to bottom; panels fill each row left to right and wrap."""
    keys = _keys(rows)
    pinned = frozenset(p.key for row in rows for p in row.panels if p.key)
    ids = stable_ids([k for row_key, panel_keys in keys for k in (row_key, *panel_keys)], pinned)
    placed: list[PlacedRow] = []
    y = 0
    for row, (row_key, panel_keys) in zip(rows, keys):
        row_y = y
        y += ROW_HEIGHT
        x, line_height, panels = 0, 0, []
        for panel, key in zip(row.panels, panel_keys):
            if not 1 <= panel.width <= GRID_WIDTH:
                raise ValueError(f"panel {panel.title!r}: width {panel.width} outside 1..{GRID_WIDTH}")
            if x + panel.width > GRID_WIDTH:
                x, y, line_height = 0, y + line_height, 0
            panels.append(Placed(panel, ids[key], x, y))
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
        placed.append(PlacedRow(row, ids[row_key], row_y, tuple(panels)))
    return tuple(placed)


# --------------------------------------------------------------------------
# Building grafanalib objects
# --------------------------------------------------------------------------

REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _ref_id(i: int) -> str:
    return REF_IDS[i] if i < len(REF_IDS) else f"Q{i}"


def _steps(steps: tuple[Step, ...]) -> list[dict[str, Any]]:
    base = [Step(None, "green")] if not steps or steps[0].value is not None else []
    return [{"color": s.color, "value": s.value} for s in base + list(steps)]


def _datasource_of(panel: Panel) -> DatasourceRef:
    kinds = {type(q) for q in panel.queries}
    if len(kinds) > 1:
        raise ValueError(f"panel {panel.title!r} mixes Prometheus and Tempo queries")
    if kinds == {TraceQuery}:
        from slokit import naming

        return DatasourceRef(TEMPO_TYPE, naming.DATASOURCE_TEMPO_UID)
    return PROMETHEUS


def _target(query: Query, ref_id: str, ds: DatasourceRef) -> dict[str, Any]:
    if isinstance(query, TraceQuery):
        return {"datasource": ds.as_json(), "refId": ref_id, "queryType": "traceql", "query": query.traceql,
                "limit": query.limit, "spss": query.spans_per_span_set, "tableType": "traces", "filters": []}
    target = G.Target(expr=query.expr, legendFormat=query.legend, refId=ref_id, instant=query.instant,
                      format=G.TABLE_TARGET_FORMAT if query.table else G.TIME_SERIES_TARGET_FORMAT,
                      interval=query.interval, datasource=ds.as_json()).to_json_data()
    target["range"] = not query.instant
    target["exemplar"] = query.exemplar
    target["editorMode"] = "code"
    return target


def _mappings(panel: Panel) -> list[dict[str, Any]]:
    if not panel.mappings:
        return []
    options = {str(m.value): {"text": m.text, "color": m.color, "index": i} for i, m in enumerate(panel.mappings)}
    return [{"type": "value", "options": options}]


def _overrides(panel: Panel) -> list[dict[str, Any]]:
    return [{"matcher": {"id": o.matcher, "options": o.match},
             "properties": [{"id": k, "value": v} for k, v in o.properties]} for o in panel.overrides]


def _field_defaults(panel: Panel) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit, "thresholds": {"mode": "absolute", "steps": _steps(panel.steps)},
                                "mappings": _mappings(panel), "links": []}
    for key, value in (("min", panel.min), ("max", panel.max), ("decimals", panel.decimals)):
        if value is not None:
            defaults[key] = value
    return defaults


def _base_kwargs(placed: Placed) -> dict[str, Any]:
    panel = placed.panel
    ds = _datasource_of(panel)
    return {
        "title": panel.title,
        "description": panel.description,
        "dataSource": ds.as_json(),
        "targets": [_target(q, _ref_id(i), ds) for i, q in enumerate(panel.queries)],
        "gridPos": G.GridPos(h=panel.height, w=panel.width, x=placed.x, y=placed.y),
        "id": placed.id,
        "links": [{"title": link.title, "url": link.url, "targetBlank": link.new_tab} for link in panel.links],
        "timeFrom": panel.time_from,
    }


def _timeseries(placed: Placed) -> G.Panel:
    panel = placed.panel
    custom: dict[str, Any] = {}
    if panel.soft_max is not None:
        custom["axisSoftMax"] = panel.soft_max
    extra = {"fieldConfig": {"defaults": {**_field_defaults(panel), "custom": custom}}}
    return G.TimeSeries(
        **_base_kwargs(placed),
        unit=panel.unit,
        drawStyle="bars" if panel.bars else "line",
        fillOpacity=80 if panel.bars else (60 if panel.stacked else 10),
        stacking={"mode": "normal", "group": "A"} if panel.stacked else {"mode": "none", "group": "A"},
        thresholdsStyleMode=panel.threshold_style,
        legendCalcs=list(panel.legend_calcs),
        legendDisplayMode="table" if panel.legend_calcs else "list",
        tooltipMode="multi",
        overrides=_overrides(panel),
        extraJson=extra,
    )


def _stat(placed: Placed) -> G.Panel:
    panel = placed.panel
    return G.Stat(
        **_base_kwargs(placed),
        format=panel.unit,
        reduceCalc=panel.reduce,
        colorMode="background" if panel.color_background else "value",
        graphMode="none",
        textMode="value_and_name",
        overrides=_overrides(panel),
        extraJson={"fieldConfig": {"defaults": _field_defaults(panel)},
                   "options": {"wideLayout": True, "showPercentChange": False}},
    )


def _table(placed: Placed) -> G.Panel:
    panel = placed.panel
    transformations: list[dict[str, Any]] = []
    if panel.merge:
        transformations.append({"id": "merge", "options": {}})
    hidden = {name: True for name in ("Time", *panel.hide_columns)}
    transformations.append({"id": "organize", "options": {"excludeByName": hidden, "renameByName": {}}})
    return G.Table(
        **_base_kwargs(placed),
        unit=panel.unit,
        overrides=_overrides(panel),
        transformations=transformations,
        extraJson={"fieldConfig": {"defaults": {**_field_defaults(panel),
                                                "custom": {"align": "auto", "cellOptions": {"type": "color-text"}}}},
                   "options": {"showHeader": True, "cellHeight": "sm",
                               "footer": {"show": False, "reducer": ["sum"], "countRows": False},
                               **({"sortBy": [{"displayName": name, "desc": desc} for name, desc in panel.sort_by]}
                                  if panel.sort_by else {})}},
    )


def _state_timeline(placed: Placed) -> G.Panel:
    panel = placed.panel
    return G.StateTimeline(
        **_base_kwargs(placed),
        colorMode="palette-classic",
        mergeValues=True,
        showValue="never",
        overrides=_overrides(panel),
        extraJson={"fieldConfig": {"defaults": _field_defaults(panel)}},
    )


def _text(placed: Placed) -> G.Panel:
    panel = placed.panel
    kwargs = _base_kwargs(placed)
    kwargs.pop("targets")
    kwargs.pop("dataSource")
    return G.Text(**kwargs, content=panel.content,
                  extraJson={"fieldConfig": {"defaults": _field_defaults(panel)},
                             "options": {"code": {"language": "plaintext", "showLineNumbers": False,
                                                  "showMiniMap": False}}})


def _traces_table(placed: Placed) -> G.Panel:
    # A table panel fed by a Tempo search lists traces; each trace id links to the trace view.
    panel = placed.panel
    return G.Table(
        **_base_kwargs(placed),
        unit=panel.unit,
        extraJson={"fieldConfig": {"defaults": {**_field_defaults(panel),
                                                "custom": {"align": "auto", "cellOptions": {"type": "auto"}}}},
                   "options": {"showHeader": True, "cellHeight": "sm",
                               "footer": {"show": False, "reducer": ["sum"], "countRows": False}}},
    )


_BUILDERS = {
    "timeseries": _timeseries,
    "stat": _stat,
    "table": _table,
    "state-timeline": _state_timeline,
    "text": _text,
    "traces-table": _traces_table,
}


def _variable(v: Variable) -> G.Template:
    if v.kind == "datasource":
        return G.Template(name=v.name, label=v.label, type="datasource", query=v.query, default=v.current,
                          hide=G.HIDE_VARIABLE if v.hidden else G.SHOW, refresh=G.REFRESH_ON_DASHBOARD_LOAD,
                          regex="")
    if v.kind == "constant":
        return G.Template(name=v.name, label=v.label, type="constant", query=v.query, default=v.query,
                          hide=G.HIDE_VARIABLE)
    return G.Template(name=v.name, label=v.label, type="query", query=v.query, dataSource=PROMETHEUS.as_json(),
                      multi=v.multi, includeAll=v.include_all, allValue=v.all_value,
                      default=v.current, refresh=G.REFRESH_ON_TIME_RANGE_CHANGE, sort=G.SORT_ALPHA_ASC, regex="",
                      hide=G.HIDE_VARIABLE if v.hidden else G.SHOW)


def _annotation(a: Annotation) -> dict[str, Any]:
    return {"name": a.name, "datasource": PROMETHEUS.as_json(), "enable": True, "hide": False,
            "iconColor": a.color, "expr": a.expr, "step": a.step, "titleFormat": a.title, "textFormat": a.text,
            "tagKeys": ",".join(a.tags), "useValueForTime": False}


def _builtin_annotation() -> dict[str, Any]:
    # Grafana adds this entry to every dashboard; writing it keeps the file
    # identical to what Grafana would save.
    return {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}


def _dashboard_link(link: DashboardLink) -> G.DashboardLink:
    if link.url:
        return G.DashboardLink(title=link.title, type="link", uri=link.url, keepTime=True, includeVars=False,
                               icon="dashboard", tooltip=link.title)
    return G.DashboardLink(title=link.title, type="dashboards", tags=list(link.tags), asDropdown=True,
                           keepTime=True, includeVars=False)


def build(dashboard: Dashboard) -> G.Dashboard:
    """The grafanalib object tree (legacy shapes included; see `modernise`)."""
    panels: list[G.Panel] = []
    for prow in layout(dashboard.rows):
        built = [_BUILDERS[p.panel.kind](p) for p in prow.panels]
        repeat = G.Repeat(variable=prow.row.repeat) if prow.row.repeat else G.Repeat()
        row = G.RowPanel(title=prow.row.title, id=prow.id, collapsed=prow.row.collapsed, repeat=repeat,
                         gridPos=G.GridPos(h=ROW_HEIGHT, w=GRID_WIDTH, x=0, y=prow.y),
                         panels=built if prow.row.collapsed else [])
        panels.append(row)
        if not prow.row.collapsed:
            panels.extend(built)
    return G.Dashboard(
        title=dashboard.title, uid=dashboard.uid, description=dashboard.description, tags=list(dashboard.tags),
        panels=panels, editable=True, graphTooltip=G.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        templating=G.Templating(list=[_variable(v) for v in dashboard.variables]),
        annotations=G.Annotations(list=[_builtin_annotation()] + [_annotation(a) for a in dashboard.annotations]),
        links=[_dashboard_link(link) for link in dashboard.links],
        time=G.Time(dashboard.time_from, "now"), refresh=dashboard.refresh, timezone="browser",
    )


# --------------------------------------------------------------------------
# Modernising grafanalib's JSON
# --------------------------------------------------------------------------

# Keys of the Grafana 6-era model that the current model (schemaVersion 41)
# does not have; Grafana ignores or migrates them, file provisioning breaks on
# `__inputs`.
ALL = "$__all"
LEGACY_DASHBOARD_KEYS = frozenset({"__inputs", "rows", "hideControls", "sharedCrosshair", "style", "gnetId", "id"})
LEGACY_PANEL_KEYS = frozenset({"span", "height", "minSpan", "error", "editable", "cacheTimeout", "thresholds",
                               "thresholdType", "columns", "fontSize", "mappings", "color"})
LEGACY_TARGET_KEYS = frozenset({"metric", "step", "target", "query", "intervalFactor", "hide"})
LEGACY_VARIABLE_KEYS = frozenset({"useTags", "tagsQuery", "tagValuesQuery", "auto", "auto_min", "auto_count"})
LEGACY_TIMEPICKER_KEYS = frozenset({"time_options", "nowDelay"})


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _modern_target(target: dict[str, Any]) -> dict[str, Any]:
    if target.get("queryType") == "traceql":
        return target
    return {k: v for k, v in target.items() if k not in LEGACY_TARGET_KEYS and not (k == "interval" and v == "")}


def _modern_panel(panel: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in panel.items() if k not in LEGACY_PANEL_KEYS}
    out["targets"] = [_modern_target(t) for t in panel.get("targets", [])]
    if out.get("type") == "row":
        # Rows hold no queries, links or field config in the current model.
        for key in ("targets", "links", "fieldConfig", "transformations", "maxDataPoints", "hideTimeOverride",
                    "transparent", "description", "datasource", "repeatDirection"):
            out.pop(key, None)
        out["panels"] = [_modern_panel(p) for p in panel.get("panels", [])]
    else:
        # grafanalib repeats for every panel: no repeat, 100 points, no override.
        out.pop("repeatDirection", None)
        out.pop("maxDataPoints", None)
        if out.get("type") == "text":
            out.pop("targets", None)
    if "fieldConfig" in out:
        defaults = out["fieldConfig"]["defaults"]
        # Stat writes `color: null`; the current model wants a mode.
        defaults.setdefault("color", {"mode": "thresholds"})
        defaults.pop("noValue", None)
        # Tables: `displayMode` was replaced by `cellOptions` (Grafana 10).
        defaults.get("custom", {}).pop("displayMode", None)
        for step in defaults.get("thresholds", {}).get("steps", []):
            # The base step's value is null in the model (nulls were dropped above).
            step.setdefault("value", None)
    return out


def _modern_variable(variable: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in variable.items() if k not in LEGACY_VARIABLE_KEYS}
    current = out.get("current") or {}
    current.pop("tags", None)
    if not current.get("value"):
        out.pop("current", None)
    elif current["value"] == ALL:
        # How Grafana stores "All" selected on a multi-value variable.
        out["current"] = {"selected": True, "text": ["All"], "value": [ALL]} if out.get("multi") else \
            {"selected": True, "text": "All", "value": ALL}
    if out.get("type") == "query":
        out["definition"] = out["query"]
    return out


def modernise(data: dict[str, Any]) -> dict[str, Any]:
    """grafanalib's JSON turned into the current dashboard model."""
    data = _drop_nulls(data)
    out = {k: v for k, v in data.items() if k not in LEGACY_DASHBOARD_KEYS}
    out["schemaVersion"] = SCHEMA_VERSION
    out["panels"] = [_modern_panel(p) for p in data["panels"]]
    out["templating"] = {"list": [_modern_variable(v) for v in data["templating"]["list"]]}
    out["timepicker"] = {k: v for k, v in data["timepicker"].items() if k not in LEGACY_TIMEPICKER_KEYS}
    out["fiscalYearStartMonth"] = 0
    out["liveNow"] = False
    out["weekStart"] = ""
    return out


def to_json(dashboard: Dashboard) -> dict[str, Any]:
    """The dashboard as plain JSON data in the current Grafana model."""
    raw = json.loads(json.dumps(build(dashboard).to_json_data(), cls=DashboardEncoder))
    return modernise(raw)


def render_dashboard(dashboard: Dashboard) -> str:
    return dump_json(to_json(dashboard))

"""Import OpenSLO v1 documents: SLO, SLI, AlertPolicy, AlertCondition, DataSource (and Service,
AlertNotificationTarget), inline or referenced by name, several per file.

What maps, and how:
- an SLO's `spec.service` is the slokit service; each objective becomes one slokit SLO (one
  objective keeps the SLO's name; several get `<name>-<displayName or index>`);
- `target` (a ratio) and `targetPercent` become the percent objective; `timeWindow[0].duration`
  the window (M = 30d, Q = 90d, Y = 365d; calendar windows become rolling ones, with a warning);
- a `ratioMetric` with Prometheus queries: plain counter selectors (`sum(x_total{...})`) and plain
  `rate(x[{{.window}}])` become a typed ratio SLI, anything else a raw SLI over the query's rate;
  `raw` + `rawType` (a precomputed ratio) a raw `error_ratio`;
- a `thresholdMetric` on a histogram selector becomes a threshold SLI (op lte/lt -> le, gte/gt ->
  gt) with `value` as a bucket; on any other query a raw SLI counting good 1-minute slices;
- AlertConditions of kind burnrate become tiers: `threshold` x `lookbackWindow` is the share of the
  window's budget (budget_percent), `lookbackWindow` the long window; the severity word decides page
  or ticket and is kept as the severity label's value; notification targets become a
  `notification_target` alert label (as the OpenSLO README suggests for Prometheus).
Budgeting methods other than Occurrences, time slices, `alertAfter`, composite weights and data
source connection details cannot be carried over and are reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from slokit.importers.common import (
    CatalogBuilder,
    Query,
    Typed,
    Warnings,
    analyse,
    go_window,
    label_name,
    label_value_ok,
    reserved_label,
    slug,
    unfireable_severities,
)
from slokit.load import PathKey, Source

API = "openslo/v1"
KINDS = ("SLO", "SLI", "AlertPolicy", "AlertCondition", "DataSource", "Service", "AlertNotificationTarget")
SHORTHAND = re.compile(r"^([0-9]+)([mhdwMQY])$")
LONG_UNITS = {"M": 30, "Q": 90, "Y": 365}  # days
PAGE_WORDS = {"page", "critical", "sev1", "sev-1", "p1", "high", "urgent", "emergency", "fatal"}
# OpenSLO Prometheus queries read counters without a range; slokit rates them itself.
SLICE = "1m"


@dataclass
class Service:
    name: str
    source: str
    owner: str | None = None
    description: str = ""
    slos: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Doc:
    """One OpenSLO object and where it was written (a top-level document or inline inside another)."""

    source: Source
    path: PathKey
    data: dict

    @property
    def name(self) -> str:
        meta = self.data.get("metadata") or {}
        return str(meta.get("name", "")) if isinstance(meta, dict) else ""

    @property
    def spec(self) -> dict:
        spec = self.data.get("spec")
        return spec if isinstance(spec, dict) else {}

    def at(self, *keys) -> PathKey:
        return self.path + tuple(keys)


@dataclass
class OpenSLOImport:
    services: dict[str, Service] = field(default_factory=dict)
    catalog: CatalogBuilder = field(default_factory=CatalogBuilder)
    warnings: Warnings = field(default_factory=Warnings)
    sources: list[str] = field(default_factory=list)
    objects: dict[tuple[str, str], Doc] = field(default_factory=dict)

    def warn(self, doc: Doc, path: PathKey, message: str, hint: str = "") -> None:
        self.warnings.add(doc.source, path, message, hint)

    def ref(self, kind: str, name: str) -> Doc | None:
        return self.objects.get((kind, name))


def import_documents(documents: list[Source]) -> OpenSLOImport:
    out = OpenSLOImport()
    docs: list[Doc] = []
    for source in documents:
        if source.path not in out.sources:
            out.sources.append(source.path)
        data = source.data if isinstance(source.data, dict) else {}
        doc = Doc(source, (), data)
        kind, api = data.get("kind"), data.get("apiVersion")
        if api != API or kind not in KINDS:
            hint = ("v1alpha and v2alpha documents have other shapes; convert them to openslo/v1"
                    if str(api).startswith("openslo/") else "Sloth files are read by `slokit import sloth`")
            out.warn(doc, (), f"{kind or 'this document'} ({api}) is not an OpenSLO v1 object; skipped", hint)
            continue
        if (kind, doc.name) in out.objects:
            out.warn(doc, ("metadata", "name"), f"{kind} {doc.name!r} is defined twice; the first one is used")
            continue
        out.objects[(kind, doc.name)] = doc
        docs.append(doc)
    for doc in docs:
        kind = doc.data["kind"]
        if kind == "SLO":
            _slo(out, doc)
        elif kind == "DataSource":
            _datasource(out, doc)
    for doc in docs:
        if doc.data["kind"] == "Service":
            service = out.services.get(slug(doc.name))
            if service is not None and doc.spec.get("description"):
                service.description = str(doc.spec["description"])[:2000]
    return out


def _datasource(out: OpenSLOImport, doc: Doc) -> None:
    if str(doc.spec.get("type", "")).lower() != "prometheus":
        out.warn(doc, doc.at("spec", "type"), f"DataSource {doc.name!r} is of type {doc.spec.get('type')!r}; "
                 "slokit reads Prometheus only, so SLOs using it are skipped")
    elif doc.spec.get("connectionDetails"):
        out.warn(doc, doc.at("spec", "connectionDetails"), "connection details are not part of a slokit spec; "
                 "point Prometheus at the source instead")


# --------------------------------------------------------------------------
# SLOs
# --------------------------------------------------------------------------


def _slo(out: OpenSLOImport, doc: Doc) -> None:
    spec = doc.spec
    raw_service = str(spec.get("service") or "")
    if not raw_service:
        out.warn(doc, doc.at("spec"), f"SLO {doc.name!r} names no service; skipped", "set spec.service")
        return
    service_name = slug(raw_service)
    if service_name != raw_service:
        out.warn(doc, doc.at("spec", "service"), f"service {raw_service!r} is imported as {service_name!r}")
    window = _window(out, doc)
    if window is None:
        return
    method = spec.get("budgetingMethod")
    if method != "Occurrences":
        out.warn(doc, doc.at("spec", "budgetingMethod"), f"budgetingMethod {method!r} is imported as Occurrences "
                 "(slokit counts good and bad events over the window)",
                 "time slices weigh every minute alike; with steady traffic the two agree")
    labels, owner = _metadata(out, doc)
    objectives = spec.get("objectives") or []
    if not isinstance(objectives, list) or not objectives:
        out.warn(doc, doc.at("spec", "objectives"), f"SLO {doc.name!r} has no objectives; skipped")
        return
    tiers, alerting = _alert_policies(out, doc, window)
    service = out.services.setdefault(service_name, Service(service_name, doc.source.path))
    if owner and not service.owner:
        service.owner = owner
    base_name = slug(doc.name)
    if base_name != doc.name:
        out.warn(doc, doc.at("metadata", "name"), f"SLO {doc.name!r} is imported as {base_name!r}")
    description = str(spec.get("description") or (doc.data.get("metadata") or {}).get("displayName") or "")
    for i, objective in enumerate(objectives):
        opath = doc.at("spec", "objectives", i)
        if not isinstance(objective, dict):
            continue
        name = base_name if len(objectives) == 1 else \
            f"{base_name}-{slug(objective.get('displayName') or str(i + 1))}"[:63].rstrip("-_")
        percent = _target(out, doc, objective, opath)
        indicator = _indicator(out, doc, objective, opath) if ("indicator" in objective or "indicatorRef"
                                                                in objective) else _indicator(out, doc, spec,
                                                                                               doc.at("spec"))
        if percent is None or indicator is None:
            continue
        sli = _sli(out, indicator, objective, opath)
        if sli is None:
            continue
        for key in ("timeSliceTarget", "timeSliceWindow"):
            if key in objective:
                out.warn(doc, opath + (key,), f"{key} is not carried over (slokit budgets events, not time slices)")
        if "compositeWeight" in objective:
            out.warn(doc, opath + ("compositeWeight",), "composite weights are not carried over; each objective "
                     "becomes an SLO of its own")
        slo: dict[str, Any] = {"name": name}
        if description:
            slo["description"] = description[:2000]
        slo["objective"] = percent
        slo["window"] = window
        slo["sli"] = sli
        if labels:
            slo["labels"] = dict(labels)
        slo_alerting = {**alerting, **({"tiers": tiers} if tiers else {})}
        if not tiers:
            for severity in unfireable_severities(float(percent), window):
                out.warn(doc, opath, f"with objective {percent}% slokit's default {severity} tiers could never "
                         f"fire; the {severity} alerts are turned off", "add an AlertPolicy with burn-rate "
                         "conditions that fit, or set alerting.tiers")
                slo_alerting[severity] = {"enabled": False}
        if slo_alerting:
            slo["alerting"] = slo_alerting
        if any(s["name"] == name for s in service.slos):
            out.warn(doc, opath, f"SLO {name!r} of service {service_name!r} already exists; skipped")
            continue
        service.slos.append(slo)


def _window(out: OpenSLOImport, doc: Doc) -> str | None:
    windows = doc.spec.get("timeWindow")
    if not windows:
        out.warn(doc, doc.at("spec"), "no timeWindow; imported with slokit's default of 30d")
        return "30d"
    if not isinstance(windows, list) or not isinstance(windows[0], dict):
        out.warn(doc, doc.at("spec", "timeWindow"), "timeWindow must be a list of one window; SLO skipped")
        return None
    first = windows[0]
    path = doc.at("spec", "timeWindow", 0)
    if len(windows) > 1:
        out.warn(doc, doc.at("spec", "timeWindow", 1), "only the first time window is used")
    match = SHORTHAND.match(str(first.get("duration", "")))
    if not match:
        out.warn(doc, path + ("duration",), f"duration {first.get('duration')!r} is not a duration shorthand; "
                 "SLO skipped", "e.g. 28d, 4w, 1M")
        return None
    n, unit = int(match.group(1)), match.group(2)
    window = f"{n * LONG_UNITS[unit]}d" if unit in LONG_UNITS else f"{n}{unit}"
    if unit in LONG_UNITS:
        out.warn(doc, path + ("duration",), f"{first['duration']} is imported as {window}",
                 "slokit windows are fixed durations")
    if "calendar" in first or first.get("isRolling") is False:
        out.warn(doc, path, "calendar-aligned windows are imported as rolling windows of the same length",
                 "slokit's budgets roll; a calendar reset is not modelled")
    return window


def _metadata(out: OpenSLOImport, doc: Doc) -> tuple[dict[str, str], str | None]:
    meta = doc.data.get("metadata") or {}
    labels: dict[str, str] = {}
    owner = None
    for key, value in (meta.get("labels") or {}).items():
        path = doc.at("metadata", "labels", key)
        values = value if isinstance(value, list) else [value]
        text = str(values[0]) if values else ""
        if len(values) > 1:
            out.warn(doc, path, f"label {key!r} has several values; only {text!r} is kept",
                     "a Prometheus label has one value")
        name = label_name(key)
        if name == "team":
            owner = slug(text)
            continue
        if reserved_label(name) or not label_value_ok(text):
            out.warn(doc, path, f"label {key!r} cannot be carried over (set by slokit, or characters labels do "
                     "not allow)")
            continue
        labels[name] = text
    if meta.get("annotations"):
        out.warn(doc, doc.at("metadata", "annotations"), "metadata annotations are implementation-specific and "
                 "not carried over")
    return labels, owner


def _target(out: OpenSLOImport, doc: Doc, objective: dict, path: PathKey) -> float | int | None:
    if "targetPercent" in objective:
        value = Decimal(str(objective["targetPercent"]))
    elif "target" in objective:
        value = Decimal(str(objective["target"])) * 100
    else:
        out.warn(doc, path, "objective has neither target nor targetPercent; skipped")
        return None
    if not 0 < value < 100:
        out.warn(doc, path, f"objective {value}% is not strictly between 0 and 100; skipped")
        return None
    number = float(value.normalize())
    return int(number) if number.is_integer() else number


def _indicator(out: OpenSLOImport, doc: Doc, holder: dict, path: PathKey) -> Doc | None:
    if isinstance(holder.get("indicator"), dict):
        return Doc(doc.source, path + ("indicator",), holder["indicator"])
    ref = holder.get("indicatorRef")
    if ref is not None:
        found = out.ref("SLI", str(ref))
        if found is None:
            out.warn(doc, path + ("indicatorRef",), f"no SLI named {ref!r} in the imported files; skipped",
                     "pass the file that defines it too")
        return found
    out.warn(doc, path, "neither indicator nor indicatorRef; skipped")
    return None


# --------------------------------------------------------------------------
# SLIs
# --------------------------------------------------------------------------


def _metric_query(out: OpenSLOImport, sli: Doc, holder: Any, path: PathKey) -> str | None:
    """The Prometheus query of a `{metricSource: ...}` block, or None (with a warning)."""
    source = holder.get("metricSource") if isinstance(holder, dict) else None
    if not isinstance(source, dict):
        out.warn(sli, path, "no metricSource; skipped")
        return None
    kind = source.get("type")
    ref = source.get("metricSourceRef")
    if ref is not None:
        ds = out.ref("DataSource", str(ref))
        if ds is None and kind is None:
            out.warn(sli, path + ("metricSource", "metricSourceRef"), f"no DataSource named {ref!r} and no type; "
                     "skipped")
            return None
        kind = kind or (ds.spec.get("type") if ds else None)
    if str(kind).lower() != "prometheus":
        out.warn(sli, path + ("metricSource",), f"metric source of type {kind!r} is not Prometheus; skipped")
        return None
    query = (source.get("spec") or {}).get("query") if isinstance(source.get("spec"), dict) else None
    if not isinstance(query, str) or not query.strip():
        out.warn(sli, path + ("metricSource", "spec"), "no spec.query; skipped")
        return None
    for key in sorted(set(source.get("spec") or {}) - {"query"}):
        out.warn(sli, path + ("metricSource", "spec", key), f"metric source field {key!r} is not carried over")
    return go_window(query).strip()


def _sli(out: OpenSLOImport, indicator: Doc, objective: dict, opath: PathKey) -> dict | None:
    spec = indicator.spec
    spath = indicator.at("spec")
    if isinstance(spec.get("ratioMetric"), dict):
        return _ratio(out, indicator, spec["ratioMetric"], spath + ("ratioMetric",))
    if isinstance(spec.get("thresholdMetric"), dict):
        return _threshold(out, indicator, spec["thresholdMetric"], spath + ("thresholdMetric",), objective, opath)
    out.warn(indicator, spath, "the SLI has neither ratioMetric nor thresholdMetric; skipped")
    return None


def _analysed(out: OpenSLOImport, doc: Doc, query: str, path: PathKey, counter: bool) -> Query | None:
    parsed = analyse(query)
    if parsed.error:
        out.warn(doc, path, f"query is not valid PromQL ({parsed.error}); skipped")
        return None
    for series in parsed.series:
        for label in out.catalog.add_series(series, as_counter=counter and "{{window}}" not in query):
            out.warn(doc, path, f"label {label!r} cannot be declared in a slokit catalog; validation will report it")
    return parsed


def _as_rate(query: str, parsed: Query, counter: bool) -> str:
    """A raw-SLI expression (per-second rate over {{window}}) for an OpenSLO query."""
    if "{{window}}" in query:
        return query
    if counter:
        direct = _rate_of_selector(query)
        return direct if direct is not None else f"rate(({query})[{{{{window}}}}:{SLICE}])"
    return f"avg_over_time(({query})[{{{{window}}}}:{SLICE}])"


def _rate_of_selector(query: str) -> str | None:
    """`x{..}` -> `rate(x{..}[{{window}}])` and `sum [by (..)] (x{..})` -> the sum of that rate."""
    import promql_parser as p

    try:
        ast = p.parse(query)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        return None
    while isinstance(ast, p.ParenExpr):
        ast = ast.expr
    if isinstance(ast, p.VectorSelector) and ast.offset is None and ast.at is None:
        return f"rate({ast}[{{{{window}}}}])"
    if isinstance(ast, p.AggregateExpr) and str(ast.op) == "sum" and ast.param is None:
        inner = ast.expr
        while isinstance(inner, p.ParenExpr):
            inner = inner.expr
        if isinstance(inner, p.VectorSelector) and inner.offset is None and inner.at is None:
            modifier = f" {ast.modifier}" if ast.modifier is not None else ""
            return f"sum{modifier} (rate({inner}[{{{{window}}}}]))"
    return None


def _ratio(out: OpenSLOImport, doc: Doc, ratio: dict, path: PathKey) -> dict | None:
    counter = ratio.get("counter", True) is not False
    if "raw" in ratio:
        query = _metric_query(out, doc, ratio["raw"], path + ("raw",))
        if query is None:
            return None
        parsed = _analysed(out, doc, query, path + ("raw",), counter=False)
        if parsed is None:
            return None
        expr = query if "{{window}}" in query else f"avg_over_time(({query})[{{{{window}}}}:{SLICE}])"
        raw_type = ratio.get("rawType")
        if raw_type not in ("success", "failure"):
            out.warn(doc, path + ("rawType",), f"rawType {raw_type!r} must be success or failure; skipped")
            return None
        return {"raw": {"error_ratio": expr if raw_type == "failure" else f"1 - ({expr})"}}
    role = "good" if "good" in ratio else "bad"
    if role not in ratio or "total" not in ratio:
        out.warn(doc, path, "a ratioMetric needs good (or bad) and total, or raw; skipped")
        return None
    queries: dict[str, tuple[str, Query]] = {}
    for key in (role, "total"):
        query = _metric_query(out, doc, ratio[key], path + (key,))
        if query is None:
            return None
        parsed = _analysed(out, doc, query, path + (key,), counter)
        if parsed is None:
            return None
        queries[key] = (query, parsed)
    typed = [_typed_counter(p, counter) for _, p in queries.values()]
    if all(t is not None for t in typed):
        for t in typed:
            out.catalog.add_typed(t, "counter")
        return {"ratio": {role: _selector(typed[0]), "total": _selector(typed[1])}}
    if not counter:
        out.warn(doc, path + ("counter",), "gauge queries (counter: false) are averaged over each window",
                 "the ratio of the averages is the SLI")
    return {"raw": {key: _as_rate(q, p, counter) for key, (q, p) in queries.items()}}


def _typed_counter(parsed: Query, counter: bool) -> Typed | None:
    """A typed selector when the query is a plain counter: `x_total{...}`, `sum(...)` of it, or its rate."""
    typed = parsed.typed or (parsed.instant if counter else None)
    return typed if typed is not None and typed.metric.endswith("_total") else None


def _selector(typed: Typed) -> dict:
    return {"metric": typed.metric, **({"match": typed.match} if typed.match else {})}


def _threshold(out: OpenSLOImport, doc: Doc, metric: dict, path: PathKey, objective: dict,
               opath: PathKey) -> dict | None:
    op, value = objective.get("op"), objective.get("value")
    if op not in ("lte", "lt", "gte", "gt") or not isinstance(value, (int, float)) or isinstance(value, bool):
        out.warn(doc, opath, "a thresholdMetric objective needs op (lte, lt, gte, gt) and a numeric value; "
                 "skipped")
        return None
    query = _metric_query(out, doc, metric, path)
    if query is None:
        return None
    parsed = analyse(query)
    if parsed.error:
        out.warn(doc, path, f"query is not valid PromQL ({parsed.error}); skipped")
        return None
    hist = parsed.instant
    if hist is not None:
        base, kind = out.catalog.base(hist.metric)
        if kind == "histogram" or hist.metric.endswith("_seconds"):
            if op in ("lt", "gte"):
                out.warn(doc, opath + ("op",), f"op {op} is imported as {'lte' if op == 'lt' else 'gt'}: histogram "
                         "buckets count observations <= a bound")
            typed = Typed(base if kind == "histogram" else hist.metric, hist.match)
            out.catalog.add_typed(typed, "histogram", float(value))
            side = "le" if op in ("lte", "lt") else "gt"
            return {"threshold": {"metric": typed.metric, side: value,
                                  **({"match": typed.match} if typed.match else {})}}
    for series in parsed.series:
        out.catalog.add_series(series)
    compare = {"lte": "<=", "lt": "<", "gte": ">=", "gt": ">"}[op]
    out.warn(doc, path, f"the threshold query is not a histogram; imported as the share of {SLICE} slices in which "
             f"it is {compare} {value}", "a histogram with a bucket at the threshold gives an exact SLI")
    return {"raw": {"good": f"sum_over_time((({query}) {compare} bool {value})[{{{{window}}}}:{SLICE}])",
                    "total": f"count_over_time(({query})[{{{{window}}}}:{SLICE}])"}}


# --------------------------------------------------------------------------
# Alert policies
# --------------------------------------------------------------------------


def _alert_policies(out: OpenSLOImport, doc: Doc, window: str) -> tuple[list[dict], dict]:
    from slokit.model import duration_seconds

    tiers: list[dict] = []
    alerting: dict[str, Any] = {}
    severity_words: dict[str, str] = {}
    targets: list[str] = []
    for i, entry in enumerate(doc.spec.get("alertPolicies") or []):
        path = doc.at("spec", "alertPolicies", i)
        policy = _policy(out, doc, entry, path)
        if policy is None:
            continue
        p = policy.spec
        if p.get("alertWhenBreaching") is False:
            out.warn(policy, policy.at("spec", "alertWhenBreaching"), "alertWhenBreaching: false; the policy's "
                     "conditions are skipped")
            continue
        if p.get("alertWhenResolved"):
            out.warn(policy, policy.at("spec", "alertWhenResolved"), "resolved notifications are Alertmanager's "
                     "send_resolved setting, not part of the rules")
        if p.get("alertWhenNoData") is False:
            out.warn(policy, policy.at("spec", "alertWhenNoData"), "slokit always adds an SLONoData alert; silence "
                     "it in Alertmanager if unwanted")
        for j, target in enumerate(p.get("notificationTargets") or []):
            name = (target.get("targetRef") or (target.get("metadata") or {}).get("name")) \
                if isinstance(target, dict) else None
            if name and label_value_ok(str(name)):
                targets.append(str(name))
            elif name:
                out.warn(policy, policy.at("spec", "notificationTargets", j), f"notification target {name!r} "
                         "cannot be a label value; dropped")
        for j, cond in enumerate(p.get("conditions") or []):
            condition = _condition(out, policy, cond, policy.at("spec", "conditions", j))
            if condition is None:
                continue
            tier = _tier(out, condition, window, duration_seconds)
            if tier is None:
                continue
            severity, word = tier.pop("_word")
            if severity in severity_words and severity_words[severity] != word:
                out.warn(condition, condition.at("spec", "severity"), f"severity {word!r} differs from "
                         f"{severity_words[severity]!r} of another {severity} condition; the first is kept")
            severity_words.setdefault(severity, word)
            tiers.append(tier)
    if targets:
        alerting["labels"] = {"notification_target": "_".join(sorted(set(targets)))}
    words = {"page": severity_words.get("page", "page"), "ticket": severity_words.get("ticket", "ticket")}
    if words != {"page": "page", "ticket": "ticket"} and words["page"] != words["ticket"]:
        alerting["severity_values"] = words
    return tiers, alerting


def _policy(out: OpenSLOImport, doc: Doc, entry: Any, path: PathKey) -> Doc | None:
    if not isinstance(entry, dict):
        return None
    if "alertPolicyRef" in entry:
        found = out.ref("AlertPolicy", str(entry["alertPolicyRef"]))
        if found is None:
            out.warn(doc, path + ("alertPolicyRef",), f"no AlertPolicy named {entry['alertPolicyRef']!r}; skipped")
        return found
    return Doc(doc.source, path, entry)


def _condition(out: OpenSLOImport, policy: Doc, entry: Any, path: PathKey) -> Doc | None:
    if not isinstance(entry, dict):
        return None
    if "conditionRef" in entry:
        found = out.ref("AlertCondition", str(entry["conditionRef"]))
        if found is None:
            out.warn(policy, path + ("conditionRef",), f"no AlertCondition named {entry['conditionRef']!r}; "
                     "skipped")
        return found
    return Doc(policy.source, path, entry)


def _duration(text: Any) -> tuple[str, int] | None:
    match = SHORTHAND.match(str(text or ""))
    if not match or match.group(2) in LONG_UNITS:
        return None
    n, unit = int(match.group(1)), match.group(2)
    return f"{n}{unit}", n * {"m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]


def _tier(out: OpenSLOImport, cond: Doc, window: str, duration_seconds) -> dict | None:
    spec = cond.spec
    c = spec.get("condition") or {}
    cpath = cond.at("spec", "condition")
    if c.get("kind", "burnrate") != "burnrate":
        out.warn(cond, cpath + ("kind",), f"condition kind {c.get('kind')!r} is not burnrate; skipped")
        return None
    if c.get("op") not in ("gt", "gte"):
        out.warn(cond, cpath + ("op",), f"op {c.get('op')!r}: slokit alerts when the burn rate is above the "
                 "threshold; condition skipped")
        return None
    threshold = c.get("threshold")
    lookback = _duration(c.get("lookbackWindow"))
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or threshold <= 0 or lookback is None:
        out.warn(cond, cpath, "a burnrate condition needs a positive threshold and a lookbackWindow in m, h, d or w; "
                 "skipped")
        return None
    long_window, long_s = lookback
    if threshold < 1:
        out.warn(cond, cpath + ("threshold",), f"burn rate threshold {threshold} is below 1: it would alert while "
                 "the SLO is on track; skipped")
        return None
    window_s = duration_seconds(window)
    budget = Decimal(str(threshold)) * long_s / window_s * 100
    if not 0 < budget <= 100:
        out.warn(cond, cpath + ("threshold",), f"burn rate {threshold} over {long_window} spends {budget:.3g}% of "
                 f"the {window} budget; slokit tiers spend at most 100%; skipped")
        return None
    word = str(spec.get("severity") or "page")
    severity = "page" if word.lower() in PAGE_WORDS else "ticket"
    percent = float(format(float(budget), ".6g"))  # burn factors keep 4 significant digits anyway
    tier: dict[str, Any] = {"severity": severity, "budget_percent": int(percent) if percent.is_integer() else percent,
                            "long_window": long_window}
    short_s = long_s // 12
    if short_s % 60 or short_s < 300:
        short_s = max(300, (short_s // 60) * 60)
        if short_s >= long_s:
            out.warn(cond, cpath + ("lookbackWindow",), f"lookbackWindow {long_window} is too short for a "
                     "confirming short window (at least 5m); skipped")
            return None
        tier["short_window"] = f"{short_s // 60}m"
    if c.get("alertAfter") not in (None, "0m", "0s"):
        out.warn(cond, cpath + ("alertAfter",), f"alertAfter {c['alertAfter']} is not carried over: slokit "
                 "confirms a burn with the short window (1/12 of the long one) instead of a `for` delay")
    label_word = word if label_value_ok(word) else severity
    tier["_word"] = (severity, label_word)
    return tier

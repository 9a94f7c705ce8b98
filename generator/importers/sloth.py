"""Import Sloth SLO specs: `version: prometheus/v1` files and `PrometheusServiceLevel` objects
(sloth.slok.dev/v1, camelCase keys), several documents per file and several services.

What maps, and how (docs/import.md has the table):
- service labels and SLO labels -> the SLO's `labels` with `record_labels: true` (Sloth puts them on
  recording and alerting rules alike); `team`/`owner` labels also give the slokit `owner`;
- `events` (error_query / total_query) -> a typed ratio SLI when both are a plain
  `[sum(]rate(selector[{{.window}}])[)]`, else a raw SLI with `bad`/`total`;
- `raw.error_ratio_query` -> a raw SLI with `error_ratio`;
- `alerting.name` -> `alert_name`; the page/ticket `severity` labels -> `severity_values`;
  other labels and annotations -> the shared or per-route ones; `disable` -> `enabled: false`.
Sloth's alerts are the SRE workbook's (1h/5m x14.4 or 6h/30m x6 page, 1d/2h x3 or 3d/6h x1 ticket)
over a 30-day period, which are slokit's default tiers: the imported SLO decides the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slokit.importers.common import (
    CatalogBuilder,
    Typed,
    latency_errors,
    Warnings,
    analyse,
    go_window,
    is_alert_name,
    is_slug,
    label_name,
    label_value_ok,
    reserved_label,
    slug,
    unfireable_severities,
)
from slokit.load import PathKey, Source

SPEC_VERSION = "prometheus/v1"
CRD_API = "sloth.slok.dev/v1"
CRD_KIND = "PrometheusServiceLevel"
# Sloth's default SLO period (`--default-slo-period`); the spec itself has none.
SLOTH_WINDOW = "30d"
# Annotations slokit writes itself on every alert.
OWN_ANNOTATIONS = ("summary", "description", "dashboard")


@dataclass(frozen=True)
class Keys:
    """The two spellings of Sloth's keys: the spec file's snake_case, the CRD's camelCase."""

    error_query: str
    total_query: str
    error_ratio_query: str
    page_alert: str
    ticket_alert: str
    slo_plugins: str


SNAKE = Keys("error_query", "total_query", "error_ratio_query", "page_alert", "ticket_alert", "slo_plugins")
CAMEL = Keys("errorQuery", "totalQuery", "errorRatioQuery", "pageAlert", "ticketAlert", "sloPlugins")


@dataclass
class Service:
    """One slokit spec file being assembled (several Sloth documents may name one service)."""

    name: str
    source: str
    owner: str | None = None
    slos: list[dict] = field(default_factory=list)
    description: str = ""


@dataclass
class SlothImport:
    services: dict[str, Service] = field(default_factory=dict)
    catalog: CatalogBuilder = field(default_factory=CatalogBuilder)
    warnings: Warnings = field(default_factory=Warnings)
    sources: list[str] = field(default_factory=list)


def import_documents(documents: list[Source]) -> SlothImport:
    out = SlothImport()
    for doc in documents:
        if doc.path not in out.sources:
            out.sources.append(doc.path)
        data = doc.data if isinstance(doc.data, dict) else {}
        if data.get("version") == SPEC_VERSION:
            _spec(out, doc, data, (), SNAKE)
        elif data.get("apiVersion") == CRD_API and data.get("kind") == CRD_KIND:
            spec = data.get("spec")
            if isinstance(spec, dict):
                _spec(out, doc, spec, ("spec",), CAMEL)
            else:
                out.warnings.add(doc, (), "PrometheusServiceLevel without a spec; skipped")
        else:
            what = data.get("kind") or data.get("version") or "this document"
            out.warnings.add(doc, (), f"{what!s} is not a Sloth SLO spec (version: {SPEC_VERSION}) or a "
                             f"{CRD_KIND} ({CRD_API}); skipped",
                             "OpenSLO documents are read by `slokit import openslo`")
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _spec(out: SlothImport, doc: Source, spec: dict, at: PathKey, keys: Keys) -> None:
    w = out.warnings
    raw_service = _text(spec.get("service"))
    if not raw_service:
        w.add(doc, at, "the spec names no service; skipped")
        return
    name = slug(raw_service)
    if name != raw_service:
        w.add(doc, at + ("service",), f"service {raw_service!r} is imported as {name!r} (slokit names are "
              "lowercase slugs)", "alerts carry service=\"" + name + "\"; update routes that match the old value")
    service = out.services.setdefault(name, Service(name, doc.path))
    labels = _labels(w, doc, spec.get("labels") or {}, at + ("labels",))
    owner = _owner(labels)
    if owner and not service.owner:
        service.owner = owner
    if spec.get(keys.slo_plugins):
        w.add(doc, at + (keys.slo_plugins,), "SLO plugins are Sloth's Go extensions and are not carried over",
              "express what the plugin did as a raw SLI or with slokit's alerting settings")
    seen = {s["name"] for s in service.slos}
    for i, slo in enumerate(spec.get("slos") or []):
        path = at + ("slos", i)
        if not isinstance(slo, dict):
            w.add(doc, path, "an SLO must be a mapping; skipped")
            continue
        converted = _slo(out, doc, slo, path, keys, labels)
        if converted is None:
            continue
        if converted["name"] in seen:
            w.add(doc, path + ("name",), f"SLO {converted['name']!r} of service {name!r} is defined twice; the "
                  "second one is skipped")
            continue
        seen.add(converted["name"])
        service.slos.append(converted)


def _labels(w: Warnings, doc: Source, labels: dict, path: PathKey) -> dict[str, str]:
    """Sloth labels as slokit labels; the ones slokit sets itself are dropped with a warning."""
    out: dict[str, str] = {}
    for key, value in labels.items():
        name = label_name(key)
        text = _text(value)
        if name != key:
            w.add(doc, path + (key,), f"label {key!r} is imported as {name!r}")
        if name == "team":
            out[name] = text  # becomes the owner (the `team` label), not an extra label
            continue
        if reserved_label(name):
            w.add(doc, path + (key,), f"label {key!r} is set by slokit itself; dropped",
                  "slokit sets service, slo, severity, team, long_window and alertname")
            continue
        if not label_value_ok(text):
            w.add(doc, path + (key,), f"value {text!r} of label {key!r} has characters slokit does not put in "
                  "labels; dropped", "label values use letters, digits and _ . : @ / -")
            continue
        out[name] = text
    return out


def _owner(labels: dict[str, str]) -> str | None:
    for key in ("team", "owner"):
        if key in labels and is_slug(labels[key]):
            return labels[key]
    return None


def _slo(out: SlothImport, doc: Source, slo: dict, path: PathKey, keys: Keys,
         service_labels: dict[str, str]) -> dict | None:
    w = out.warnings
    raw_name = _text(slo.get("name"))
    name = slug(raw_name)
    if name != raw_name:
        w.add(doc, path + ("name",), f"SLO {raw_name!r} is imported as {name!r} (slokit names are lowercase "
              "slugs)")
    objective = slo.get("objective")
    if not isinstance(objective, (int, float)) or isinstance(objective, bool) or not 0 < objective < 100:
        w.add(doc, path + ("objective",), f"objective {objective!r} cannot be imported: slokit objectives are "
              "percentages strictly between 0 and 100; SLO skipped")
        return None
    if slo.get("plugins"):
        w.add(doc, path + ("plugins",), "SLO plugins are not carried over")
    sli = _sli(out, doc, slo.get("sli") or {}, path + ("sli",), keys)
    if sli is None:
        return None
    result: dict[str, Any] = {"name": name}
    if slo.get("description"):
        result["description"] = _text(slo["description"])
    result["objective"] = float(objective) if not float(objective).is_integer() else int(objective)
    result["window"] = SLOTH_WINDOW
    result["sli"] = sli
    labels = {**service_labels, **_labels(w, doc, slo.get("labels") or {}, path + ("labels",))}
    labels.pop("team", None)
    if labels:
        result["labels"] = labels
        result["record_labels"] = True
    alerting = _alerting(w, doc, slo.get("alerting") or {}, path + ("alerting",), keys)
    for severity in unfireable_severities(float(objective), SLOTH_WINDOW):
        if alerting.get(severity, {}).get("enabled") is not False:
            w.add(doc, path + ("objective",), f"with objective {objective}% the {severity} alerts (Sloth's and "
                  "slokit's default tiers) could never fire; they are turned off",
                  "set alerting.tiers with smaller budget shares or longer windows")
            alerting.setdefault(severity, {})["enabled"] = False
    if alerting:
        result["alerting"] = alerting
    return result


def _sli(out: SlothImport, doc: Source, sli: dict, path: PathKey, keys: Keys) -> dict | None:
    w = out.warnings
    if sli.get("plugin"):
        plugin = sli["plugin"] if isinstance(sli["plugin"], dict) else {}
        w.add(doc, path + ("plugin",), f"SLI plugin {plugin.get('id', '?')!r} is Sloth Go code and cannot be "
              "imported; SLO skipped", "write the plugin's queries as a raw SLI")
        return None
    events = sli.get("events")
    if isinstance(events, dict):
        epath = path + ("events",)
        bad = _query(out, doc, events.get(keys.error_query), epath + (keys.error_query,))
        total = _query(out, doc, events.get(keys.total_query), epath + (keys.total_query,))
        if bad is None or total is None:
            return None
        latency = latency_errors(bad, total)
        if latency is not None:
            out.catalog.add_typed(Typed(latency.metric, latency.match), "histogram", latency.le)
            return {"threshold": {"metric": latency.metric, "le": _int_if_whole(latency.le),
                                  **({"match": latency.match} if latency.match else {})}}
        b, t = analyse(bad), analyse(total)
        if b.typed is not None and t.typed is not None and b.typed.metric.endswith("_total") \
                and t.typed.metric.endswith("_total"):
            out.catalog.add_typed(b.typed, "counter")
            out.catalog.add_typed(t.typed, "counter")
            return {"ratio": {"bad": _selector(b.typed), "total": _selector(t.typed)}}
        return {"raw": {"bad": bad, "total": total}}
    raw = sli.get("raw")
    if isinstance(raw, dict):
        query = _query(out, doc, raw.get(keys.error_ratio_query), path + ("raw", keys.error_ratio_query))
        return None if query is None else {"raw": {"error_ratio": query}}
    w.add(doc, path, "the SLI has none of events, raw or plugin; SLO skipped")
    return None


def _int_if_whole(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _selector(typed) -> dict:
    return {"metric": typed.metric, **({"match": typed.match} if typed.match else {})}


def _query(out: SlothImport, doc: Source, query: Any, path: PathKey) -> str | None:
    """A Sloth query in slokit's spelling, its selectors added to the catalog; None (with a warning) if unusable."""
    if not isinstance(query, str) or not query.strip():
        out.warnings.add(doc, path, "query missing; SLO skipped")
        return None
    text = go_window(query).strip()
    parsed = analyse(text)
    if parsed.error:
        out.warnings.add(doc, path, f"query is not valid PromQL ({parsed.error}); SLO skipped")
        return None
    for series in parsed.series:
        refused = out.catalog.add_series(series)
        for label in refused:
            out.warnings.add(doc, path, f"label {label!r} of {series.name} cannot be declared in a slokit catalog "
                             "(unbounded or personal values); validation will report it",
                             "aggregate it away in the application or the query")
    if "[{{window}}" not in text:
        out.warnings.add(doc, path, "query does not use {{.window}}; every window would read the same range",
                         "use {{.window}} as the range, as Sloth requires")
    return text


def _alerting(w: Warnings, doc: Source, alerting: dict, path: PathKey, keys: Keys) -> dict:
    result: dict[str, Any] = {}
    name = _text(alerting.get("name"))
    if name:
        if is_alert_name(name):
            result["alert_name"] = name
        else:
            w.add(doc, path + ("name",), f"alert name {name!r} is not a Prometheus metric-style name; the "
                  "default SLOErrorBudgetBurn is used", "use letters, digits and _")
    labels, annotations = _alert_labels(w, doc, alerting, path)
    if labels:
        result["labels"] = labels
    if annotations:
        result["annotations"] = annotations
    severities: dict[str, str] = {}
    for severity, key in (("page", keys.page_alert), ("ticket", keys.ticket_alert)):
        alert = alerting.get(key) or {}
        if not isinstance(alert, dict):
            continue
        route: dict[str, Any] = {}
        if alert.get("disable") is True:
            route["enabled"] = False
        rlabels = dict(alert.get("labels") or {})
        word = rlabels.pop("severity", None)
        if word is not None:
            if label_value_ok(_text(word)):
                severities[severity] = _text(word)
            else:
                w.add(doc, path + (key, "labels", "severity"), f"severity {word!r} cannot be a label value; "
                      f"the {severity} alerts say severity=\"{severity}\"")
        route_labels, route_annotations = _alert_labels(w, doc, {"labels": rlabels,
                                                                 "annotations": alert.get("annotations") or {}},
                                                        path + (key,))
        runbook = route_annotations.pop("runbook_url", None)
        if runbook is not None:
            route["runbook_url"] = runbook
        if route_labels:
            route["labels"] = route_labels
        if route_annotations:
            route["annotations"] = route_annotations
        if route:
            result[severity] = route
    if severities:
        if severities.get("page", "page") == severities.get("ticket", "ticket"):
            w.add(doc, path, f"page and ticket alerts both say severity={severities.get('page', 'page')!r}; "
                  "slokit keeps the words page and ticket", "routing and inhibition tell the tiers apart by it")
        else:
            result["severity_values"] = severities
    shared_runbook = result.get("annotations", {}).pop("runbook_url", None)
    if shared_runbook is not None:
        for severity in ("page", "ticket"):
            result.setdefault(severity, {}).setdefault("runbook_url", shared_runbook)
    if "annotations" in result and not result["annotations"]:
        del result["annotations"]
    return result


def _alert_labels(w: Warnings, doc: Source, block: dict, path: PathKey) -> tuple[dict, dict]:
    labels: dict[str, str] = {}
    for key, value in (block.get("labels") or {}).items():
        name, text = label_name(key), _text(value)
        if reserved_label(name):
            w.add(doc, path + ("labels", key), f"alert label {key!r} is set by slokit; dropped")
            continue
        if not text or any(c in text for c in "\n\r\t"):
            w.add(doc, path + ("labels", key), f"alert label {key!r} is empty or spans lines; dropped")
            continue
        if "{{" in text:
            w.add(doc, path + ("labels", key), f"alert label {key!r} uses a Go template; slokit keeps it as "
                  "literal text", "the labels of the alert's series are on the alert already")
        labels[name] = text
    annotations: dict[str, str] = {}
    for key, value in (block.get("annotations") or {}).items():
        name, text = label_name(key), _text(value)
        if name in OWN_ANNOTATIONS:
            w.add(doc, path + ("annotations", key), f"annotation {key!r} is written by slokit; the imported text "
                  "is dropped", "slokit's summary and description name the SLO, the group and the burn rate")
            continue
        if "{{" in text:
            w.add(doc, path + ("annotations", key), f"annotation {key!r} uses a Go template; slokit keeps it as "
                  "literal text")
        if name == "runbook_url" and not text.startswith(("http://", "https://")):
            w.add(doc, path + ("annotations", key), "runbook_url is not an http(s) URL; dropped")
            continue
        annotations[name] = text
    return labels, annotations

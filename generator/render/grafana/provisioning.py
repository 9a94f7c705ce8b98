"""Grafana provisioning for the demo stack: datasources and the dashboard provider.

Datasources get fixed UIDs (prometheus, tempo, alertmanager) so dashboards
reference them by UID. Prometheus links exemplars to Tempo under both trace
id label spellings in use: `trace_id` (OpenTelemetry SDKs, prometheus-client)
and `traceID` (Tempo's metrics generator). Tempo links traces back to
metrics and reads its service graph from Prometheus.

Dashboards: one provider per dashboard file, so each service's dashboard
lands in a folder of its own while the files stay flat in `dashboards/`
(`foldersFromFilesStructure` would need a sub-directory per folder). Grafana's
file provider walks its `path` with filepath.Walk, which accepts a single
file as well as a directory.

Grafana expands `$VAR` and `${VAR}` from the environment in provisioning
files; every literal `$` (PromQL templates such as `$__tags`) is written `$$`.
"""

from __future__ import annotations

from typing import Any

from slokit import naming as N
from slokit.plan import ProjectPlan
from slokit.render.grafana import signals as S
from slokit.render.common import dump_yaml, yaml_header

# Where the demo stack (stack/docker-compose.yml) mounts the repository's
# dashboards/ inside the Grafana container, and the services' addresses.
DASHBOARDS_MOUNT = "/var/lib/grafana/dashboards/slokit"
PROMETHEUS_URL = "http://prometheus:9090"
TEMPO_URL = "http://tempo:3200"
ALERTMANAGER_URL = "http://alertmanager:9093"
# Prometheus' scrape interval in the stack: Grafana's $__rate_interval is at least 4x this.
SCRAPE_INTERVAL = "10s"
# Exemplar label names that carry a trace id.
TRACE_ID_LABELS = ("trace_id", "traceID")
# Span attribute holding the catalog's `feature` label value (stack/app tracing).
SPAN_FEATURE_ATTRIBUTE = "app.llm.feature"
OVERVIEW_FOLDER = "SLOs"


def escape_dollars(value: Any) -> Any:
    """Every `$` doubled, in every string of a YAML document, so Grafana keeps it literal."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {k: escape_dollars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape_dollars(v) for v in value]
    return value


def _trace_to_metrics_queries(plan: ProjectPlan) -> list[dict[str, str]]:
    """From a span to the app's own metrics of its feature (`$__tags` becomes feature="...")."""
    signals = S.Signals(plan.catalog)
    queries = []
    requests = signals.get(S.REQUESTS)
    if requests is not None and requests.has(S.FEATURE):
        queries.append({"name": "Model calls by status",
                        "query": f"sum by ({S.STATUS}) (rate({requests.name}{{$__tags}}[5m]))"
                        if requests.has(S.STATUS) else f"sum(rate({requests.name}{{$__tags}}[5m]))"})
    latency = signals.get(S.TOTAL_LATENCY)
    if latency is not None and latency.has(S.FEATURE):
        queries.append({"name": "Total latency p95",
                        "query": f"histogram_quantile(0.95, sum by (le) (rate({latency.name}_bucket{{$__tags}}[5m])))"})
    return queries


def datasources(plan: ProjectPlan) -> dict[str, Any]:
    prometheus = {
        "name": "Prometheus", "uid": N.DATASOURCE_PROMETHEUS_UID, "type": "prometheus", "access": "proxy",
        "url": PROMETHEUS_URL, "isDefault": True, "editable": False,
        "jsonData": {
            "httpMethod": "POST",
            "timeInterval": SCRAPE_INTERVAL,
            "prometheusType": "Prometheus",
            "exemplarTraceIdDestinations": [
                {"name": label, "datasourceUid": N.DATASOURCE_TEMPO_UID, "urlDisplayLabel": "Trace in Tempo"}
                for label in TRACE_ID_LABELS
            ],
        },
    }
    tempo = {
        "name": "Tempo", "uid": N.DATASOURCE_TEMPO_UID, "type": "tempo", "access": "proxy", "url": TEMPO_URL,
        "isDefault": False, "editable": False,
        "jsonData": {
            "tracesToMetrics": {
                "datasourceUid": N.DATASOURCE_PROMETHEUS_UID,
                "spanStartTimeShift": "-5m",
                "spanEndTimeShift": "5m",
                "tags": [{"key": SPAN_FEATURE_ATTRIBUTE, "value": S.FEATURE}],
                "queries": _trace_to_metrics_queries(plan),
            },
            "serviceMap": {"datasourceUid": N.DATASOURCE_PROMETHEUS_UID},
            "nodeGraph": {"enabled": True},
            "search": {"hide": False},
            "traceQuery": {"timeShiftEnabled": True, "spanStartTimeShift": "-10m", "spanEndTimeShift": "10m"},
        },
    }
    alertmanager = {
        "name": "Alertmanager", "uid": N.DATASOURCE_ALERTMANAGER_UID, "type": "alertmanager", "access": "proxy",
        "url": ALERTMANAGER_URL, "isDefault": False, "editable": False,
        "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False},
    }
    return {"apiVersion": 1, "datasources": [prometheus, tempo, alertmanager]}


def _provider(name: str, folder: str, uid: str, file: str) -> dict[str, Any]:
    return {
        "name": name, "orgId": 1, "type": "file", "folder": folder, "folderUid": uid,
        # Generated files are the source of truth: UI edits are refused, and a
        # dashboard whose file `slokit generate` pruned is deleted.
        "disableDeletion": False, "allowUiUpdates": False, "updateIntervalSeconds": 30,
        "options": {"path": f"{DASHBOARDS_MOUNT}/{file}"},
    }


def dashboard_providers(plan: ProjectPlan) -> dict[str, Any]:
    def file_of(path: str) -> str:
        return path.split("/", 1)[1]  # dashboards/<file>

    providers = [
        _provider(N.DASHBOARD_OVERVIEW_UID, OVERVIEW_FOLDER, N.OVERVIEW_FOLDER_UID, file_of(N.OVERVIEW_DASHBOARD_PATH)),
        _provider(N.DASHBOARD_COST_UID, OVERVIEW_FOLDER, N.OVERVIEW_FOLDER_UID, file_of(N.COST_DASHBOARD_PATH)),
    ]
    providers += [_provider(s.dashboard_uid, s.service, N.service_folder_uid(s.service),
                            file_of(N.service_dashboard_path(s.service))) for s in plan.services]
    return {"apiVersion": 1, "providers": providers}


def render(plan: ProjectPlan) -> dict[str, str]:
    header = yaml_header(plan.sources)
    return {
        N.DATASOURCES_PROVISIONING_PATH: header + dump_yaml(escape_dollars(datasources(plan))),
        N.DASHBOARDS_PROVISIONING_PATH: header + dump_yaml(escape_dollars(dashboard_providers(plan))),
    }

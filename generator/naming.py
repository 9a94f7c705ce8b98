"""Every name slokit puts into the world, in one place.

Recording rules, labels, alerts, rule groups, dashboard UIDs and output paths
are read by Prometheus, Alertmanager routes, Grafana and people's runbooks.
Renaming one breaks all of them, so they are defined here and nowhere else.
Recording rules follow the Prometheus convention `level:metric:operations`.
"""

from __future__ import annotations

# -- labels -----------------------------------------------------------------

LABEL_SERVICE = "service"
LABEL_SLO = "slo"
LABEL_BUDGET = "budget"
LABEL_SEVERITY = "severity"
LABEL_TEAM = "team"
# Which burn-rate tier fired (its long window, e.g. "1h"); Alertmanager
# inhibition and people tell the fast and slow burns apart by it.
LABEL_LONG_WINDOW = "long_window"
# Labels of the slo:info series (strings, since info series carry text).
LABEL_OBJECTIVE = "objective"
LABEL_WINDOW = "window"
LABEL_SLI_KIND = "sli"

SEVERITY_PAGE = "page"
SEVERITY_TICKET = "ticket"

# -- alerts -----------------------------------------------------------------

ALERT_BURN = "SLOErrorBudgetBurn"
ALERT_NO_DATA = "SLONoData"
ALERT_BUDGET_OVERRUN = "SLOBudgetProjectedOverrun"
ALERT_COST_REGRESSION = "SLOCostRegression"
# A spend or token budget already used up over its window (the projection
# alert only speaks while the spending goes on).
ALERT_BUDGET_EXHAUSTED = "SLOBudgetExhausted"
# An SLO whose error budget is spent; opt-in per SLO (`alerting.budget_exhausted`),
# since the burn-rate tickets have fired long before.
ALERT_SLO_EXHAUSTED = "SLOErrorBudgetExhausted"

# -- SLO recording rules ----------------------------------------------------


def slo_bad_rate(window: str) -> str:
    """Per-second rate of bad events over `window`, e.g. slo:bad_events:rate5m."""
    return f"slo:bad_events:rate{window}"


def slo_total_rate(window: str) -> str:
    """Per-second rate of all events over `window`."""
    return f"slo:total_events:rate{window}"


def slo_error_ratio(window: str) -> str:
    """bad / total over `window` (0 when there was no traffic)."""
    return f"slo:error_ratio:rate{window}"


def slo_burn_rate(window: str) -> str:
    """error ratio / error budget over `window`: 1 spends the budget exactly in the SLO window."""
    return f"slo:burn_rate:rate{window}"


# Window-independent aliases, so one dashboard query covers SLOs of any window.
SLO_ERROR_RATIO_WINDOW = "slo:error_ratio:slo_window"
SLO_TOTAL_RATE_WINDOW = "slo:total_events:slo_window"
SLO_OBJECTIVE = "slo:objective:ratio"
SLO_ERROR_BUDGET = "slo:error_budget:ratio"
SLO_BUDGET_REMAINING = "slo:error_budget_remaining:ratio"
# The same budget left in plain units: bad events it still allows over the
# window, and how long a full outage (every event bad) could last.
SLO_BUDGET_REMAINING_EVENTS = "slo:error_budget_remaining:events"
SLO_BUDGET_REMAINING_OUTAGE = "slo:error_budget_remaining:outage_seconds"
# 1 while the error budget left is 0 or below (spent), else 0: a series to
# alert, count and plot on without repeating the threshold.
SLO_BUDGET_EXHAUSTED = "slo:error_budget_exhausted:bool"
SLO_WINDOW_SECONDS = "slo:window:seconds"
SLO_INFO = "slo:info"

# -- Sloth-compatible recording rules (`generate --format sloth`) -------------
# The names and labels Sloth documents for its generated rules, as aliases of
# slokit's series, so dashboards built on Sloth's rules keep working.

SLOTH_ID = "sloth_id"
SLOTH_SERVICE = "sloth_service"
SLOTH_SLO = "sloth_slo"
SLOTH_WINDOW = "sloth_window"
SLOTH_OBJECTIVE = "sloth_objective"
# The windows Sloth records (its page and ticket alert windows) besides the SLO period.
SLOTH_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
SLOTH_OBJECTIVE_RATIO = "slo:objective:ratio"
SLOTH_ERROR_BUDGET = "slo:error_budget:ratio"
SLOTH_TIME_PERIOD_DAYS = "slo:time_period:days"
SLOTH_CURRENT_BURN = "slo:current_burn_rate:ratio"
SLOTH_PERIOD_BURN = "slo:period_burn_rate:ratio"
SLOTH_PERIOD_BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"
SLOTH_INFO = "sloth_slo_info"


def sloth_error_ratio(window: str) -> str:
    """Sloth's error ratio over `window`, e.g. slo:sli_error:ratio_rate5m."""
    return f"slo:sli_error:ratio_rate{window}"


def sloth_id(service: str, slo: str) -> str:
    return f"{service}-{slo}"


def sloth_group(service: str, slo: str) -> str:
    return f"sloth-slo-recordings-{service}-{slo}"


def sloth_rules_path(service: str) -> str:
    """Sloth-named aliases of a service's recorded series (`generate --format sloth`)."""
    return f"alerts/{service}.sloth.rules.yaml"


# -- budget recording rules -------------------------------------------------


def budget_usage_rate(window: str) -> str:
    """Per-second increase of a budget's counter over `window` (USD/s, tokens/s)."""
    return f"slo_budget:usage:rate{window}"


def budget_events_rate(window: str) -> str:
    """Per-second rate of the events a regression divides spend by."""
    return f"slo_budget:events:rate{window}"


def budget_cost_per_event(window: str) -> str:
    """Usage per event over `window` (e.g. USD per request)."""
    return f"slo_budget:usage_per_event:ratio_rate{window}"


BUDGET_LIMIT = "slo_budget:limit"
BUDGET_USED_WINDOW = "slo_budget:used:budget_window"
BUDGET_PROJECTED = "slo_budget:projected:budget_window"
BUDGET_REMAINING = "slo_budget:remaining:ratio"

# -- rule groups ------------------------------------------------------------


def slo_group(service: str, slo: str) -> str:
    return f"slokit-{service}-{slo}"


def budget_group(service: str) -> str:
    """Written with `:`, which no SLO name contains: an SLO named `budgets` must not share this group's name."""
    return f"slokit-{service}:budgets"


# -- Grafana ----------------------------------------------------------------

DATASOURCE_PROMETHEUS_UID = "prometheus"
DATASOURCE_TEMPO_UID = "tempo"
DATASOURCE_ALERTMANAGER_UID = "alertmanager"
DASHBOARD_OVERVIEW_UID = "slokit-overview"
DASHBOARD_COST_UID = "slokit-cost"


def service_dashboard_uid(service: str) -> str:
    """Grafana UIDs are at most 40 characters; service slugs up to 63.

    Long names keep a readable prefix and a stable hash suffix so two long
    services never collide.
    """
    uid = f"slokit-{service}"
    if len(uid) <= 40:
        return uid
    import hashlib

    digest = hashlib.sha256(service.encode()).hexdigest()[:8]
    return f"{uid[:31]}-{digest}"


# Folders and dashboards share one UID namespace in Grafana, so a service's
# folder must never reuse its dashboard's UID.
OVERVIEW_FOLDER_UID = "slokit"


def service_folder_uid(service: str) -> str:
    """The service folder's UID: its dashboard's UID (short, hashed when long) with another prefix.

    The prefix has a `_` where dashboards have `-`, so no service's dashboard
    UID (`slokit-` and a name) is another's folder UID (service `folder-x`).
    """
    rest = service_dashboard_uid(service).removeprefix("slokit-")
    return ("sf-" + rest) if len("slokit_folder-" + rest) > 40 else "slokit_folder-" + rest


def dashboard_url(grafana_url: str, uid: str) -> str:
    return f"{grafana_url.rstrip('/')}/d/{uid}"


# Panel ids are hashed from a key (see render/grafana/dashboard_json.py), not
# counted, so they stay put when other panels come and go; alert links name
# the SLO's panel by its key.
PANEL_ID_SPACE = 2**31 - 1


def panel_id(key: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % PANEL_ID_SPACE + 1


def slo_panel_key(slo: str) -> str:
    """Key of an SLO's "SLI over the window" panel on its service dashboard (alert links open it)."""
    return f"slo-sli\x00{slo}"


def slo_panel_id(slo: str) -> int:
    return panel_id(slo_panel_key(slo))


# -- output files -----------------------------------------------------------


def rules_path(service: str) -> str:
    return f"alerts/{service}.rules.yaml"


def operator_rules_path(service: str) -> str:
    """Prometheus Operator PrometheusRule object (`generate --format operator`)."""
    return f"alerts/{service}.prometheusrule.yaml"


def mimir_rules_path(service: str) -> str:
    """Grafana Mimir / Cortex ruler file, one namespace per service (`generate --format mimir`)."""
    return f"alerts/{service}.mimir.yaml"


# The line of a generated rule-test file that names the Prometheus its expectations follow (absent: 2).
RULE_TESTS_PROMETHEUS_MARKER = "Expectations computed for Prometheus "


def vmalert_rules_path(service: str) -> str:
    """VictoriaMetrics vmalert rule file, rates written for MetricsQL (`generate --format vmalert`)."""
    return f"alerts/{service}.vmalert.yaml"


def thanos_rules_path(service: str) -> str:
    """Thanos Ruler rule file: the groups with partial_response_strategy (`generate --format thanos`).

    Not `*.rules.yaml`: a Prometheus `rule_files` glob must not pick it up (Prometheus refuses the field)."""
    return f"alerts/{service}.thanos.yaml"


def mimir_namespace(service: str) -> str:
    return f"slokit-{service}"


def operator_rule_name(service: str) -> str:
    """metadata.name of a service's PrometheusRule: a DNS subdomain (no `_`, alphanumeric ends).

    A slug that needs changing gets a stable hash suffix, so `a_b` and `a-b`
    never share one object.
    """
    name = f"slokit-{service}".replace("_", "-").rstrip("-")
    if name == f"slokit-{service}":
        return name
    import hashlib

    return f"{name}-{hashlib.sha256(service.encode()).hexdigest()[:8]}"


OPERATOR_MANAGED_BY = "slokit"


def rule_tests_path(service: str) -> str:
    return f"alerts/tests/{service}.test.yaml"


def budget_rule_tests_path(service: str) -> str:
    """Week-long budget tests (cost regression vs `offset 1w`), in their own file: promtool sets the
    evaluation interval per file, and a week evaluated every minute would take minutes."""
    return f"alerts/tests/{service}.budgets.test.yaml"


THRESHOLD_TEST_INTERVALS = ("5m", "15m", "1h")


def threshold_rule_tests_path(service: str, interval: str) -> str:
    """Alerts just below / above their thresholds; a scenario spans ~1.2x its long window, so the files are
    evaluated at 5m, 15m or 1h (promtool sets the evaluation interval per file)."""
    return f"alerts/tests/{service}.thresholds-{interval}.test.yaml"


def service_dashboard_path(service: str) -> str:
    return f"dashboards/{service}.json"


OVERVIEW_DASHBOARD_PATH = "dashboards/slokit-overview.json"
COST_DASHBOARD_PATH = "dashboards/slokit-cost.json"
DATASOURCES_PROVISIONING_PATH = "stack/grafana/provisioning/datasources/slokit.yaml"
DASHBOARDS_PROVISIONING_PATH = "stack/grafana/provisioning/dashboards/slokit.yaml"


def runbook_path(service: str) -> str:
    return f"docs/runbooks/{service}.md"


MANIFEST_FILE = ".slokit-manifest.json"
# The only directories (relative to the output root) slokit writes into or prunes; a manifest entry or an
# output anywhere else is refused, so a hand-edited manifest cannot reach README.md or slos/.
OUTPUT_DIRS = ("alerts", "dashboards", "docs/runbooks", "stack/grafana/provisioning")
# slokit's own working area in the output root (lock, staged files, backups, journal); git-ignored.
STATE_DIR = ".slokit"
LOCK_FILE = f"{STATE_DIR}/lock"
TRANSACTION_DIR = f"{STATE_DIR}/transaction"


def is_output_path(rel: str) -> bool:
    """True when `rel` lies in one of the directories slokit writes (or is the manifest itself)."""
    return rel == MANIFEST_FILE or any(rel.startswith(d + "/") for d in OUTPUT_DIRS)

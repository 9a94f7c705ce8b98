"""The live outage scenario on VictoriaMetrics + vmalert, beside Prometheus, with real binaries on 127.0.0.1.

One demo app and one load generator (the live test's lane A: same seed, rate,
healthy stretch and provider outage) are scraped every second by three engines:

- Prometheus 2 with the plain rules (alerts/<service>.rules.yaml), as in
  tests/e2e/test_live_stack.py;
- VictoriaMetrics with -search.latencyOffset=1s and vmalert (1s evaluation)
  with `--format vmalert` rules (alerts/<service>.vmalert.yaml);
- a second VictoriaMetrics with the upstream default -search.latencyOffset
  (30s) and its own vmalert with the same rules: how much later a default
  installation pages (measured and printed; its bound is the first one plus
  the 30s offset for each of the four chained queries the alert reads through).

The api-success page (14.4x over 1h and 5m) must fire on Prometheus and on
vmalert within the live test's bound (the same burn math, the same lag), and
reach the webhook through a real Alertmanager; after recovery both must
resolve within the live test's resolution bound. Every api-success burn alert
that fires is timed on each engine (outage start -> firing); the table is
printed (docs/alerting.md quotes it). Then every vmalert rule evaluated
without error and every recording rule has data in VictoriaMetrics.
"""

from __future__ import annotations

import json
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from slokit import naming as N
from slokit.windows import uses_raw_counters
from support.alertmanager import AlertmanagerServer, load_config, with_webhook
from support.burn import Detection, resolution_seconds
from support.demo_app import DemoApp
from support.fixtures import slokit_argv
from support.process import ManagedProcess, clean_env
from support.prometheus import PromClient, PrometheusServer, localize_config
from support.timeline import Timeline
from support.victoriametrics import VictoriaMetricsServer, VMAlertServer
from support.wait import wait_until
from support.webhook import WebhookReceiver
from test_live_stack import (
    HEALTHY_A_S,
    INTERVAL,
    LAG_S,
    LOAD_RATE,
    OUTAGE,
    POISSON_SLACK,
    RECOVERY_RATE_FACTOR,
    STACK_ALERTMANAGER,
    STACK_PROMETHEUS,
    BurnAlert,
    burn_alert,
    seconds,
)

REPO = Path(__file__).resolve().parents[2]
SERVICE, SLO = "support-chatbot", "api-success"
TIERS = ((N.SEVERITY_PAGE, "1h"), (N.SEVERITY_PAGE, "6h"), (N.SEVERITY_TICKET, "1d"), (N.SEVERITY_TICKET, "3d"))
# The alert reads burn_rate, which reads error_ratio, which reads the recorded
# rates, which read the raw counters: four queries deep, and each query of a
# default VictoriaMetrics sees the data of 30s ago (-search.latencyOffset).
CHAINED_READS = 4
DEFAULT_LATENCY_OFFSET_S = 30


@dataclass
class Engine:
    """Where alerts are evaluated: `alerts` is a client whose alerts() lists them."""

    name: str
    alerts: PromClient
    fired: dict[str, float] = field(default_factory=dict)     # tier -> seconds after outage start
    resolved: float | None = None                              # page, seconds after recovery

    def active(self) -> list[dict]:
        return self.alerts.alerts() or []  # vmalert answers null when there are none

    def firing(self, alert: BurnAlert, active: list[dict] | None = None) -> bool:
        return any(a["state"] == "firing" and alert.matches(a["labels"])
                   for a in (self.active() if active is None else active))


def generate_with_vmalert(out: Path) -> Path:
    result = subprocess.run([*slokit_argv(), "generate", str(REPO / "slos"), "--out", str(out), "--format", "vmalert"],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, f"slokit generate failed:\n{result.stdout}\n{result.stderr}"
    return out


def tier_name(severity: str, window: str) -> str:
    return f"{severity} {window}"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("vmalert")
    out = generate_with_vmalert(work / "generated")
    plain = sorted((out / "alerts").glob("*.rules.yaml"))
    vm_rules = sorted((out / "alerts").glob("*.vmalert.yaml"))
    assert len(plain) == len(vm_rules) >= 2
    alerts = {tier_name(s, w): burn_alert(plain, SERVICE, SLO, s, w) for s, w in TIERS}
    page = alerts[tier_name(N.SEVERITY_PAGE, "1h")]
    timeline = Timeline()
    notes: list[str] = []
    with ExitStack() as stack:
        hook = stack.enter_context(WebhookReceiver())
        am = stack.enter_context(AlertmanagerServer(with_webhook(load_config(STACK_ALERTMANAGER), hook.base_url),
                                                    work / "alertmanager"))
        app = stack.enter_context(DemoApp(work / "app", seed=11))
        prom = PrometheusServer({}, work / "prometheus")
        prom.config = localize_config(yaml.safe_load(STACK_PROMETHEUS.read_text()),
                                      {"demo-app": app.address, "prometheus": prom.address}, plain, am.address,
                                      INTERVAL)
        prom.config["global"]["external_labels"] = {"engine": "prometheus"}
        stack.enter_context(prom)
        scrape = localize_config(yaml.safe_load(STACK_PROMETHEUS.read_text()), {"demo-app": app.address}, [], None,
                                 INTERVAL)
        vm = stack.enter_context(VictoriaMetricsServer(work / "vm", scrape, latency_offset="1s"))
        # vmalert stores its -external.label on every series it records, so the rules read their own
        # recorded totals back with a label the raw sums lack: the bad-events rules must still match them
        # (they match `on` the group_by labels). Prometheus' external labels are not stored; the second
        # vmalert notifies a sink of its own.
        vmalert = stack.enter_context(VMAlertServer(vm_rules, vm.url, work / "vmalert", am.url, INTERVAL,
                                                    extra_args=["-external.label=engine=vmalert"]))
        sink = stack.enter_context(WebhookReceiver())
        vm_default = stack.enter_context(VictoriaMetricsServer(work / "vm-default", scrape))
        vmalert_default = stack.enter_context(VMAlertServer(vm_rules, vm_default.url, work / "vmalert-default",
                                                            sink.base_url, INTERVAL))
        argv = [str(Path(app.process.argv[0]).parent / "slokit-loadgen"), "--url", app.url, "--rate", str(LOAD_RATE),
                "--duration", "15m", "--seed", "11", "--concurrency", "16"]
        if not Path(argv[0]).exists():
            argv = ["slokit-loadgen", *argv[1:]]
        loadgen = ManagedProcess("loadgen", argv, work / "loadgen.log", env=clean_env()).start()
        stack.callback(loadgen.stop)
        timeline.mark("setup", f"app {app.url}; prometheus {prom.url}; vm {vm.url} + vmalert {vmalert.url}; "
                               f"vm (default latency offset) {vm_default.url} + vmalert {vmalert_default.url}")
        engines = [Engine("prometheus", prom.client), Engine("vmalert", vmalert.client),
                   Engine("vmalert-default", vmalert_default.client)]
        try:
            scenario(app, prom, [vm, vm_default], engines, alerts, page, hook, timeline, notes)
            yield engines, vm, vmalert, timeline
        finally:
            print("\nTimeline\n" + timeline.render())
            print("\n" + "\n".join(notes))
            print("\n" + table(engines))
            (work / "timeline.json").write_text(json.dumps(
                {e.name: {"fired_s": e.fired, "page_resolved_s": e.resolved} for e in engines}, indent=2))


def scenario(app, prom, vms, engines, alerts, page, hook, timeline, notes) -> None:
    client = prom.client
    match = f'{{service="{SERVICE}", slo="{SLO}"}}'
    wait_until(lambda: client.value(f"count({N.slo_total_rate('5m')}{match})"), 60, interval=0.2,
               what="prometheus: first scrape and rule evaluation")
    for vm in vms:
        wait_until(lambda vm=vm: vm.client.value(f"count({N.slo_total_rate('5m')}{match})"), 90, interval=0.5,
                   what=f"{vm.url}: recorded rates from vmalert")
    samples = client.value('count_over_time(up{job="demo-app"}[5m])')
    first_scrape = time.time() - (samples - 1)
    timeline.mark("setup", f"every engine has recorded rates ({samples:.0f} scrapes in Prometheus)")
    time.sleep(max(0.0, HEALTHY_A_S - (time.time() - first_scrape)))
    healthy_s = time.time() - first_scrape
    budget = client.value(f"{N.SLO_ERROR_BUDGET}{match}")
    threshold = page.burn * budget
    bound = max(Detection(threshold, healthy_s, averaged=not uses_raw_counters(w), **OUTAGE).seconds
                for w in (seconds(page.long_window), page.short_s)) + LAG_S
    default_bound = bound + CHAINED_READS * DEFAULT_LATENCY_OFFSET_S
    notes.append(f"{healthy_s:.0f}s of normal traffic; page threshold {threshold:.4g}; detection bound {bound:.1f}s "
                 f"(vmalert with VictoriaMetrics' default latency offset: {default_bound:.1f}s)")
    for engine in engines:
        assert not any(engine.firing(a) for a in alerts.values()), f"{engine.name}: burning before the outage"

    start = timeline.mark("outage", f"provider_outage on; page expected within {bound:.1f}s")
    app.activate("provider_outage")

    def poll() -> bool:
        for engine in engines:
            active = engine.active()  # one request per engine and poll: polling must not lag under load
            now = time.time()
            for tier, alert in alerts.items():
                if tier not in engine.fired and engine.firing(alert, active):
                    engine.fired[tier] = round(now - start, 1)
                    timeline.mark(engine.name, f"{tier} firing after {now - start:.1f}s")
        return all(tier_name(N.SEVERITY_PAGE, "1h") in e.fired for e in engines if e.name in ("prometheus", "vmalert"))

    # Recovery as soon as Prometheus and vmalert page (the live test recovers when Prometheus pages).
    wait_until(poll, bound + 30, interval=0.25, what="the page on Prometheus and vmalert")
    app.clear()
    recovered = timeline.mark("outage", "scenarios cleared (recovery)")
    page_tier = tier_name(N.SEVERITY_PAGE, "1h")
    time.sleep(1.5)
    bad = (client.value(f"sum({N.slo_bad_rate('5m')}{match})") or 0.0) * 300
    total = client.value(f"sum({N.slo_total_rate('5m')}{match})") * 300
    measured_at = time.time()
    # Events since the start, from the 1h rate: still exact once the history outgrows 5m.
    events_1h = lambda what: (client.value(f"sum({what('1h')}{match})") or 0.0) * 3600
    total_1h = events_1h(N.slo_total_rate)
    resolve_bound = resolution_seconds(threshold, bad, total, RECOVERY_RATE_FACTOR * total / (time.time() - first_scrape)) \
        + LAG_S
    notes.append(f"at recovery {bad:.0f} bad of {total:.0f} events: the page resolves within {resolve_bound:.1f}s")

    def resolved() -> bool:
        for engine in engines:
            now = time.time()
            if engine.resolved is None and page_tier in engine.fired and not engine.firing(page):
                engine.resolved = round(now - recovered, 1)
                timeline.mark(engine.name, f"page resolved {now - recovered:.1f}s after recovery")
        return all(e.resolved is not None for e in engines)

    # The default-offset vmalert sees everything about two minutes late; keep timing every engine meanwhile.
    wait_until(lambda: poll() and (resolved() or True) and page_tier in engines[2].fired,
               max(1.0, start + default_bound + 30 - time.time()), interval=0.25,
               what="the page on the default-offset vmalert")
    for engine in engines:
        fired = engine.fired[page_tier]
        limit = default_bound if engine.name == "vmalert-default" else bound
        assert fired <= limit, f"{engine.name}: page after {fired:.1f}s, bound {limit:.1f}s"
    notification, _ = hook.wait_for_alert(
        lambda a: page.matches(a["labels"]) and a["labels"].get("engine") == "vmalert" and a["status"] == "firing",
        5.0, what="vmalert's page at the webhook")
    timeline.mark("vmalert", f"page notification at the webhook after {notification.received_at - start:.1f}s")
    assert notification.received_at - start <= bound
    assert notification.receiver == "page"

    wait_until(resolved, resolve_bound + CHAINED_READS * DEFAULT_LATENCY_OFFSET_S + 30, interval=0.25,
               what="the page to resolve on every engine")
    # As in the live test: the bound above assumes the load generator keeps half its pace, which a loaded
    # machine may not; the traffic there really was (and every bad event counted by then) bounds it too.
    measured_rate = (events_1h(N.slo_total_rate) - total_1h) / max(1e-9, time.time() - measured_at)
    bad_after = events_1h(N.slo_bad_rate)
    held_bound = resolution_seconds(threshold, max(bad, bad_after), total, POISSON_SLACK * measured_rate) + LAG_S
    notes.append(f"recovery traffic {measured_rate:.1f} events/s: the page resolves within {held_bound:.1f}s of it")
    read_late = measured_at - recovered  # the clean traffic before the events were read is in `total`
    for engine in engines:
        limit = max(resolve_bound, held_bound) + read_late + (
            CHAINED_READS * DEFAULT_LATENCY_OFFSET_S if engine.name == "vmalert-default" else 0)
        assert engine.resolved <= limit, f"{engine.name}: resolved after {engine.resolved:.1f}s, bound {limit:.1f}s"


def table(engines: list[Engine]) -> str:
    rows = ["| alert (api-success) | " + " | ".join(e.name for e in engines) + " |",
            "|---|" + "---|" * len(engines)]
    for severity, window in TIERS:
        tier = tier_name(severity, window)
        rows.append(f"| {tier} fires | " + " | ".join(f"{e.fired[tier]:.1f}s" if tier in e.fired else "-"
                                                      for e in engines) + " |")
    rows.append("| page resolves | " + " | ".join(f"{e.resolved:.1f}s" if e.resolved is not None else "-"
                                                 for e in engines) + " |")
    return "\n".join(rows)


def test_the_page_fires_and_resolves_within_the_live_bounds_on_every_engine(run):
    engines, *_ = run
    for engine in engines:
        assert tier_name(N.SEVERITY_PAGE, "1h") in engine.fired and engine.resolved is not None


def test_every_vmalert_rule_evaluates_without_error_and_records_data(run):
    _, vm, vmalert, _ = run
    groups = vmalert.client.rule_groups()
    assert len(groups) > 5
    rules = [r for g in groups for r in g["rules"]]
    broken = [(r["name"], r.get("lastError")) for r in rules if r.get("lastError")]
    assert not broken, broken
    recording = [r for r in rules if r["type"] == "recording"]
    assert len(recording) > 100
    empty = []
    for rule in recording:
        matchers = ", ".join(f'{k}="{v}"' for k, v in sorted(rule.get("labels", {}).items()))
        if not vm.client.query(f'{rule["name"]}{{{matchers}}}'):
            empty.append(f"{rule['name']}{{{matchers}}}")
    assert not empty, f"recording rules without data in VictoriaMetrics: {empty}"

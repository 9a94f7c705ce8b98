"""`make demo-local`: the demo without Docker, on 127.0.0.1.

    python stack/demo_local.py up [--normal 60s --outage 6m --recovery 3m]   # start, run the scenario, leave running
    python stack/demo_local.py status                                      # what runs where
    python stack/demo_local.py down                                        # stop everything it started

`up` starts the demo app (`slokit-demo-app`), its load generator
(`slokit-loadgen`), the alert sink (stack/alert_sink.py), Alertmanager with
the stack's routing (stack/alertmanager/alertmanager.yml, receivers pointed at
the sink) and the Debian Prometheus with the generated rules (alerts/*.rules.yaml),
each listening on 127.0.0.1 only; then runs normal traffic, a provider outage
and recovery through the app's admin endpoint, printing a timeline of what
went pending, fired, resolved and was notified. Everything keeps running for
`slokit status` and `slokit report` until `down`. Process ids, ports, logs
and the generated admin token are in .demo-local/ (the token file is 0600).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
STATE_DIR = Path(".demo-local")
STACK_ALERTMANAGER = REPO / "stack" / "alertmanager" / "alertmanager.yml"
ALERT_SINK = REPO / "stack" / "alert_sink.py"
DEFAULT_PORTS = {"app": 8000, "prometheus": 9090, "alertmanager": 9093, "sink": 9099}


def parse_duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1:] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name) or (str(Path(sys.executable).parent / name)
                                      if (Path(sys.executable).parent / name).exists() else None)
        if path:
            return path
    sys.exit(f"demo-local: {names[0]} is not installed (run `make system-deps` / `make setup`)")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own 127.0.0.1 services
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310
        return json.load(resp)


def admin(state: dict, method: str, path: str, body: dict | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{state['ports']['app']}/admin/{path}", data=data, method=method,
                                 headers={"authorization": f"Bearer {token(state)}", "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10):  # noqa: S310
        pass


def token(state: dict) -> str:
    return (Path(state["dir"]) / "admin-token").read_text().strip()


# -- configs ------------------------------------------------------------------


def alertmanager_config(sink_port: int, fast: bool) -> dict:
    """The stack's routing and inhibition, its webhooks pointed at the local sink."""
    config = yaml.safe_load(STACK_ALERTMANAGER.read_text())
    for receiver in config.get("receivers", []):
        for hook in receiver.get("webhook_configs", []):
            path = hook["url"].split("/", 3)[-1]
            hook["url"] = f"http://127.0.0.1:{sink_port}/{path}"
    if fast:  # the shortened run notifies within seconds
        config["route"].update(group_wait="1s", group_interval="5s")
        for route in config["route"].get("routes", []):
            route["group_wait"] = "1s"
    return config


def prometheus_config(ports: dict, rules: list[Path], interval: str) -> dict:
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(p.resolve()) for p in rules],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{ports['alertmanager']}"]}]}]},
        "scrape_configs": [{"job_name": "demo-app", "static_configs": [{"targets": [f"127.0.0.1:{ports['app']}"]}]},
                           {"job_name": "prometheus",
                            "static_configs": [{"targets": [f"127.0.0.1:{ports['prometheus']}"]}]}],
    }


# -- processes ------------------------------------------------------------------


@dataclass
class Started:
    name: str
    pid: int
    marker: str  # a word in its command line, checked before stopping it (pids are reused)


def start(name: str, argv: list[str], state_dir: Path, env: dict | None = None) -> Started:
    log = open(state_dir / f"{name}.log", "wb")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True)  # survives `up` returning; stopped by `down`
    log.close()
    return Started(name, proc.pid, Path(argv[0]).name if name != "sink" else "alert_sink.py")


def wait_ready(name: str, url: str, state_dir: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_ok(url):
            return
        time.sleep(0.2)
    sys.exit(f"demo-local: {name} did not become ready at {url}; see {state_dir / (name + '.log')}")


def alive(p: dict) -> bool:
    try:
        cmdline = Path(f"/proc/{p['pid']}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return p["marker"] in cmdline


def stop(p: dict) -> None:
    if not alive(p):
        return
    os.kill(p["pid"], signal.SIGTERM)
    for _ in range(100):
        if not alive(p):
            return
        time.sleep(0.1)
    os.kill(p["pid"], signal.SIGKILL)


def load_state(state_dir: Path) -> dict | None:
    path = state_dir / "state.json"
    return json.loads(path.read_text()) if path.exists() else None


def save_state(state_dir: Path, state: dict) -> None:
    (state_dir / "state.json").write_text(json.dumps(state, indent=2) + "\n")


# -- the scenario -------------------------------------------------------------------


class Timeline:
    """Prints alert state changes (from Prometheus) and notifications (from the sink's log) as they happen."""

    def __init__(self, state: dict) -> None:
        self.state = state
        self.t0 = time.monotonic()
        self.alerts: dict[tuple, str] = {}
        self.sink_lines = 0
        self.events: list[str] = []

    def say(self, text: str) -> None:
        elapsed = int(time.monotonic() - self.t0)
        line = f"+{elapsed // 60:02d}:{elapsed % 60:02d}  {text}"
        self.events.append(line)
        print(line, flush=True)

    @staticmethod
    def key(labels: dict) -> tuple:
        target = f"{labels.get('service', '')}/{labels.get('slo') or labels.get('budget', '')}"
        extra = " ".join(f"{k}={labels[k]}" for k in ("feature", "tool", "connector") if k in labels)
        return (labels.get("alertname", ""), target, labels.get("severity", ""), labels.get("long_window", ""), extra)

    def poll(self) -> None:
        port = self.state["ports"]["prometheus"]
        try:
            alerts = get_json(f"http://127.0.0.1:{port}/api/v1/alerts")["data"]["alerts"]
        except (urllib.error.URLError, OSError, KeyError, ValueError):
            return
        now = {self.key(a["labels"]): a["state"] for a in alerts}
        for key, st in sorted(now.items()):
            if self.alerts.get(key) != st:
                self.say(f"{st.upper():<8} {' '.join(k for k in key if k)}")
        for key in sorted(set(self.alerts) - set(now)):
            self.say(f"RESOLVED {' '.join(k for k in key if k)}")
        self.alerts = now
        sink_log = Path(self.state["dir"]) / "sink.log"
        lines = sink_log.read_text(errors="replace").splitlines() if sink_log.exists() else []
        for line in lines[self.sink_lines:]:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            target = f"{rec.get('service', '')}/{rec.get('slo') or rec.get('budget', '')}"
            self.say(f"NOTIFIED {rec.get('receiver', '?')}: {rec.get('status', '?')} {rec.get('alertname', '')} "
                     f"{target} {rec.get('long_window', '')}".rstrip())
        self.sink_lines = len(lines)

    def phase(self, text: str, seconds: float, poll: float) -> None:
        self.say(f"---- {text} ({int(seconds)}s)")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.poll()
            time.sleep(min(poll, max(0.0, end - time.monotonic())))
        self.poll()


def up(args) -> None:
    state_dir = Path(args.state_dir)
    old = load_state(state_dir)
    if old and any(alive(p) for p in old["processes"]):
        sys.exit(f"demo-local: already running (see `{Path(sys.argv[0]).name} status`); stop it with `down` first")
    rules = sorted(Path(args.rules).glob("*.rules.yaml"))
    if not rules:
        sys.exit(f"demo-local: no {args.rules}/*.rules.yaml; run `slokit generate slos/` first (make demo-local does)")
    ports = {"app": args.app_port, "prometheus": args.prometheus_port, "alertmanager": args.alertmanager_port,
             "sink": args.sink_port}
    busy = [f"{name} {port}" for name, port in ports.items() if not port_free(port)]
    if busy:
        sys.exit(f"demo-local: ports in use on 127.0.0.1: {', '.join(busy)}; pass other ports (see --help)")
    state_dir.mkdir(parents=True, exist_ok=True)
    token_file = state_dir / "admin-token"
    token_file.write_text(secrets.token_hex(16) + "\n")
    token_file.chmod(0o600)
    (state_dir / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager_config(ports["sink"], args.fast)))
    (state_dir / "prometheus.yml").write_text(yaml.safe_dump(prometheus_config(ports, rules, args.interval),
                                                             sort_keys=False))
    state = {"dir": str(state_dir.resolve()), "ports": ports, "processes": []}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOKIT_APP_", "OTEL_"))}
    app_env = {**env, "SLOKIT_APP_ADMIN_TOKEN": token_file.read_text().strip()}

    def launch(name: str, argv: list[str], ready: str, env_: dict | None = None) -> None:
        p = start(name, argv, state_dir, env_)
        state["processes"].append(p.__dict__)
        save_state(state_dir, state)
        wait_ready(name, ready, state_dir)

    launch("sink", [sys.executable, "-u", str(ALERT_SINK), "--port", str(ports["sink"])],
           f"http://127.0.0.1:{ports['sink']}/healthz")
    launch("alertmanager", [binary("prometheus-alertmanager", "alertmanager"),
                            f"--config.file={state_dir / 'alertmanager.yml'}", f"--storage.path={state_dir / 'am-data'}",
                            f"--web.listen-address=127.0.0.1:{ports['alertmanager']}", "--cluster.listen-address="],
           f"http://127.0.0.1:{ports['alertmanager']}/-/ready")
    launch("app", [binary("slokit-demo-app"), "--host", "127.0.0.1", "--port", str(ports["app"])],
           f"http://127.0.0.1:{ports['app']}/healthz", app_env)
    launch("prometheus", [binary("prometheus"), f"--config.file={state_dir / 'prometheus.yml'}",
                          f"--storage.tsdb.path={state_dir / 'prometheus-data'}", "--storage.tsdb.retention.time=35d",
                          f"--web.listen-address=127.0.0.1:{ports['prometheus']}"],
           f"http://127.0.0.1:{ports['prometheus']}/-/ready")
    p = start("loadgen", [binary("slokit-loadgen"), "--url", f"http://127.0.0.1:{ports['app']}", "--rate",
                          str(args.rate), "--duration", "720h", "--concurrency", "8"], state_dir, env)
    state["processes"].append(p.__dict__)
    save_state(state_dir, state)
    print(f"demo-local: app http://127.0.0.1:{ports['app']}  Prometheus http://127.0.0.1:{ports['prometheus']}  "
          f"Alertmanager http://127.0.0.1:{ports['alertmanager']}  logs and state in {state_dir}/", flush=True)
    timeline = Timeline(state)
    poll = min(5.0, parse_duration(args.interval))
    timeline.phase("normal traffic", parse_duration(args.normal), poll)
    admin(state, "PUT", "scenarios/provider_outage", {"params": {}})
    timeline.phase("provider outage (every model call fails)", parse_duration(args.outage), poll)
    admin(state, "DELETE", "scenarios")
    timeline.phase("recovery", parse_duration(args.recovery), poll)
    (state_dir / "timeline.txt").write_text("\n".join(timeline.events) + "\n")
    prom = f"http://127.0.0.1:{ports['prometheus']}"
    print(f"\nStill running. Try:\n  slokit status --prometheus {prom}\n  slokit report --prometheus {prom} --last 1h\n"
          f"Stop everything: make demo-local-down   (or: python stack/demo_local.py down)")


def status(args) -> None:
    state = load_state(Path(args.state_dir))
    if not state:
        print("demo-local: not running")
        return
    for p in state["processes"]:
        print(f"{p['name']:<13} pid {p['pid']:<8} {'running' if alive(p) else 'stopped'}")
    print(" ".join(f"{k} 127.0.0.1:{v}" for k, v in state["ports"].items()))


def down(args) -> None:
    state_dir = Path(args.state_dir)
    state = load_state(state_dir)
    if not state:
        print("demo-local: nothing to stop")
        return
    for p in reversed(state["processes"]):
        stop(p)
        print(f"stopped {p['name']} (pid {p['pid']})")
    (state_dir / "state.json").unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", default=str(STATE_DIR), help="Where pids, configs, logs and data go.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="Start everything, run the scenario, leave it running.")
    p_up.add_argument("--rules", default="alerts", help="Directory of generated *.rules.yaml.")
    p_up.add_argument("--normal", default="60s")
    p_up.add_argument("--outage", default="6m", help="A full 1h window pages after about 4.3 minutes of total outage.")
    p_up.add_argument("--recovery", default="3m")
    p_up.add_argument("--interval", default="10s", help="Scrape and rule evaluation interval.")
    p_up.add_argument("--rate", type=float, default=5.0, help="Load generator requests per second.")
    p_up.add_argument("--fast", action="store_true", help="Alertmanager groups and notifies within seconds.")
    for name, port in DEFAULT_PORTS.items():
        p_up.add_argument(f"--{name}-port", type=int, default=port)
    sub.add_parser("status", help="Show what runs.")
    sub.add_parser("down", help="Stop everything `up` started.")
    args = parser.parse_args(argv)
    {"up": up, "status": status, "down": down}[args.command](args)


if __name__ == "__main__":
    main()

"""stack/docker-compose.yml, rendered by a real Compose (Debian's
docker-compose 1.29 renders `config` without a Docker engine), checked for
what the issue requires: pinned images, loopback-only ports, mounts that
exist or are generated, health checks, depends_on conditions, named
volumes, restart policies, resource limits, secure defaults."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from support.compose import REQUIRED_VARS, compose_config

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "stack"
# A client and a scratch image: nothing to probe with (documented in the compose file).
NO_HEALTHCHECK = {"loadgen": "a client, nothing listens", "otel-collector": "scratch image: no shell or HTTP client"}
PINNED = re.compile(r"^[a-z0-9][a-z0-9./_-]*:v?\d+\.\d+\.\d+(-[a-z0-9.-]+)?$")


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> dict:
    return compose_config(tmp_path_factory.mktemp("compose")).config


@pytest.fixture(scope="module")
def services(config) -> dict:
    return config["services"]


def test_the_stack_has_every_service_of_the_issue(services):
    assert set(services) == {"app", "loadgen", "prometheus", "prometheus-ui", "alertmanager", "alert-sink",
                             "otel-collector", "tempo", "grafana"}


def test_every_image_is_pinned_to_an_exact_version(services):
    for name, service in services.items():
        image = service["image"]
        assert PINNED.match(image), f"{name}: image {image!r} is not pinned to an exact version"
        assert not image.endswith(":latest")
    built = {name for name, s in services.items() if "build" in s}
    # The app image is built here from the repository; the others are pulled.
    assert built == {"app", "loadgen", "alert-sink", "prometheus-ui"}
    assert {services[n]["build"]["dockerfile"] for n in built} == {"stack/Dockerfile"}
    assert {services[n]["build"]["context"] for n in built} == {str(REPO)}


def test_published_ports_bind_loopback_only(services):
    published = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            spec = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port['published']}:{port['target']}"
            assert spec.startswith("127.0.0.1:"), f"{name} publishes {spec} beyond loopback"
            published[name] = published.get(name, []) + [spec.split(":")[1]]
    assert published["grafana"] == ["3000"] and published["prometheus-ui"] == ["9090"]
    # Prometheus's own port carries the remote-write receiver: reachable on the compose network only.
    assert "prometheus" not in published
    assert "alert-sink" not in published and "loadgen" not in published


def test_admin_endpoint_is_not_reachable_through_the_published_port(services):
    env = services["app"]["environment"]
    # Published port = the API port; the admin routes on it refuse non-loopback
    # clients (published traffic arrives from the Docker bridge), token or not.
    assert env["SLOKIT_APP_ADMIN_ALLOW_REMOTE"] == "false"
    assert env["SLOKIT_APP_ADMIN_TOKEN"] == REQUIRED_VARS["SLOKIT_APP_ADMIN_TOKEN"]
    assert env["SLOKIT_APP_DEBUG_CAPTURE_RATE"] == "0"


def _generated_or_committed(source: Path, generated: Path) -> bool:
    """In git (when this is a checkout; else on disk), or written by `slokit generate`."""
    rel = source.relative_to(REPO)
    if (generated / rel).exists():
        return True
    in_checkout = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=REPO, capture_output=True).returncode == 0
    if not in_checkout:
        return source.exists()
    return subprocess.run(["git", "ls-files", "--error-unmatch", str(rel)], cwd=REPO,
                          capture_output=True).returncode == 0


def test_every_bind_mount_exists_in_the_repo_or_is_generated(services, generated):
    mounts = []
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if source.startswith("/"):
                mounts.append((name, Path(source)))
    assert len(mounts) >= 7
    for name, source in mounts:
        assert source.is_relative_to(REPO), f"{name} mounts {source} from outside the repository"
        assert _generated_or_committed(source, generated), \
            f"{name} mounts {source.relative_to(REPO)}: neither committed nor written by `slokit generate`"
    sources = {str(s.relative_to(REPO)) for _, s in mounts}
    # The three generated trees the stack consumes.
    assert {"alerts", "dashboards", "stack/grafana/provisioning"} <= sources


def test_named_volumes_restart_policies_limits(config, services):
    assert set(config["volumes"]) == {"prometheus-data", "alertmanager-data", "tempo-data", "grafana-data"}
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert service.get("mem_limit"), f"{name} has no memory limit"
        assert float(service.get("cpus", 0)) > 0, f"{name} has no CPU limit"
        assert service.get("pids_limit"), f"{name} has no pids limit"
    for volume in ("prometheus-data", "alertmanager-data", "tempo-data", "grafana-data"):
        assert any(str(v).startswith(volume + ":") for s in services.values() for v in s.get("volumes", []))


def test_health_checks_and_depends_on_conditions(services):
    for name, service in services.items():
        if name in NO_HEALTHCHECK:
            assert "healthcheck" not in service
            continue
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD" and any("127.0.0.1" in part for part in test), f"{name}: {test}"
    for name, service in services.items():
        for dep, spec in service.get("depends_on", {}).items():
            condition = spec["condition"]
            expected = "service_started" if dep in NO_HEALTHCHECK else "service_healthy"
            assert condition == expected, f"{name} -> {dep}: {condition}"
    assert services["grafana"]["depends_on"].keys() == {"prometheus", "tempo", "alertmanager"}
    assert "app" in services["loadgen"]["depends_on"]


def test_prometheus_flags(services):
    command = services["prometheus"]["command"]
    assert "--enable-feature=exemplar-storage" in command
    assert "--web.enable-remote-write-receiver" in command
    assert "ports" not in services["prometheus"]
    proxy = services["prometheus-ui"]["command"]
    assert proxy[:3] == ["python", "-m", "slokit_app.readonly_proxy"]
    assert proxy[proxy.index("--upstream") + 1] == "http://prometheus:9090"
    assert not any(flag.startswith(("--web.enable-admin-api", "--web.enable-lifecycle")) for flag in command)
    assert "--cluster.listen-address=" in services["alertmanager"]["command"]


def test_grafana_secure_defaults(services):
    env = services["grafana"]["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == REQUIRED_VARS["GF_ADMIN_PASSWORD"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"


@pytest.mark.parametrize("missing", sorted(REQUIRED_VARS))
def test_a_missing_secret_fails_with_a_clear_message(tmp_path, missing):
    variables = {k: v for k, v in REQUIRED_VARS.items() if k != missing}
    result = compose_config(tmp_path, variables)
    assert result.returncode != 0
    assert f"set {missing} in stack/.env" in result.stderr
    assert "Traceback" not in result.stderr


def test_empty_secret_fails_too(tmp_path):
    # `.env.example` ships the keys with empty values: copying it unchanged must not start Grafana.
    result = compose_config(tmp_path, {**REQUIRED_VARS, "GF_ADMIN_PASSWORD": ""})
    assert result.returncode != 0 and "set GF_ADMIN_PASSWORD in stack/.env" in result.stderr


def test_env_example_lists_the_required_secrets_without_values():
    lines = dict(line.split("=", 1) for line in (STACK / ".env.example").read_text().splitlines()
                 if line and not line.startswith("#"))
    for var in REQUIRED_VARS:
        assert lines[var] == "", f"{var} must ship empty in .env.example"
    ignored = subprocess.run(["git", "check-ignore", "-q", "stack/.env"], cwd=REPO).returncode
    assert ignored == 0, "stack/.env must be git-ignored"


def test_make_up_generates_before_starting_the_stack():
    out = subprocess.run(["make", "-n", "up"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    generate = next(i for i, line in enumerate(lines) if "slokit generate" in line)
    up = next(i for i, line in enumerate(lines) if "-f stack/docker-compose.yml up -d" in line)
    assert generate < up

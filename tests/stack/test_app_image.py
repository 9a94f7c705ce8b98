"""The demo app image (stack/Dockerfile), checked without Docker: the files
it copies exist and pass its .dockerignore, the project installs from
exactly those files (non-editable, as `pip install .` in the image does),
and the installed app and alert sink run from that install."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from support.ports import free_port
from support.process import ManagedProcess, clean_env, http_ok

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "stack" / "Dockerfile"
IGNORE = REPO / "stack" / "Dockerfile.dockerignore"


def copy_sources() -> list[str]:
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            *srcs, _dest = line.split()[1:]
            sources += srcs
    return sources


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.rstrip("/")
        if fnmatch.fnmatch(path, body) or path.startswith(body + "/"):
            result = not negate
    return result


def test_dockerfile_pins_its_base_and_copies_existing_allowed_files():
    text = DOCKERFILE.read_text()
    (base,) = re.findall(r"^FROM (\S+)", text, re.M)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), base
    assert re.search(r"^USER \d+", text, re.M), "the image must not run as root"
    patterns = [line.strip() for line in IGNORE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    sources = copy_sources()
    assert {"pyproject.toml", "generator", "stack/app", "slos", "stack/alert_sink.py"} <= set(sources)
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file"
        assert not ignored(source, patterns), f"COPY {source} is excluded by {IGNORE.name}"
    assert ignored(".venv", patterns) and ignored("tests", patterns) and ignored("stack/.env", patterns)


def test_the_image_file_set_installs_and_runs(tmp_path):
    context = tmp_path / "context"
    for source in copy_sources():
        target = context / source
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / source).is_dir():
            shutil.copytree(REPO / source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / source, target)
    site = tmp_path / "site"
    out = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                          str(context)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr

    # The dependencies come from the test venv; the package from the image's file set only.
    env = clean_env(PYTHONPATH=str(site), SLOKIT_APP_CATALOG=str(context / "slos" / "catalog.yaml"),
                    SLOKIT_APP_ADMIN_TOKEN="t")
    code = "import slokit, slokit_app; print(slokit.__file__, slokit_app.__file__)"
    where = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                           timeout=60)
    assert where.returncode == 0 and all(p.startswith(str(site)) for p in where.stdout.split()), where

    port = free_port()
    app = ManagedProcess("image-app", [sys.executable, "-m", "slokit_app", "--port", str(port)],
                         tmp_path / "app.log", env=env, cwd=tmp_path).start()
    try:
        app.wait_ready(http_ok(f"http://127.0.0.1:{port}/healthz"))
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/rag/answer", json={"question": "Refund policy?"})
        assert answer.status_code == 200
        assert "llm_requests_total" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        app.stop()

    sink_port = free_port()
    sink = ManagedProcess("alert-sink", [sys.executable, str(context / "stack" / "alert_sink.py"),
                                         "--port", str(sink_port)], tmp_path / "sink.log", env=env).start()
    try:
        sink.wait_ready(http_ok(f"http://127.0.0.1:{sink_port}/healthz"))
        payload = {"receiver": "page", "status": "firing", "alerts": [{
            "status": "firing", "labels": {"alertname": "SLOErrorBudgetBurn", "severity": "page", "slo": "api-success"},
            "annotations": {"runbook_url": "https://runbooks.example.com/x"}}]}
        assert httpx.post(f"http://127.0.0.1:{sink_port}/page", json=payload).status_code == 200
    finally:
        sink.stop()
    records = [json.loads(line) for line in (tmp_path / "sink.log").read_text().splitlines() if line.startswith("{")]
    assert records == [{"alertname": "SLOErrorBudgetBurn", "receiver": "page", "severity": "page", "slo": "api-success",
                        "status": "firing", "runbook_url": "https://runbooks.example.com/x"}]

"""`slokit diff` on changes to the bundled example in a scratch git repository."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from slokit.cli import main

ROOT = Path(__file__).resolve().parents[2]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "slos", tmp_path / "slos")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def diff_json(*args: str) -> dict:
    result = CliRunner().invoke(main, ["diff", "slos", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_no_change_is_empty(repo):
    doc = diff_json()
    assert doc["empty"] and doc["slos"] == [] and doc["files"] == []


def test_tightened_objective(repo):
    spec = repo / "slos" / "support-chatbot.yaml"
    edit(spec, "objective: 99.5", "objective: 99.9")
    doc = diff_json()
    (change,) = doc["slos"]
    assert (change["service"], change["slo"], change["status"], change["fields"]) == (
        "support-chatbot", "api-success", "changed", ["objective"])
    assert (change["before"]["outage_minutes"], change["after"]["outage_minutes"]) == (216.0, 43.2)
    assert (change["before"]["failed_per_million"], change["after"]["failed_per_million"]) == (5000.0, 1000.0)
    # Detection of a full outage by the fast page tier: 4m19s before, 52s after (the plan's arithmetic).
    first = lambda side: next(iter(change[side]["detection"].values()))[0]
    assert (first("before"), first("after")) == ("4m19s", "52s")
    assert doc["alerts_added"] == doc["alerts_removed"] == []
    paths = {f["path"]: f for f in doc["files"]}
    assert "alerts/support-chatbot.rules.yaml" in paths and not any("rag-assistant" in p for p in paths)
    assert all(f["added"] > 0 for f in paths.values())
    md = CliRunner().invoke(main, ["diff", "slos"]).stdout
    assert "- **changed** SLO support-chatbot/api-success: objective" in md
    assert "216 min of full outage, 5000 failed per million → 43.2 min of full outage, 1000 failed per million" in md
    assert "<details>" in md


def test_new_service(repo):
    new = repo / "slos" / "faq-bot.yaml"
    text = (repo / "slos" / "rag-assistant.yaml").read_text(encoding="utf-8")
    new.write_text(text.replace("service: rag-assistant", "service: faq-bot"), encoding="utf-8")
    doc = diff_json()
    assert doc["services_added"] == ["faq-bot"] and doc["services_removed"] == []
    assert {c["status"] for c in doc["slos"]} == {"added"} and all(c["service"] == "faq-bot" for c in doc["slos"])
    assert doc["alerts_added"] and all(a.startswith("faq-bot: ") for a in doc["alerts_added"])
    added_files = {f["path"] for f in doc["files"] if f["status"] == "added"}
    assert "alerts/faq-bot.rules.yaml" in added_files and "dashboards/faq-bot.json" in added_files


def test_removed_slo(repo):
    spec = repo / "slos" / "rag-assistant.yaml"
    text = spec.read_text(encoding="utf-8")
    begin = text.index("\nslos:\n") + len("\nslos:\n")
    end = begin + (re.search(r"^\S", text[begin:], re.M) or re.search(r"\Z", text[begin:])).start()
    starts = [begin + m.start() for m in re.finditer(r"^  - name: ", text[begin:end], re.M)]
    assert len(starts) >= 2
    removed_name = re.match(r"  - name: (\S+)", text[starts[-1]:]).group(1)
    spec.write_text(text[: starts[-1]] + text[end:], encoding="utf-8")
    doc = diff_json()
    (change,) = doc["slos"]
    assert (change["slo"], change["status"], change["after"]) == (removed_name, "removed", None)
    assert doc["alerts_removed"] and not doc["alerts_added"]
    assert all(a.startswith("rag-assistant: ") for a in doc["alerts_removed"])


def test_changed_tier_against_an_explicit_base(repo):
    spec = repo / "slos" / "rag-assistant.yaml"
    git(repo, "checkout", "-qb", "feature")
    edit(spec, "{severity: ticket, budget_percent: 15, long_window: 1d, short_window: 2h}",
         "{severity: ticket, budget_percent: 20, long_window: 1d, short_window: 2h}")
    git(repo, "commit", "-qam", "tiers")
    doc = diff_json("--base", "main")
    changed = [c for c in doc["slos"] if c["status"] == "changed"]
    assert changed and all("tiers" in c["fields"] for c in changed)
    before, after = changed[0]["before"]["tiers"], changed[0]["after"]["tiers"]
    assert any("15%/1d" in t for t in before) and any("20%/1d" in t for t in after)
    assert changed[0]["before"]["detection"] != changed[0]["after"]["detection"]
    # The default base is the merge base with main: the same answer on this branch.
    assert diff_json()["slos"] == doc["slos"]


def test_unknown_ref_is_a_clear_error(repo):
    result = CliRunner().invoke(main, ["diff", "slos", "--base", "no-such-ref"])
    assert result.exit_code == 1 and "unknown git ref 'no-such-ref'" in result.stderr


def test_budget_at_current_traffic_from_a_real_prometheus(repo, start_prometheus):
    from prometheus_client import CollectorRegistry, Counter, start_http_server

    from support.ports import free_port
    from support.prometheus import prometheus_config
    from support.wait import wait_until

    registry = CollectorRegistry()
    requests = Counter("llm_requests", "calls", ["feature", "status"], registry=registry)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        prom = start_prometheus(prometheus_config({"app": [f"127.0.0.1:{port}"]}))
        query = 'sum(rate(llm_requests_total{feature=~"order_agent|support_chat"}[1h]))'

        def traffic() -> bool:
            requests.labels("support_chat", "ok").inc(50)
            return (prom.client.value(query) or 0) > 0

        wait_until(traffic, timeout=60)
        spec = repo / "slos" / "support-chatbot.yaml"
        edit(spec, "objective: 99.5", "objective: 99.9")
        doc = diff_json("--prometheus", prom.url)
    finally:
        server.shutdown()
    (change,) = doc["slos"]
    for side, budget in (("before", 0.005), ("after", 0.001)):
        facts = change[side]
        assert facts["events_per_second"] > 0
        assert facts["budget_events_now"] == pytest.approx(budget * facts["events_per_second"] * 30 * 86400)
    md = CliRunner().invoke(main, ["diff", "slos", "--prometheus", prom.url]).stdout
    assert "failed events at current traffic" in md


def test_a_repository_template_renders_the_markdown_and_user_text_is_escaped_once(repo):
    # A service whose name is plain but whose SLO description carries markup: the shipped template escapes it.
    edit(repo / "slos" / "support-chatbot.yaml", "objective: 99.5", "objective: 99.9")
    templates = repo / "slos" / "templates"
    templates.mkdir()
    (templates / "diff.md.j2").write_text(
        "## SLO review\n{% for c in d.slos %}* {{ c.service | md }}/{{ c.slo | md }}: {{ c.fields | join(',') }}\n"
        "{% endfor %}{{ '<b>*x*</b>' | md }}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", "slos"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("## SLO review\n* support-chatbot/api-success: objective\n")
    # The `md` filter leaves no markup: no tag, no emphasis.
    assert "<b>" not in result.stdout and "*x*" not in result.stdout
    shipped = CliRunner().invoke(main, ["diff", "slos", "--templates", str(repo / "missing")])
    assert shipped.exit_code == 2  # a --templates directory that does not exist is a usage error
    (templates / "diff.md.j2").write_text("{% for x in %}\n", encoding="utf-8")
    broken = CliRunner().invoke(main, ["diff", "slos"])
    assert broken.exit_code == 1
    assert "diff.md.j2:1:1: diff template:" in broken.stderr and "Traceback" not in broken.output

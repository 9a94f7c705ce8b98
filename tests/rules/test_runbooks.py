"""Runbooks from templates: playbook category from the catalog, template overrides, kept sections.

`slokit generate` runs as a process (the real CLI, its exit codes and messages); category detection and
kept-section parsing are checked on their functions.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from slokit.plan import build_plan
from slokit.project import load_project
from slokit.render import playbooks as P
from slokit.render.keep import END, ORPHANS_HEADING, kept_sections, start_marker
from slokit.render.runbooks import RunbookInputs, render

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "slos" / "catalog.yaml"
SLOKIT = Path(sys.executable).parent / "slokit"
RUNBOOK = "docs/runbooks/shop.md"

# A catalog whose metric names say nothing: the category has to come from units, HELP, OTel and labels.
ODD_CATALOG = {
    "version": 1,
    "labels": {"kind": {"description": "Final outcome of the call.", "values": ["ok", "bad", "other"]},
               "src": {"description": "Data source queried.", "values": ["a", "b", "other"]},
               "fn": {"description": "Which function the agent invoked.", "values": ["x", "y", "other"]},
               "feature": {"description": "Product feature.", "values": ["f1", "other"]}},
    "metrics": {
        "m_calls_total": {"type": "counter", "unit": "requests", "help": "Model calls by final status.",
                          "labels": ["kind", "feature"]},
        "m_wait_seconds": {"type": "histogram", "unit": "seconds", "help": "Wait until the first streamed token.",
                           "labels": ["feature"], "buckets": [0.5, 1, 2]},
        "m_wall_seconds": {"type": "histogram", "unit": "seconds", "help": "Wall time of one call.",
                           "labels": ["feature"], "buckets": [1, 5, 10]},
        "m_declines_total": {"type": "counter", "unit": "responses", "help": "Answers the model declined to give.",
                             "labels": ["feature"]},
        "m_grade": {"type": "histogram", "unit": "score", "help": "Sampled eval grade, 0-1.",
                    "labels": ["feature"], "buckets": [0.5, 0.8]},
        "m_lookups_total": {"type": "counter", "unit": "requests", "help": "Retrieval queries by result.",
                            "labels": ["src", "kind"]},
        "m_actions_total": {"type": "counter", "unit": "calls", "help": "Tool calls made by the agent.",
                            "labels": ["fn", "kind"]},
    },
}


def _ratio(metric: str, match: dict) -> dict:
    return {"ratio": {"good": {"metric": metric, "match": match}, "total": {"metric": metric}}}


ODD_SLOS = {
    "errors": _ratio("m_calls_total", {"kind": "ok"}),
    "ttft": {"threshold": {"metric": "m_wait_seconds", "le": 1}},
    "wall": {"threshold": {"metric": "m_wall_seconds", "le": 5}},
    "quality": {"threshold": {"metric": "m_grade", "gt": 0.8}},
    "refusals": {"raw": {"bad": "rate(m_declines_total[{{window}}])", "total": "rate(m_calls_total[{{window}}])"}},
    "retrieval": _ratio("m_lookups_total", {"kind": "ok"}),
    "tools": _ratio("m_actions_total", {"kind": "ok"}),
}
EXPECTED = {"errors": P.ERRORS, "ttft": P.LATENCY, "wall": P.LATENCY, "quality": P.QUALITY,
            "refusals": P.REFUSALS, "retrieval": P.RETRIEVAL, "tools": P.TOOLS}


def shop_spec(description: str = "The shop.", slo_description: str = "Calls that work.") -> dict:
    return {"version": 1, "service": "shop", "owner": "team-a", "description": description,
            "slos": [{"name": "api", "description": slo_description, "objective": 99,
                      "sli": _ratio("llm_requests_total", {"status": "ok"})},
                     {"name": "ttft", "objective": 95, "sli": {"threshold": {"metric": "llm_ttft_seconds", "le": 1}}}],
            "budgets": [{"name": "spend", "metric": "llm_cost_usd_total", "limit": 100}]}


def write_project(root: Path, spec: dict) -> Path:
    specs = root / "slos"
    specs.mkdir(parents=True, exist_ok=True)
    (specs / "shop.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    (specs / "catalog.yaml").write_text(CATALOG.read_text(encoding="utf-8"), encoding="utf-8")
    return specs


def generate(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOKIT_")}
    return subprocess.run([str(SLOKIT), "generate", "slos/", *args], cwd=root, capture_output=True, text=True,
                          env=env, timeout=120)


def test_category_comes_from_the_catalog_not_the_metric_names(tmp_path):
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(ODD_CATALOG), encoding="utf-8")
    slos = [{"name": name, "objective": 95, "sli": sli} for name, sli in ODD_SLOS.items()]
    (tmp_path / "odd.yaml").write_text(yaml.safe_dump({"version": 1, "service": "odd", "owner": "t",
                                                       "description": "d", "slos": slos}), encoding="utf-8")
    plan = build_plan(load_project([tmp_path / "odd.yaml"], tmp_path / "catalog.yaml"))
    got = {s.name: P.category(s, plan.catalog) for s in plan.services[0].slos}
    assert got == EXPECTED
    parts = {s.name: P.latency_part(s, plan.catalog) for s in plan.services[0].slos if got[s.name] == P.LATENCY}
    assert parts == {"ttft": P.TTFT, "wall": P.TOTAL}
    errors = next(s for s in plan.services[0].slos if s.name == "errors")
    playbook = P.slo_playbook(errors, plan.services[0], plan.catalog, P.DashboardIndex.of(plan.services[0],
                                                                                         plan.catalog))
    # The outcome label is an error kind (its description says so), the feature a slice.
    assert playbook.kinds == ("kind",) and playbook.slices == ("feature",)
    text = render(plan)["docs/runbooks/odd.md"]
    for heading in ("provider outage or errors", "latency spike (time to first token)", "quality drop",
                    "refusal spike", "retrieval empty or failing", "tool failures"):
        assert f"**Playbook: {heading}.**" in text


def test_bundled_runbooks_link_panels_and_tempo_with_the_scope(tmp_path):
    plan = build_plan(load_project([REPO / "slos" / "support-chatbot.yaml"], CATALOG))
    text = render(plan)["docs/runbooks/support-chatbot.md"]
    section = text.split("## ttft-under-1s", 1)[1].split("\n## ", 1)[0]
    assert "**Playbook: latency spike (time to first token).**" in section
    # Panels by id on the service dashboard, with the scope's features preselected.
    assert "[Time to first token](<http://127.0.0.1:3000/d/slokit-support-chatbot?viewPanel=" in section
    assert "&var-feature=order_agent&var-feature=support_chat>)" in section
    assert '`{ span.gen_ai.operation.name = "chat" && span.app.llm.feature =~ "order_agent|support_chat"' in section
    assert section.count("\n1. ") == 1 and "\n5. " in section and "\n6. " not in section
    cost = text.split("## budget-monthly-spend", 1)[1]
    assert "**Playbook: cost spike.**" in cost and "[Cost](<http://127.0.0.1:3000/d/slokit-cost?" in cost


def test_repository_templates_override_the_shipped_ones(tmp_path):
    write_project(tmp_path, shop_spec())
    (tmp_path / "slos" / "templates").mkdir()
    (tmp_path / "slos" / "templates" / "runbook-errors.md.j2").write_text(
        "**Playbook: ours.** Call {{ service.owner | code }} about {{ slo.name }}.\n", encoding="utf-8")
    proc = generate(tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / RUNBOOK).read_text(encoding="utf-8")
    assert "**Playbook: ours.** Call `team-a` about api." in text
    assert "**Playbook: latency spike" in text  # the other categories keep the shipped text
    # --templates wins over templates/ beside the specs.
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "runbook.md.j2").write_text("# {{ service.name }} only\n", encoding="utf-8")
    assert generate(tmp_path, "--templates", str(other)).returncode == 0
    text = (tmp_path / RUNBOOK).read_text(encoding="utf-8")
    # The old file's kept sections have no place in this template: they follow it, under their heading.
    assert text.startswith(f"# shop only\n\n{ORPHANS_HEADING}\n\n{start_marker('contacts')}\n")


def test_template_mistakes_are_positioned_errors(tmp_path):
    write_project(tmp_path, shop_spec())
    (tmp_path / "slos" / "templates").mkdir()
    bad = tmp_path / "slos" / "templates" / "runbook-latency.md.j2"
    bad.write_text("line one\n{{ slo.no_such_field }}\n", encoding="utf-8")
    proc = generate(tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "slos/templates/runbook-latency.md.j2:2:1: runbook template:" in proc.stderr and "hint:" in proc.stderr
    assert not (tmp_path / "docs").exists()  # all or nothing
    bad.write_text("{% if %}\n", encoding="utf-8")
    proc = generate(tmp_path)
    assert proc.returncode == 1 and "slos/templates/runbook-latency.md.j2:1:1: runbook template:" in proc.stderr


HOSTILE = ("Page {{ 7 * 7 }} {% raw %}x{% endraw %} <script>alert(1)</script> --> `code` *not emphasis*\n"
           "# a heading of ours\n<!-- slokit:keep other -->")


def test_kept_sections_survive_regeneration_verbatim(tmp_path):
    write_project(tmp_path, shop_spec())
    assert generate(tmp_path).returncode == 0
    path = tmp_path / RUNBOOK
    text = path.read_text(encoding="utf-8")
    old_contacts = kept_sections(text)["contacts"]
    text = text.replace(f"{old_contacts}\n{END}", f"Escalate to #oncall.\n{END}", 1)
    text = text.replace(f"{start_marker('slo-api')}\n{END}", f"{start_marker('slo-api')}\n{HOSTILE}\n{END}")
    path.write_text(text, encoding="utf-8")
    # --check sees nothing stale: the kept text is part of what generate would write.
    check = generate(tmp_path, "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    # A change to the spec regenerates the file around the kept text.
    write_project(tmp_path, shop_spec(description="The shop, now with more."))
    assert generate(tmp_path).returncode == 0
    new = path.read_text(encoding="utf-8")
    assert "The shop, now with more." in new
    assert f"{start_marker('contacts')}\nEscalate to #oncall.\n{END}" in new
    # Neither rendered as a template, nor escaped again.
    assert f"{start_marker('slo-api')}\n{HOSTILE}\n{END}" in new and "Page 49" not in new
    assert kept_sections(new)["slo-api"] == HOSTILE
    assert generate(tmp_path).returncode == 0 and path.read_text(encoding="utf-8") == new


def test_a_section_the_template_no_longer_places_is_appended_not_lost(tmp_path):
    write_project(tmp_path, shop_spec())
    assert generate(tmp_path).returncode == 0
    path = tmp_path / RUNBOOK
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"{start_marker('slo-ttft')}\n{END}",
                                 f"{start_marker('slo-ttft')}\nOur TTFT notes.\n{END}"), encoding="utf-8")
    spec = shop_spec()
    spec["slos"] = spec["slos"][:1]  # the ttft SLO is gone
    write_project(tmp_path, spec)
    assert generate(tmp_path).returncode == 0
    new = path.read_text(encoding="utf-8")
    assert "## ttft" not in new
    assert new.endswith(f"{ORPHANS_HEADING}\n\n{start_marker('slo-ttft')}\nOur TTFT notes.\n{END}\n")


def test_user_text_cannot_forge_a_kept_section(tmp_path):
    forged = f"x\n{start_marker('contacts')}\nforged\n{END}\n"
    write_project(tmp_path, shop_spec(description=forged, slo_description=forged))
    assert generate(tmp_path).returncode == 0
    text = (tmp_path / RUNBOOK).read_text(encoding="utf-8")
    assert set(kept_sections(text)) == {"contacts", "slo-api", "slo-ttft", "budget-spend"}
    assert "forged" not in kept_sections(text)["contacts"]
    assert generate(tmp_path).returncode == 0 and (tmp_path / RUNBOOK).read_text(encoding="utf-8") == text


def test_kept_text_is_not_read_through_a_symlink(tmp_path):
    write_project(tmp_path, shop_spec())
    outside = tmp_path / "outside.md"
    outside.write_text(f"{start_marker('contacts')}\nsecret\n{END}\n", encoding="utf-8")
    (tmp_path / "docs" / "runbooks").mkdir(parents=True)
    (tmp_path / RUNBOOK).symlink_to(outside)
    plan = build_plan(load_project([tmp_path / "slos" / "shop.yaml"], tmp_path / "slos" / "catalog.yaml"))
    from slokit.write import read_existing

    assert read_existing(tmp_path, RUNBOOK) is None
    assert "secret" not in render(plan, RunbookInputs(None, lambda rel: read_existing(tmp_path, rel)))[RUNBOOK]
    proc = generate(tmp_path)
    assert proc.returncode == 1 and "symlink" in proc.stderr and outside.read_text().count("secret") == 1


@pytest.mark.parametrize("text, expected", [
    (f"{start_marker('a')}\none\n{END}\n{start_marker('b')}\ntwo", {"a": "one", "b": "two"}),  # open: to EOF
    (f"  {start_marker('a')}\nindented marker is text\n{END}", {}),
    (f"{start_marker('a')}\n{start_marker('b')}\n{END}", {"a": start_marker("b")}),  # no nesting
    (f"{start_marker('a')}\n1\n{END}\n{start_marker('a')}\n2\n{END}", {"a": "1\n2"}),
])
def test_kept_sections_parsing(text, expected):
    assert kept_sections(text) == expected

"""Small, stable diffs: a change to one service changes only that service's outputs.

On a copy of the bundled example: add a service, remove one, change one, add
an SLO. Every other service's files stay byte-identical; the shared
dashboards (overview, cost) keep every panel (ids, gridPos, queries) and only
their header's list of sources changes; inside the changed service's own
dashboard, panels that stay keep their ids.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from slokit import naming as N
from slokit.pipeline import build_outputs
from slokit.project import load_project
from slokit.render.grafana import dashboard_json as L
from tests.dashboards.harness import EXAMPLE

SHARED = (N.OVERVIEW_DASHBOARD_PATH, N.COST_DASHBOARD_PATH, N.DASHBOARDS_PROVISIONING_PATH,
          N.DATASOURCES_PROVISIONING_PATH)
NEW_SERVICE = "order-agent"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "slos"
    shutil.copytree(EXAMPLE, target)
    return target


def _outputs(slos: Path) -> dict[str, str]:
    return build_outputs(load_project([slos]))


def _add_service(slos: Path) -> None:
    text = (slos / "rag-assistant.yaml").read_text()
    text = (text.replace("service: rag-assistant", f"service: {NEW_SERVICE}").replace("rag_answer", "order_agent")
            .replace("rag-assistant", NEW_SERVICE).replace("owner: knowledge-team", "owner: orders-team"))
    (slos / f"{NEW_SERVICE}.yaml").write_text(text)


def _owned_by(path: str, service: str) -> bool:
    return f"/{service}." in path or path.endswith(f"/{service}.md") or f"/{service}/" in path


def _assert_others_identical(before: dict[str, str], after: dict[str, str], changed: str) -> None:
    others = [p for p in before if p not in SHARED and not _owned_by(p, changed)]
    assert others, "nothing to compare"
    for path in others:
        assert after.get(path) == before[path], f"{path} changed although only {changed} did"
    assert {p for p in after if p not in before} <= {p for p in after if _owned_by(p, changed)}


def _shared_dashboards_same_but_header(before: dict[str, str], after: dict[str, str]) -> None:
    for path in (N.OVERVIEW_DASHBOARD_PATH, N.COST_DASHBOARD_PATH):
        old, new = json.loads(before[path]), json.loads(after[path])
        assert old["panels"] == new["panels"], f"{path}: panels changed"
        old.pop("description"), new.pop("description")
        assert old == new, f"{path}: more than the header changed"
        changed = [(a, b) for a, b in zip(before[path].splitlines(), after[path].splitlines()) if a != b]
        assert len(changed) <= 1 and len(before[path].splitlines()) == len(after[path].splitlines())


def test_adding_a_service_changes_no_other_file(tmp_path: Path) -> None:
    slos = _copy(tmp_path)
    before = _outputs(slos)
    _add_service(slos)
    after = _outputs(slos)
    assert N.service_dashboard_path(NEW_SERVICE) in after
    _assert_others_identical(before, after, NEW_SERVICE)
    _shared_dashboards_same_but_header(before, after)


def test_removing_a_service_changes_no_other_file(tmp_path: Path) -> None:
    slos = _copy(tmp_path)
    before = _outputs(slos)
    (slos / "rag-assistant.yaml").unlink()
    after = _outputs(slos)
    assert N.service_dashboard_path("rag-assistant") not in after
    _assert_others_identical(before, after, "rag-assistant")
    _shared_dashboards_same_but_header(before, after)


def test_changing_a_service_changes_no_other_file(tmp_path: Path) -> None:
    slos = _copy(tmp_path)
    before = _outputs(slos)
    spec = slos / "rag-assistant.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.5", "objective: 99.9"))
    after = _outputs(slos)
    assert after[N.service_dashboard_path("rag-assistant")] != before[N.service_dashboard_path("rag-assistant")]
    _assert_others_identical(before, after, "rag-assistant")
    # The same sources: the shared dashboards are byte-identical.
    assert after[N.OVERVIEW_DASHBOARD_PATH] == before[N.OVERVIEW_DASHBOARD_PATH]
    assert after[N.COST_DASHBOARD_PATH] == before[N.COST_DASHBOARD_PATH]


def _ids_by_title(text: str) -> dict[str, int]:
    board = json.loads(text)
    return {p["title"]: p["id"] for top in board["panels"] for p in (top, *top.get("panels", []))}


def test_adding_an_slo_keeps_the_ids_of_the_services_other_panels(tmp_path: Path) -> None:
    slos = _copy(tmp_path)
    path = N.service_dashboard_path("rag-assistant")
    before = _ids_by_title(_outputs(slos)[path])
    spec = slos / "rag-assistant.yaml"
    text = spec.read_text()
    first = text.index("  - name: answer-success")
    second = text.index("  - name: retrieval-non-empty")
    spec.write_text(text[:second] + text[first:second].replace("answer-success", "answer-success-copy")
                    + text[second:])
    after = _ids_by_title(_outputs(slos)[path])
    assert set(after) > set(before)
    assert {t: after[t] for t in before} == before


def test_ids_depend_on_the_set_of_keys_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny id space forces collisions: every key still gets a distinct id,
    # whatever order the keys come in.
    monkeypatch.setattr(L, "ID_SPACE", 7)
    keys = [f"panel-{i}" for i in range(7)]
    ids = L.stable_ids(keys)
    assert sorted(ids.values()) == list(range(1, 8))
    assert L.stable_ids(list(reversed(keys))) == ids


def test_panel_ids_are_unique_and_not_positional() -> None:
    rows = (L.Row("a", (L.Panel("stat", "one", ""), L.Panel("stat", "two", ""))),)
    with_extra = (L.Row("a", (L.Panel("stat", "zero", ""), L.Panel("stat", "one", ""), L.Panel("stat", "two", ""))),)
    first = {p.panel.title: p.id for row in L.layout(rows) for p in row.panels}
    second = {p.panel.title: p.id for row in L.layout(with_extra) for p in row.panels}
    assert len(set(second.values())) == 3
    assert {t: second[t] for t in first} == first

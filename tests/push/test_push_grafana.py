"""`slokit push grafana` against a local server implementing the documented Grafana HTTP API
(tests/support/fake_apis.py; Grafana itself does not run here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from slokit import naming as N
from slokit.cli import main
from slokit.plan import build_plan
from slokit.project import load_project
from slokit.render.grafana import render
from tests.dashboards.harness import EXAMPLE
from tests.support.fake_apis import FakeGrafana

SERVICES = ("rag-assistant", "support-chatbot")


@pytest.fixture()
def grafana():
    with FakeGrafana() as server:
        yield server


@pytest.fixture()
def specs(tmp_path: Path) -> Path:
    target = tmp_path / "slos"
    shutil.copytree(EXAMPLE, target)
    return target


def push(grafana: FakeGrafana, specs: Path, *extra: str, token: str = "editor-token"):
    return CliRunner().invoke(main, ["push", "grafana", "--url", grafana.url, "--token-env", "GF_TOKEN",
                                     "--specs", str(specs), *extra], env={"GF_TOKEN": token})


def test_first_push_creates_a_folder_per_service_and_every_dashboard(grafana: FakeGrafana, specs: Path) -> None:
    result = push(grafana, specs)
    assert result.exit_code == 0, result.output
    assert set(grafana.folders) == {N.OVERVIEW_FOLDER_UID, *(N.service_folder_uid(s) for s in SERVICES)}
    assert {grafana.folders[N.service_folder_uid(s)]["title"] for s in SERVICES} == set(SERVICES)
    for service in SERVICES:
        stored = grafana.dashboards[N.service_dashboard_uid(service)]
        assert stored["folderUid"] == N.service_folder_uid(service)
        assert "slokit" in stored["dashboard"]["tags"]
    assert grafana.dashboards[N.DASHBOARD_OVERVIEW_UID]["folderUid"] == N.OVERVIEW_FOLDER_UID
    # What Grafana stores is the generated file (plus the id and version it assigns).
    generated = json.loads(render(build_plan(load_project([specs])))[N.service_dashboard_path("rag-assistant")])
    stored = dict(grafana.dashboards[N.service_dashboard_uid("rag-assistant")]["dashboard"])
    volatile = ("id", "version")
    assert {k: v for k, v in stored.items() if k not in volatile} == \
        {k: v for k, v in generated.items() if k not in volatile}
    assert "7 created, 0 updated, 0 deleted, 0 unchanged" in result.output  # 3 folders, 4 dashboards


def test_a_second_push_changes_nothing_and_a_spec_change_updates_only_its_dashboard(grafana, specs) -> None:
    assert push(grafana, specs).exit_code == 0
    again = push(grafana, specs)
    assert again.exit_code == 0 and "0 updated" in again.output and "0 created" in again.output
    spec = specs / "rag-assistant.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.5", "objective: 99.9"))
    before = len(grafana.writes())
    changed = push(grafana, specs)
    assert changed.exit_code == 0, changed.output
    saves = [json.loads(r.body)["dashboard"]["uid"] for r in grafana.writes()[before:]]
    assert saves == [N.service_dashboard_uid("rag-assistant")]


def test_dry_run_prints_the_changes_and_writes_nothing(grafana: FakeGrafana, specs: Path) -> None:
    result = push(grafana, specs, "--dry-run")
    assert result.exit_code == 0, result.output
    assert grafana.writes() == []
    assert f"would create  dashboard {N.service_dashboard_uid('rag-assistant')} in rag-assistant" in result.output
    assert "would create  folder support-chatbot" in result.output
    assert result.output.strip().endswith("0 unchanged")


def test_a_dashboard_slokit_does_not_own_is_never_overwritten(grafana: FakeGrafana, specs: Path) -> None:
    uid = N.service_dashboard_uid("rag-assistant")
    grafana.dashboards[uid] = {"dashboard": {"uid": uid, "title": "Hand-made", "tags": ["team"], "id": 9,
                                             "version": 3}, "folderUid": ""}
    result = push(grafana, specs)
    assert result.exit_code == 1
    assert "without the `slokit` tag" in result.output and uid in result.output
    assert grafana.dashboards[uid]["dashboard"]["title"] == "Hand-made"
    assert grafana.writes() == []  # refused before anything was written


def test_prune_deletes_only_slokits_stale_dashboards(grafana: FakeGrafana, specs: Path) -> None:
    assert push(grafana, specs).exit_code == 0
    grafana.dashboards["slokit-gone"] = {"dashboard": {"uid": "slokit-gone", "title": "old", "tags": ["slokit"],
                                                       "id": 50, "version": 1}, "folderUid": ""}
    grafana.dashboards["team-board"] = {"dashboard": {"uid": "team-board", "title": "theirs", "tags": ["slokit"],
                                                      "id": 51, "version": 1}, "folderUid": ""}
    kept = push(grafana, specs)
    assert "slokit-gone" in grafana.dashboards  # no --prune: nothing deleted
    result = push(grafana, specs, "--prune")
    assert kept.exit_code == 0 and result.exit_code == 0, result.output
    assert "slokit-gone" not in grafana.dashboards and "team-board" in grafana.dashboards
    assert "deleted       dashboard slokit-gone" in result.output


def test_a_wrong_token_is_a_clear_401(grafana: FakeGrafana, specs: Path) -> None:
    result = push(grafana, specs, token="nope")
    assert result.exit_code == 1
    assert "401 Unauthorized" in result.output and "$GF_TOKEN" in result.output and "Traceback" not in result.output


def test_a_read_only_token_is_a_clear_403(grafana: FakeGrafana, specs: Path) -> None:
    result = push(grafana, specs, token="viewer-token")
    assert result.exit_code == 1
    assert "403 Forbidden" in result.output and "Editor" in result.output


def test_an_old_grafana_is_refused_before_any_write(specs: Path) -> None:
    with FakeGrafana(version="10.4.2") as old:
        result = push(old, specs)
        assert old.writes() == []
    assert result.exit_code == 1
    assert "Grafana 10.4.2" in result.output and "schemaVersion 41" in result.output


def test_a_missing_token_variable_is_a_usage_error(grafana: FakeGrafana, specs: Path) -> None:
    result = CliRunner().invoke(main, ["push", "grafana", "--url", grafana.url, "--token-env", "NOT_SET_HERE",
                                       "--specs", str(specs)], env={"NOT_SET_HERE": ""})
    assert result.exit_code == 2 and "NOT_SET_HERE" in result.output


def test_nothing_listening_is_a_clear_error(specs: Path) -> None:
    from tests.support.ports import free_port

    result = CliRunner().invoke(main, ["push", "grafana", "--url", f"http://127.0.0.1:{free_port()}",
                                       "--token-env", "GF_TOKEN", "--specs", str(specs)],
                                env={"GF_TOKEN": "editor-token"})
    assert result.exit_code == 1 and "cannot connect to Grafana" in result.output

"""Every generated dashboard stays under 1 MiB (the Kubernetes ConfigMap limit) at any project size.

A 10,000-SLO synthetic project (tests/dashboards/scale.py), dashboards only.
Before the redesign the overview was 48.5 MB there, the cost dashboard 10 MB
and a service dashboard grew about 21 KB per SLO.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slokit import naming as N
from slokit.render.grafana.service_dashboard import COMPACT_SLOS
from tests.dashboards import scale

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("scale") / "slos"
    assert scale.write_project(directory, 10_000) == 10_000
    return scale.dashboards(directory)


def test_every_dashboard_of_a_10000_slo_project_is_under_1_mib(big: dict[str, str]) -> None:
    sizes = {path: len(text.encode()) for path, text in big.items()}
    assert len(sizes) > 100
    too_big = {p: s for p, s in sizes.items() if s >= MIB}
    assert not too_big


def test_shared_dashboards_do_not_grow_with_the_project(big: dict[str, str], tmp_path: Path) -> None:
    directory = tmp_path / "slos"
    scale.write_project(directory, 200)
    small = scale.dashboards(directory)
    for path in (N.OVERVIEW_DASHBOARD_PATH, N.COST_DASHBOARD_PATH):
        assert json.loads(small[path])["panels"] == json.loads(big[path])["panels"]


def _board(text: str) -> dict:
    return json.loads(text)


def test_a_large_service_repeats_one_row_per_chosen_slo(big: dict[str, str]) -> None:
    compact = _board(big[N.service_dashboard_path("edge-compact")])
    detailed = _board(big[N.service_dashboard_path("edge-detailed")])
    names = {v["name"] for v in compact["templating"]["list"]}
    assert N.LABEL_SLO in names
    assert [p["repeat"] for p in compact["panels"] if p["type"] == "row" and p.get("repeat")] == [N.LABEL_SLO]
    # The detailed layout keeps a row per SLO up to the bound.
    slo_rows = [p for p in detailed["panels"] if p["type"] == "row" and p["title"].startswith("SLO ")]
    assert len(slo_rows) == COMPACT_SLOS
    assert N.LABEL_SLO not in {v["name"] for v in detailed["templating"]["list"]}

"""Every generated dashboard is Grafana's current dashboard model.

Each dashboard is loaded into grafana-foundation-sdk's typed models (v1
dashboard, with every panel and datasource plugin registered) and encoded
again: no key may be lost (a legacy or misspelled key is dropped by the
typed decoders) and no JSON type may change. The SDK itself decodes without
checking types, so every decoded value is also checked against the model's
type annotations (enums, numbers, nested model classes), including the parts
the SDK keeps as plain JSON (panel links, transformations, value mappings).
"""

from __future__ import annotations

import copy
import json

import pytest
from grafanalib._gen import DashboardEncoder

from slokit.render.grafana import dashboard_json as L

from .harness import dashboards
from .model_check import model_problems, typed_problems

GENERATED = dashboards()


@pytest.mark.parametrize("path", sorted(GENERATED))
def test_round_trip_loses_no_key(path: str) -> None:
    assert model_problems(GENERATED[path]) == []


@pytest.mark.parametrize("path", sorted(GENERATED))
def test_values_have_the_models_types(path: str) -> None:
    assert typed_problems(GENERATED[path]) == []


def test_expected_dashboards() -> None:
    assert sorted(GENERATED) == ["dashboards/rag-assistant.json", "dashboards/slokit-cost.json",
                                 "dashboards/slokit-overview.json", "dashboards/support-chatbot.json"]


def _damaged() -> dict:
    d = copy.deepcopy(GENERATED["dashboards/support-chatbot.json"])
    panel = next(p for p in d["panels"] if p["type"] == "timeseries")
    panel["gridpos"] = panel["gridPos"]                           # misspelled key
    panel["targets"][0]["exemplars"] = True                       # misspelled key
    panel["fieldConfig"]["defaults"]["custom"]["fillOpacity"] = "10"  # string for a number
    panel["gridPos"]["w"] = "12"                                  # string for an int
    d["rows"] = []                                                # grafanalib legacy key
    d["schemaVersion"] = "41"                                     # string for an int
    stat = next(p for p in d["panels"] if p["type"] == "stat")
    stat["options"]["colorMode"] = "rainbow"                      # not an enum value
    table = next(p for p in d["panels"] if p["type"] == "table")
    table["transformations"][0]["idd"] = "merge"                  # misspelled, inside plain JSON
    return d


def test_the_checks_catch_legacy_and_misspelled_keys_and_wrong_types() -> None:
    problems = model_problems(_damaged()) + typed_problems(_damaged())
    text = "\n".join(problems)
    for needle in (".gridpos.w: key lost", ".exemplars: key lost", ".rows: key lost", "fill_opacity: str '10'",
                   "grid_pos.w: str '12'", "schema_version: str '41'", "color_mode: str 'rainbow'",
                   ".idd: key lost"):
        assert needle in text, f"{needle!r} not reported in:\n{text}"


def test_grafanalib_output_alone_is_not_the_current_model() -> None:
    """Why the layer exists: grafanalib's own JSON for the same dashboard fails the checks."""
    dashboard = L.Dashboard(uid="x", title="x", description="x", tags=(), rows=(L.Row("r", (
        L.Panel("timeseries", "t", "d", "s", (L.PromQuery("up"),)),
        L.Panel("stat", "s", "d", "s", (L.PromQuery("up"),)))),))
    raw = json.loads(json.dumps(L.build(dashboard).to_json_data(), cls=DashboardEncoder))
    assert raw["schemaVersion"] == 12
    # As emitted (nulls where the model wants objects) the typed model cannot even load it ...
    assert model_problems(raw)[0].startswith("the typed model cannot load the dashboard")
    # ... and without the nulls it still carries keys the model does not have.
    problems = "\n".join(model_problems(L._drop_nulls(raw)))
    for key in (".rows:", ".__inputs:", ".hideControls:", ".sharedCrosshair:", ".style:", "].error:",
                "].editable:", ".targets[0].step:", ".targets[0].metric:", ".timepicker.time_options["):
        assert key in problems, f"{key} not reported in:\n{problems}"
    assert L.to_json(dashboard)["schemaVersion"] == L.SCHEMA_VERSION
    assert model_problems(L.to_json(dashboard)) == []

"""A small client for the Prometheus HTTP API (instant and range queries, alerts).

urllib rather than an HTTP library: three GET endpoints and JSON do not
justify a dependency for every slokit user.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

Labels = tuple[tuple[str, str], ...]


class PrometheusError(Exception):
    """Prometheus could not be reached or answered with an error; the message says which."""


@dataclass(frozen=True)
class Sample:
    labels: Labels
    value: float

    def label(self, name: str, default: str = "") -> str:
        return dict(self.labels).get(name, default)


@dataclass(frozen=True)
class Series:
    labels: Labels
    points: tuple[tuple[float, float], ...]  # (unix time, value)


@dataclass(frozen=True)
class Alert:
    name: str
    state: str  # pending | firing
    labels: Labels
    active_since: str
    value: str

    def label(self, name: str, default: str = "") -> str:
        return dict(self.labels).get(name, default)


def _labels(metric: dict[str, str]) -> Labels:
    return tuple(sorted(metric.items()))


@dataclass(frozen=True)
class Prometheus:
    url: str
    timeout: float = 30.0

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        query = urllib.parse.urlencode(params)
        address = f"{self.url.rstrip('/')}/api/v1/{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(address, timeout=self.timeout) as resp:  # noqa: S310 - URL given by the user
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            try:
                body = json.load(exc)
            except (ValueError, OSError):
                raise PrometheusError(f"{self.url}: HTTP {exc.code} on /api/v1/{path}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {reason}") from None
        if body.get("status") != "success":
            raise PrometheusError(f"Prometheus rejected a query ({body.get('errorType')}: {body.get('error')}): "
                                  f"{params.get('query', path)}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[Sample]:
        """An instant query; scalars come back as one sample without labels."""
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._get("query", params)
        if data["resultType"] in ("scalar", "string"):
            return [Sample((), float(data["result"][1]))]
        return [Sample(_labels(r["metric"]), float(r["value"][1])) for r in data["result"]]

    def value(self, expr: str, at: float | None = None) -> float | None:
        """The value of a query returning at most one sample (None when empty)."""
        result = self.query(expr, at)
        return result[0].value if result else None

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        data = self._get("query_range", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                         "step": f"{step:g}"})
        return [Series(_labels(r["metric"]), tuple((float(t), float(v)) for t, v in r["values"]))
                for r in data["result"]]

    def range_vector(self, expr: str, at: float) -> list[Series]:
        """The raw samples of a range selector such as `x[10m]`, with their own timestamps."""
        data = self._get("query", {"query": expr, "time": f"{at:.3f}"})
        return [Series(_labels(r["metric"]), tuple((float(t), float(v)) for t, v in r["values"]))
                for r in data["result"]]

    def tsdb_status(self) -> dict[str, Any]:
        """/api/v1/status/tsdb: head block statistics and cardinality."""
        return self._get("status/tsdb", {})

    def rule_groups(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The rule groups Prometheus evaluates (`kind`: record or alert narrows the rules listed)."""
        return self._get("rules", {"type": kind} if kind else {})["groups"]

    def alerts(self) -> list[Alert]:
        """Pending and firing alerts of the rules Prometheus evaluates."""
        return [Alert(a["labels"].get("alertname", ""), a["state"], _labels(a["labels"]),
                      a.get("activeAt", ""), a.get("value", ""))
                for a in self._get("alerts", {})["alerts"]]

"""`slokit push rules`: rule groups into a Mimir or Cortex ruler, or a Prometheus reload.

Ruler endpoints (Grafana Mimir HTTP API reference, Mimir 2.x; Cortex serves
the same paths under its Prometheus prefix), tenant in `X-Scope-OrgID`:
`GET <prefix>/config/v1/rules` (every namespace: YAML {namespace: [groups]}),
`GET <prefix>/config/v1/rules/{namespace}` (404 when it has no groups),
`POST <prefix>/config/v1/rules/{namespace}` (one group as YAML, 202), and
`DELETE <prefix>/config/v1/rules/{namespace}/{group}` (202). The prefix is
part of `--ruler-url` (Mimir's default is `/prometheus`).

One namespace per service (`slokit-<service>`, as `generate --format mimir`
writes). slokit creates and updates its own groups and deletes only groups
named `slokit-...` that it no longer generates, in `slokit-...` namespaces;
groups anyone else put there are left alone.

`--prometheus-reload URL` posts `URL/-/reload` (Prometheus' lifecycle API,
only on with `--web.enable-lifecycle`) after the rule files were written.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import yaml

from slokit import naming as N
from slokit.plan import ProjectPlan
from slokit.push.changes import CREATE, DELETE, UNCHANGED, UPDATE, Change, PushError
from slokit.render import prometheus_rules

OWNED_PREFIX = "slokit-"
TIMEOUT = 30


@dataclass(frozen=True)
class Response:
    status: int
    body: str


@dataclass(frozen=True)
class Http:
    """Plain HTTP with the tenant and token headers; errors become PushError with a hint."""

    base: str
    what: str  # "ruler", "Prometheus"
    tenant: str = ""
    token: str = ""

    def request(self, method: str, path: str, body: str | None = None, ok: tuple[int, ...] = (200, 202),
                missing_ok: bool = False) -> Response:
        url = self.base.rstrip("/") + path
        headers = {"Content-Type": "application/yaml"} if body is not None else {}
        if self.tenant:
            headers["X-Scope-OrgID"] = self.tenant
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 - the user's own URL
                return Response(resp.status, resp.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace").strip()
            if exc.code == 404 and missing_ok:
                return Response(404, text)
            raise PushError(self._explain(method, url, exc.code, text)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PushError(f"cannot connect to the {self.what} at {self.base}: {reason}. hint: check the URL "
                            "and that the service is running.") from None

    def _explain(self, method: str, url: str, code: int, text: str) -> str:
        base = f"{method} {url} answered {code}: {text[:300]}"
        if code in (401, 403):
            return (f"{base}\n  hint: the {self.what} refused the request: check --token-env, and --tenant "
                    "(X-Scope-OrgID) when multi-tenancy is on.")
        if code == 404:
            return f"{base}\n  hint: check the URL; the Mimir ruler API lives under its Prometheus prefix " \
                   "(e.g. http://mimir:8080/prometheus)."
        return base


def rule_groups(plan: ProjectPlan) -> dict[str, list[dict[str, Any]]]:
    """{namespace: [group, ...]} from the same files `slokit generate --format mimir` writes (with slokit.yaml's
    mimir.source_tenants on every group when it gives them)."""
    texts = prometheus_rules.render_mimir(plan)
    out: dict[str, list[dict[str, Any]]] = {}
    for service in plan.services:
        text = texts.get(N.mimir_rules_path(service.service))
        groups = (yaml.safe_load(text) or {}).get("groups", []) if text else []
        out[N.mimir_namespace(service.service)] = groups
    return out


def _namespaces(ruler: Http) -> dict[str, list[dict[str, Any]]]:
    resp = ruler.request("GET", "/config/v1/rules", missing_ok=True)
    if resp.status == 404:  # Cortex and Mimir answer 404 when the tenant has no rules at all
        return {}
    data = yaml.safe_load(resp.body) or {}
    if not isinstance(data, dict):
        raise PushError(f"the ruler at {ruler.base} did not answer a map of namespaces to rule groups")
    return {str(k): list(v or []) for k, v in data.items()}


def plan_changes(ruler: Http, wanted: dict[str, list[dict[str, Any]]]) -> list[Change]:
    current = _namespaces(ruler)
    changes: list[Change] = []
    for namespace in sorted(set(wanted) | {n for n in current if n.startswith(OWNED_PREFIX)}):
        have = {g.get("name"): g for g in current.get(namespace, [])}
        ours = {g["name"]: g for g in wanted.get(namespace, [])}
        for name, group in ours.items():
            action = CREATE if name not in have else (UNCHANGED if have[name] == group else UPDATE)
            changes.append(Change(action, "rule group", name, namespace))
        changes += [Change(DELETE, "rule group", str(name), namespace) for name in sorted(have, key=str)
                    if name not in ours and str(name).startswith(OWNED_PREFIX)]
    return changes


def _group_path(namespace: str, group: str | None = None) -> str:
    path = "/config/v1/rules/" + urllib.parse.quote(namespace, safe="")
    return path + ("/" + urllib.parse.quote(group, safe="") if group else "")


def apply(ruler: Http, wanted: dict[str, list[dict[str, Any]]], changes: list[Change]) -> None:
    groups = {(ns, g["name"]): g for ns, gs in wanted.items() for g in gs}
    for change in changes:
        if change.action in (CREATE, UPDATE):
            body = yaml.safe_dump(groups[(change.where, change.name)], sort_keys=False)
            ruler.request("POST", _group_path(change.where), body)
        elif change.action == DELETE:
            ruler.request("DELETE", _group_path(change.where, change.name))


def push_ruler(plan: ProjectPlan, url: str, tenant: str, token: str, dry_run: bool) -> list[Change]:
    tenants = plan.rulers.mimir_source_tenants
    if tenants and tenant not in tenants:
        # A federated group reads only its source tenants, and slokit's long windows read the base rates the
        # group itself records into the tenant it is loaded into.
        raise PushError(f"mimir.source_tenants in slokit.yaml ({', '.join(tenants)}) does not list the tenant the "
                        f"rules are loaded into ({tenant or 'none'}); the SLOs' long windows read the series their "
                        "own group records there. Add it to source_tenants, or push with --tenant set to one of them")
    ruler = Http(url, "ruler", tenant, token)
    wanted = rule_groups(plan)
    changes = plan_changes(ruler, wanted)
    if not dry_run:
        apply(ruler, wanted, changes)
    return changes


def reload_prometheus(url: str, dry_run: bool) -> str:
    if dry_run:
        return f"dry run: would POST {url.rstrip('/')}/-/reload"
    try:
        Http(url, "Prometheus").request("POST", "/-/reload", body=None, ok=(200,))
    except PushError as exc:
        if "answered 403" in str(exc):
            raise PushError(f"{exc}\n  hint: Prometheus accepts /-/reload only when started with "
                            "--web.enable-lifecycle; or send it SIGHUP.") from None
        raise
    return f"reloaded Prometheus at {url}"

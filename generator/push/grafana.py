"""`slokit push grafana`: the generated dashboards into a Grafana through its HTTP API.

Endpoints (Grafana HTTP API, as documented for Grafana 11; unchanged since
Grafana 8 for these calls), through the `grafana-client` library:
`GET /api/health` (version), `GET /api/folders/{uid}` and `POST /api/folders`,
`GET /api/dashboards/uid/{uid}`, `POST /api/dashboards/db`, and
`GET /api/search?type=dash-db&tag=slokit` plus `DELETE /api/dashboards/uid/{uid}`
for `--prune`.

Ownership: slokit writes a dashboard only when its UID is slokit's and either
no dashboard has that UID yet or the one there carries the `slokit` tag; a
dashboard someone else made under that UID is refused, never overwritten.
Each service's dashboard goes to a folder of its own (the same folders and
UIDs the file provisioning uses), the overview and cost dashboards to
`slokit`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError
from niquests.exceptions import ConnectionError as RequestsConnectionError
from niquests.exceptions import RequestException

from slokit import naming as N
from slokit.plan import ProjectPlan
from slokit.push.changes import CREATE, DELETE, UNCHANGED, UPDATE, Change, PushError
from slokit.render.grafana import render as render_dashboards
from slokit.render.grafana.provisioning import OVERVIEW_FOLDER
from slokit.render.grafana.shared import TAG

# schemaVersion 41, which slokit writes, is Grafana 11's dashboard model.
MIN_VERSION = (11, 0)
UID_PREFIX = "slokit-"
# Keys Grafana adds or bumps on save; a dashboard is unchanged when the rest is equal.
VOLATILE_KEYS = ("id", "version")


@dataclass(frozen=True)
class Upload:
    uid: str
    title: str
    folder_uid: str
    folder_title: str
    dashboard: dict[str, Any]


def uploads(plan: ProjectPlan) -> list[Upload]:
    """Every dashboard `slokit generate` writes, with the folder it belongs in."""
    texts = render_dashboards(plan)
    folders = {N.OVERVIEW_DASHBOARD_PATH: (N.OVERVIEW_FOLDER_UID, OVERVIEW_FOLDER),
               N.COST_DASHBOARD_PATH: (N.OVERVIEW_FOLDER_UID, OVERVIEW_FOLDER)}
    for service in plan.services:
        folders[N.service_dashboard_path(service.service)] = (N.service_folder_uid(service.service), service.service)
    out = []
    for path, text in sorted(texts.items()):
        board = json.loads(text)
        folder_uid, folder_title = folders[path]
        out.append(Upload(board["uid"], board["title"], folder_uid, folder_title, board))
    return out


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("-", 1)[0].split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


class GrafanaTarget:
    """The calls a push makes, with Grafana's errors turned into messages that say what to do."""

    def __init__(self, url: str, token: str, token_env: str):
        self.url = url.rstrip("/")
        self.token_env = token_env
        self.api = GrafanaApi.from_url(self.url, credential=token, timeout=30)

    def _call(self, what: str, fn, *args, missing_ok: bool = False, **kwargs):
        try:
            return fn(*args, **kwargs)
        except GrafanaUnauthorizedError:
            raise PushError(f"Grafana at {self.url} refused the token in ${self.token_env} (401 Unauthorized) "
                            f"while trying to {what}. hint: create a service account token (Administration > "
                            "Service accounts) and export it in that variable.") from None
        except GrafanaClientError as exc:
            if exc.status_code == 404 and missing_ok:
                return None
            if exc.status_code == 403:
                raise PushError(f"the token in ${self.token_env} may not {what} (403 Forbidden). hint: give its "
                                "service account the Editor role (folders:create, dashboards:write).") from None
            raise PushError(f"Grafana at {self.url} answered {exc.status_code} to {what}: {exc.message}") from None
        except GrafanaException as exc:
            raise PushError(f"Grafana at {self.url} failed to {what}: {exc}") from None
        except RequestsConnectionError:
            raise PushError(f"cannot connect to Grafana at {self.url}. hint: check --url (e.g. "
                            "http://127.0.0.1:3000) and that Grafana is running.") from None
        except RequestException as exc:
            raise PushError(f"request to Grafana at {self.url} failed ({what}): {exc}") from None

    def check_version(self) -> str:
        # /api/health is the documented, unauthenticated version endpoint (the library's
        # health.check() reads /api/frontend/settings instead).
        health = self._call("read /api/health", self.api.client.GET, "/health")
        version = str((health or {}).get("version", ""))
        found = _version(version)
        if not found:
            raise PushError(f"{self.url}/api/health reports no Grafana version ({health!r}). hint: is --url a "
                            "Grafana (not a proxy or another service)?")
        if found < MIN_VERSION:
            raise PushError(f"Grafana {version} at {self.url} is older than "
                            f"{'.'.join(map(str, MIN_VERSION))}: slokit's dashboards use the Grafana 11 dashboard "
                            "model (schemaVersion 41). hint: upgrade Grafana, or provision the files from "
                            "dashboards/ instead.")
        return version

    def folder(self, uid: str) -> dict | None:
        return self._call(f"read folder {uid}", self.api.folder.get_folder, uid, missing_ok=True)

    def create_folder(self, uid: str, title: str) -> None:
        self._call(f"create folder {uid}", self.api.folder.create_folder, title, uid=uid)

    def dashboard(self, uid: str) -> dict | None:
        return self._call(f"read dashboard {uid}", self.api.dashboard.get_dashboard, uid, missing_ok=True)

    def save(self, upload: Upload) -> None:
        body = {"dashboard": {**upload.dashboard, "id": None}, "folderUid": upload.folder_uid, "overwrite": True,
                "message": "slokit push"}
        self._call(f"save dashboard {upload.uid}", self.api.dashboard.update_dashboard, body)

    def owned(self) -> list[dict]:
        found = self._call("search dashboards", self.api.search.search_dashboards, tag=TAG, type_="dash-db",
                           limit=5000)
        return [d for d in found or [] if str(d.get("uid", "")).startswith(UID_PREFIX)]

    def delete(self, uid: str) -> None:
        self._call(f"delete dashboard {uid}", self.api.dashboard.delete_dashboard, uid)


def _comparable(board: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in board.items() if k not in VOLATILE_KEYS}


def plan_changes(target: GrafanaTarget, ours: list[Upload], prune: bool) -> tuple[list[Change], list[str]]:
    """(changes, refusals): what a push would do, and the UIDs held by dashboards slokit does not own."""
    changes: list[Change] = []
    refusals: list[str] = []
    for uid, title in sorted({(u.folder_uid, u.folder_title) for u in ours}):
        changes.append(Change(UNCHANGED if target.folder(uid) else CREATE, "folder", f"{title} ({uid})"))
    for upload in ours:
        existing = target.dashboard(upload.uid)
        if existing is None:
            changes.append(Change(CREATE, "dashboard", upload.uid, upload.folder_title))
            continue
        board, meta = existing.get("dashboard", {}), existing.get("meta", {})
        if TAG not in board.get("tags", []):
            refusals.append(f"dashboard {upload.uid} ({board.get('title', '?')!r}) exists without the "
                            f"`{TAG}` tag: slokit does not own it and will not overwrite it. hint: rename or "
                            "delete it in Grafana, or add the tag if it really is slokit's.")
            continue
        same = _comparable(board) == _comparable(upload.dashboard) and meta.get("folderUid") == upload.folder_uid
        changes.append(Change(UNCHANGED if same else UPDATE, "dashboard", upload.uid, upload.folder_title))
    if prune:
        wanted = {u.uid for u in ours}
        changes += [Change(DELETE, "dashboard", d["uid"], d.get("folderTitle", ""))
                    for d in sorted(target.owned(), key=lambda d: d["uid"]) if d["uid"] not in wanted]
    return changes, refusals


def apply(target: GrafanaTarget, ours: list[Upload], changes: list[Change]) -> None:
    by_uid = {u.uid: u for u in ours}
    folders = {f"{u.folder_title} ({u.folder_uid})": u for u in ours}
    for change in changes:
        if change.kind == "folder" and change.action == CREATE:
            upload = folders[change.name]
            target.create_folder(upload.folder_uid, upload.folder_title)
        elif change.kind == "dashboard" and change.action in (CREATE, UPDATE):
            target.save(by_uid[change.name])
        elif change.kind == "dashboard" and change.action == DELETE:
            target.delete(change.name)


def push(plan: ProjectPlan, url: str, token: str, token_env: str, dry_run: bool, prune: bool) -> list[Change]:
    target = GrafanaTarget(url, token, token_env)
    target.check_version()
    ours = uploads(plan)
    changes, refusals = plan_changes(target, ours, prune)
    if refusals:
        raise PushError("\n".join(refusals))
    if not dry_run:
        apply(target, ours, changes)
    return changes

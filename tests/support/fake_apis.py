"""Local stand-ins for the Grafana HTTP API and the Mimir ruler API (neither runs here).

Each implements only the documented endpoints `slokit push` calls, with the
documented request and response shapes and status codes, on 127.0.0.1:

- Grafana HTTP API (Grafana 11 docs: "HTTP API > Dashboard", "Folder",
  "Search", "Other > Health"): GET /api/health; GET /api/folders/{uid},
  POST /api/folders; GET and DELETE /api/dashboards/uid/{uid},
  POST /api/dashboards/db; GET /api/search?type=dash-db&tag=...; bearer
  tokens, 401 for an unknown token, 403 when a viewer token writes.
- Mimir ruler API (Mimir 2.x HTTP API reference, "Ruler"): GET
  <prefix>/config/v1/rules and .../{namespace} (YAML, 404 when empty),
  POST .../{namespace} (a group as YAML, 202), DELETE .../{namespace}/{group}
  (202), tenants in X-Scope-OrgID (401 without one).

Every request is recorded, so tests can assert what was (not) written.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import yaml


@dataclass
class Recorded:
    method: str
    path: str
    body: str
    headers: dict[str, str]  # names in lower case (HTTP header names are case-insensitive)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.server.app.requests.append(Recorded(self.command, self.path, body, {k.lower(): v for k, v in self.headers.items()}))
        status, content_type, payload = self.server.app.handle(self.command, self.path, body, self.headers)
        data = payload if isinstance(payload, str) else json.dumps(payload)
        raw = data.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_DELETE = do_PUT = _dispatch


@dataclass
class _App:
    requests: list[Recorded] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.app = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("POST", "PUT", "DELETE")]

    def handle(self, method: str, path: str, body: str, headers) -> tuple[int, str, Any]:  # pragma: no cover
        raise NotImplementedError


JSON = "application/json"


@dataclass
class FakeGrafana(_App):
    version: str = "11.3.0"
    tokens: dict[str, str] = field(default_factory=lambda: {"editor-token": "Editor", "viewer-token": "Viewer"})
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> {"dashboard", "folderUid"}

    def handle(self, method: str, path: str, body: str, headers) -> tuple[int, str, Any]:
        url = urllib.parse.urlsplit(path)
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
        if parts == ["api", "health"]:
            return 200, JSON, {"commit": "abc123", "database": "ok", "version": self.version}
        auth = headers.get("Authorization", "")
        role = self.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if role is None:
            return 401, JSON, {"message": "invalid API key", "statusCode": 401}
        if method != "GET" and role == "Viewer":
            return 403, JSON, {"message": "You'll need additional permissions to perform this action."}
        if parts[:2] == ["api", "folders"]:
            return self._folders(method, parts[2:], body)
        if parts[:3] == ["api", "dashboards", "uid"] and len(parts) == 4:
            return self._dashboard(method, parts[3])
        if parts == ["api", "dashboards", "db"] and method == "POST":
            return self._save(json.loads(body))
        if parts == ["api", "search"] and method == "GET":
            return 200, JSON, self._search(urllib.parse.parse_qs(url.query))
        return 404, JSON, {"message": "Not found"}

    def _folders(self, method: str, rest: list[str], body: str) -> tuple[int, str, Any]:
        if method == "GET" and len(rest) == 1:
            folder = self.folders.get(rest[0])
            return (200, JSON, folder) if folder else (404, JSON, {"message": "folder not found", "status": "not-found"})
        if method == "POST" and not rest:
            data = json.loads(body)
            if data.get("uid") in self.folders:
                return 409, JSON, {"message": "a folder with the same uid already exists"}
            folder = {"id": len(self.folders) + 1, "uid": data["uid"], "title": data["title"], "version": 1}
            self.folders[data["uid"]] = folder
            return 200, JSON, folder
        return 404, JSON, {"message": "Not found"}

    def _dashboard(self, method: str, uid: str) -> tuple[int, str, Any]:
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, JSON, {"message": "Dashboard not found"}
        if method == "DELETE":
            del self.dashboards[uid]
            return 200, JSON, {"title": stored["dashboard"]["title"], "message": "Dashboard deleted", "id": 1}
        folder = self.folders.get(stored["folderUid"], {})
        return 200, JSON, {"dashboard": stored["dashboard"],
                           "meta": {"folderUid": stored["folderUid"], "folderTitle": folder.get("title", ""),
                                    "slug": uid, "url": f"/d/{uid}"}}

    def _save(self, data: dict[str, Any]) -> tuple[int, str, Any]:
        board = dict(data["dashboard"])
        uid, folder_uid = board.get("uid"), data.get("folderUid", "")
        if folder_uid and folder_uid not in self.folders:
            return 400, JSON, {"message": "folder not found", "status": "not-found"}
        old = self.dashboards.get(uid)
        if old is not None and not data.get("overwrite"):
            return 412, JSON, {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}
        version = (old["dashboard"].get("version", 0) if old else 0) + 1
        board.update({"id": len(self.dashboards) + 1 if old is None else old["dashboard"]["id"], "version": version})
        self.dashboards[uid] = {"dashboard": board, "folderUid": folder_uid}
        return 200, JSON, {"id": board["id"], "uid": uid, "url": f"/d/{uid}", "status": "success", "version": version}

    def _search(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        tags = set(query.get("tag", []))
        hits = []
        for uid, stored in sorted(self.dashboards.items()):
            board = stored["dashboard"]
            if tags <= set(board.get("tags", [])):
                folder = self.folders.get(stored["folderUid"], {})
                hits.append({"uid": uid, "title": board.get("title", ""), "tags": board.get("tags", []),
                             "type": "dash-db", "folderUid": stored["folderUid"],
                             "folderTitle": folder.get("title", "")})
        return hits


YAML = "application/yaml"


@dataclass
class FakeRuler(_App):
    prefix: str = "/prometheus"
    # tenant -> namespace -> [group]
    tenants: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def handle(self, method: str, path: str, body: str, headers) -> tuple[int, str, Any]:
        tenant = headers.get("X-Scope-OrgID", "")
        if not tenant:
            return 401, "text/plain", "no org id"
        route = urllib.parse.urlsplit(path).path
        if not route.startswith(self.prefix + "/config/v1/rules"):
            return 404, "text/plain", "404 page not found"
        parts = [urllib.parse.unquote(p) for p in route[len(self.prefix + "/config/v1/rules"):].split("/") if p]
        namespaces = self.tenants.setdefault(tenant, {})
        if method == "GET" and not parts:
            have = {ns: groups for ns, groups in sorted(namespaces.items()) if groups}
            return (200, YAML, yaml.safe_dump(have, sort_keys=False)) if have else \
                (404, "text/plain", "no rule groups found")
        if method == "GET" and len(parts) == 1:
            groups = namespaces.get(parts[0])
            return (200, YAML, yaml.safe_dump({parts[0]: groups}, sort_keys=False)) if groups else \
                (404, "text/plain", "no rule groups found")
        if method == "POST" and len(parts) == 1:
            group = yaml.safe_load(body)
            if not isinstance(group, dict) or not group.get("name") or not isinstance(group.get("rules"), list):
                return 400, "text/plain", "invalid rule group"
            groups = [g for g in namespaces.get(parts[0], []) if g["name"] != group["name"]] + [group]
            namespaces[parts[0]] = sorted(groups, key=lambda g: g["name"])
            return 202, JSON, {"status": "success", "data": None, "errorType": "", "error": ""}
        if method == "DELETE" and len(parts) == 2:
            groups = namespaces.get(parts[0], [])
            if not any(g["name"] == parts[1] for g in groups):
                return 404, "text/plain", "group does not exist"
            namespaces[parts[0]] = [g for g in groups if g["name"] != parts[1]]
            return 202, JSON, {"status": "success", "data": None, "errorType": "", "error": ""}
        return 404, "text/plain", "404 page not found"

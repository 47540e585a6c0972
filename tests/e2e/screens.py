"""Helpers for the e2e tests of the screens around the canvas: small graphs that run without a model and
an API client that shares the signed-in browser's session."""

from __future__ import annotations

import time
import uuid


def graph(*middle: dict, end_output: dict | None = None, schema: dict | None = None) -> dict:
    """Start → middle nodes in a row → End, laid out left to right."""
    start = {
        "id": "start",
        "type": "start",
        "name": "Start",
        "position": {"x": 0, "y": 0},
        "config": {
            "input_schema": schema
            or {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
            "state": {},
        },
    }
    nodes = [start]
    ports: dict[str, str] = {}
    for i, node in enumerate(middle, start=1):
        node = dict(node)
        if "port" in node:
            ports[node["id"]] = node.pop("port")
        nodes.append({"position": {"x": 260 * i, "y": 0}, **node})
    last = nodes[-1]["id"]
    nodes.append(
        {
            "id": "done",
            "type": "end",
            "name": "Done",
            "position": {"x": 260 * (len(middle) + 1), "y": 0},
            "config": {"output": end_output or {"result": f"nodes.{last}.output"}},
        }
    )
    edges = []
    for i, (a, b) in enumerate(zip(nodes, nodes[1:], strict=False), 1):
        edge = {"id": f"e{i}", "source": a["id"], "target": b["id"]}
        if a["id"] in ports:
            edge["source_port"] = ports[a["id"]]
        edges.append(edge)
    return {"format": "trellis.graph/1", "nodes": nodes, "edges": edges}


def transform(node_id: str, name: str, output: dict) -> dict:
    return {"id": node_id, "type": "transform", "name": name, "config": {"output": output}}


def approval(node_id: str = "review", message: str = "Please check this one.") -> dict:
    return {
        "id": node_id,
        "type": "user_approval",
        "name": "Human review",
        "config": {"message": message, "approvers": "editor", "timeout_s": 3600},
        "port": "approved",
    }


class Api:
    """JSON calls with the signed-in browser's session cookie and CSRF token."""

    def __init__(self, page, workspace: str = "demo"):
        self.page = page
        self.workspace = workspace

    def _headers(self) -> dict:
        cookies = {c["name"]: c["value"] for c in self.page.context.cookies()}
        return {
            "X-CSRFToken": cookies.get("csrftoken", ""),
            "X-Trellis-Workspace": self.workspace,
            "Accept": "application/json",
        }

    def call(self, method: str, path: str, body=None, expect: int | tuple[int, ...] = (200, 201, 202, 204)):
        kwargs = {"headers": self._headers()}
        if body is not None:
            kwargs["data"] = body
        response = self.page.request.fetch(f"/api/v1/{path}", method=method, **kwargs)
        expected = (expect,) if isinstance(expect, int) else expect
        text = response.text()
        assert response.status in expected, f"{method} {path} → {response.status}: {text[:500]}"
        return response.json() if text else None

    def workflow(self, name: str, g: dict, *, publish: str | None = None) -> str:
        wf = self.call("POST", "workflows", {"name": f"{name} {uuid.uuid4().hex[:4]}", "graph": g})
        if publish is not None:
            self.call("POST", f"workflows/{wf['id']}/publish", {"note": publish})
        return wf["id"]

    def save_draft(self, workflow_id: str, g: dict) -> None:
        draft = self.call("GET", f"workflows/{workflow_id}/draft")
        self.call("PUT", f"workflows/{workflow_id}/draft", {"graph": g, "revision": draft["revision"]})

    def run(self, workflow_id: str, message: str = "hello", version="published", wait: float | None = None) -> dict:
        body = {"input": {"message": message}, "version": version}
        if wait:
            body["wait"] = wait
        return self.call("POST", f"workflows/{workflow_id}/runs", body)

    def wait_for(self, run_id: str, statuses: set[str], timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.call("GET", f"runs/{run_id}")
            if run["status"] in statuses or time.monotonic() > deadline:
                return run
            time.sleep(0.2)

"""Builder benchmark: validate a 500-node graph and PUT it as a draft through the full HTTP stack.

Run: .venv/bin/python bench/bench_builder.py  (a throwaway test database: in-memory SQLite by
default, or a test_<name> database next to DATABASE_URL). Prints milliseconds; target < 50 ms each.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

NODES = 500
ROUNDS = 15


def big_graph(size: int = NODES) -> dict:
    """start → a chain of transform / agent / if_else / set_state / http nodes → end, each node
    using expressions that refer to earlier nodes, so every rule has work to do."""
    nodes = [
        {
            "id": "start",
            "type": "start",
            "name": "Start",
            "position": {"x": 0, "y": 0},
            "config": {
                "input_schema": {"type": "object", "properties": {"message": {"type": "string"}}},
                "state": {"count": 0, "last": ""},
            },
        }
    ]
    edges = []
    previous, port = "start", None
    for i in range(1, size - 1):
        node_id = f"n{i}"
        kind = i % 5
        if kind == 0:
            node_type = "transform"
            config = {"output": {"text": f"nodes.{previous}.output", "n": "state.count + 1"}}
        elif kind == 1:
            node_type = "agent"
            config = {
                "model": "gpt-4.1-mini",
                "instructions": "Summarise {{ workflow.input.message }} given {{ nodes.start.output }}",
                "output": {
                    "type": "json_schema",
                    "schema": {"type": "object", "properties": {f"field_{i}": {"type": "string"}}},
                },
            }
        elif kind == 2:
            node_type = "if_else"
            config = {"cases": [{"port": "yes", "label": "Yes", "condition": "has(workflow.input.message)"}]}
        elif kind == 3:
            node_type = "set_state"
            config = {"assignments": [{"variable": "count", "expression": "state.count + 1"}]}
        else:
            node_type = "http_request"
            config = {
                "method": "POST",
                "url": "https://api.example.com/items/{{ state.count }}",
                "headers": {"X-Run": "{{ run.id }}"},
                "body": {"value": "nodes.start.output"},
            }
        nodes.append(
            {"id": node_id, "type": node_type, "name": f"Node {i}", "position": {"x": i * 10, "y": 0}, "config": config}
        )
        edge = {"id": f"e{i}", "source": previous, "target": node_id}
        if port:
            edge["source_port"] = port
        edges.append(edge)
        previous, port = node_id, ("yes" if node_type == "if_else" else None)
    nodes.append({"id": "done", "type": "end", "name": "End", "config": {"output": {"count": "state.count"}}})
    edge = {"id": "e_end", "source": previous, "target": "done"}
    if port:
        edge["source_port"] = port
    edges.append(edge)
    return {"format": "trellis.graph/1", "nodes": nodes, "edges": edges}


def timed(fn, rounds: int = ROUNDS) -> dict:
    """First-call and median wall time, and median CPU time of this process (steadier on a busy
    machine; excludes a database server's own work)."""
    wall, cpu = [], []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {"first": wall[0], "median": statistics.median(wall[1:]), "cpu": statistics.median(cpu[1:])}


def report(label: str, t: dict) -> None:
    print(f"{label}: first {t['first']:.1f} ms, median {t['median']:.1f} ms (cpu {t['cpu']:.1f} ms)")


def main() -> None:
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0)
    try:
        from django.test import Client

        from accounts.services import membership_add, user_create, workspace_create
        from builder.services import validation
        from builder.services.workflows import workflow_create

        graph = big_graph()
        user = user_create(email="bench@example.com", password="bench-Password-1")
        workspace = workspace_create(name="Bench", owner=user)
        editor = user_create(email="editor@example.com", password="bench-Password-1")
        membership_add(workspace=workspace, user=editor, role="editor")

        issues = validation.validate_graph(graph)
        errors = [i for i in issues if i["severity"] == "error"]
        assert not errors, errors[:3]
        report(f"validate_graph, {NODES} nodes", timed(lambda: validation.validate_graph(graph)))

        workflow = workflow_create(workspace=workspace, by=editor, name="Bench")
        client = Client()
        client.force_login(editor)
        import json

        body_cache = {"revision": workflow.draft_revision}

        graph_json = json.dumps(graph)

        def put():
            # Only the server's work is timed: the body is spliced, the answer is not decoded.
            body = '{"revision": ' + str(body_cache["revision"]) + ', "graph": ' + graph_json + "}"
            response = client.put(
                f"/api/v1/workflows/{workflow.pk}/draft",
                body,
                content_type="application/json",
                HTTP_X_TRELLIS_WORKSPACE=workspace.slug,
            )
            assert response.status_code == 200, response.content[:300]
            body_cache["revision"] += 1

        # Warm up Django's lazy pieces (URL resolver, DRF, the session) so `first` is the first PUT.
        client.get(f"/api/v1/workflows/{workflow.pk}/draft", HTTP_X_TRELLIS_WORKSPACE=workspace.slug)
        report(f"PUT draft, {NODES} nodes ({len(graph_json) / 1024:.0f} KiB)", timed(put))
        print(f"database: {connection.vendor}; load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

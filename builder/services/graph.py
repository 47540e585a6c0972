"""The `trellis.graph/1` format (DESIGN §3): the shape check every draft save runs.

The shape check rejects anything malformed — unknown fields, wrong types, unknown node types,
bad or duplicate ids, sizes over the limits — and leaves semantic problems (a cycle, a broken
expression, a missing end) to `validation.validate_graph`, which blocks publishing, not saving.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.conf import settings

from builder.catalog import DEFAULT_PORT, NODE_TYPES
from trellis.errors import ApplicationError

GRAPH_FORMAT = "trellis.graph/1"
NODE_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
EDGE_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
PORT_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
GRAPH_KEYS = {"format", "nodes", "edges", "viewport"}
NODE_KEYS = {"id", "type", "name", "position", "config"}
EDGE_KEYS = {"id", "source", "target", "source_port"}
MAX_NAME_LENGTH = 200
MAX_ERRORS = 50


def max_depth() -> int:
    return settings.GRAPH_MAX_DEPTH


def max_edges() -> int:
    return settings.GRAPH_MAX_NODES * 4


def empty_graph() -> dict:
    return {"format": GRAPH_FORMAT, "nodes": [], "edges": []}


def canonical_json(graph: dict) -> str:
    return json.dumps(graph, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def graph_checksum(graph: dict) -> str:
    return hashlib.sha256(canonical_json(graph).encode()).hexdigest()


def json_depth(value: Any, limit: int | None = None) -> int:
    """Nesting depth of a JSON value; stops counting past `limit` (returns limit + 1 then).

    Recursion is bounded by `limit`, so a hostile document cannot exhaust the stack."""
    limit = limit if limit is not None else max_depth()

    def depth(item: Any, level: int) -> int:
        if level > limit:
            return level
        children = item.values() if isinstance(item, dict) else item
        deepest = level
        for child in children:
            if isinstance(child, (dict, list)):
                deepest = max(deepest, depth(child, level + 1))
                if deepest > limit:
                    break
        return deepest

    return depth(value, 1) if isinstance(value, (dict, list)) else 0


class ShapeErrors:
    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, field: str, message: str, node_id: str | None = None) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append({"node_id": node_id, "field": field, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def shape_errors(graph: Any, *, size: int | None = None) -> list[dict]:
    """Everything malformed about `graph` as [{node_id, field, message}]; empty when well formed.

    `size` is the byte length of the graph as received, when the caller knows it."""
    errors = ShapeErrors()
    if not isinstance(graph, dict):
        errors.add("graph", "The graph must be a JSON object.")
        return errors.items
    if size is None:
        size = len(json.dumps(graph, ensure_ascii=False, separators=(",", ":")).encode())
    if size > settings.GRAPH_MAX_BYTES:
        errors.add("graph", f"The graph is {size} bytes; the limit is {settings.GRAPH_MAX_BYTES}.")
        return errors.items
    if json_depth(graph) > max_depth():
        errors.add("graph", f"The graph is nested more than {max_depth()} levels deep.")
        return errors.items
    for key in sorted(set(graph) - GRAPH_KEYS):
        errors.add(key, f"Unknown field '{key}'.")
    if graph.get("format") != GRAPH_FORMAT:
        errors.add("format", f"The format must be '{GRAPH_FORMAT}'.")
    nodes, edges = graph.get("nodes"), graph.get("edges")
    if not isinstance(nodes, list):
        errors.add("nodes", "'nodes' must be a list.")
        nodes = []
    if not isinstance(edges, list):
        errors.add("edges", "'edges' must be a list.")
        edges = []
    if len(nodes) > settings.GRAPH_MAX_NODES:
        errors.add("nodes", f"The graph has {len(nodes)} nodes; the limit is {settings.GRAPH_MAX_NODES}.")
        return errors.items
    if len(edges) > max_edges():
        errors.add("edges", f"The graph has {len(edges)} edges; the limit is {max_edges()}.")
        return errors.items
    viewport = graph.get("viewport")
    if viewport is not None and not (
        isinstance(viewport, dict)
        and set(viewport) <= {"x", "y", "zoom"}
        and all(_is_number(v) for v in viewport.values())
    ):
        errors.add("viewport", "'viewport' must be {x, y, zoom} numbers.")

    seen_nodes: set[str] = set()
    for i, node in enumerate(nodes):
        where = f"nodes[{i}]"
        if not isinstance(node, dict):
            errors.add(where, "A node must be an object.")
            continue
        node_id = node.get("id")
        ref = node_id if isinstance(node_id, str) else None
        for key in sorted(set(node) - NODE_KEYS):
            errors.add(f"{where}.{key}", f"Unknown field '{key}'.", ref)
        if not isinstance(node_id, str) or not NODE_ID_RE.match(node_id):
            errors.add(f"{where}.id", "A node id must match [a-z][a-z0-9_]{0,63}.", ref)
        elif node_id in seen_nodes:
            errors.add(f"{where}.id", f"Duplicate node id '{node_id}'.", ref)
        else:
            seen_nodes.add(node_id)
        node_type = node.get("type")
        if not isinstance(node_type, str) or node_type not in NODE_TYPES:  # a dict or list is unhashable
            errors.add(f"{where}.type", f"Unknown node type {json.dumps(node_type)}.", ref)
        name = node.get("name")
        if name is not None and not (isinstance(name, str) and len(name) <= MAX_NAME_LENGTH):
            errors.add(f"{where}.name", f"A name must be a string of at most {MAX_NAME_LENGTH} characters.", ref)
        position = node.get("position")
        if position is not None and not (
            isinstance(position, dict) and set(position) == {"x", "y"} and all(_is_number(v) for v in position.values())
        ):
            errors.add(f"{where}.position", "A position must be {x, y} numbers.", ref)
        config = node.get("config")
        if config is not None and not isinstance(config, dict):
            errors.add(f"{where}.config", "A config must be an object.", ref)

    seen_edges: set[str] = set()
    for i, edge in enumerate(edges):
        where = f"edges[{i}]"
        if not isinstance(edge, dict):
            errors.add(where, "An edge must be an object.")
            continue
        for key in sorted(set(edge) - EDGE_KEYS):
            errors.add(f"{where}.{key}", f"Unknown field '{key}'.")
        edge_id = edge.get("id")
        if not isinstance(edge_id, str) or not EDGE_ID_RE.match(edge_id):
            errors.add(f"{where}.id", "An edge id must be 1-128 characters of A-Z a-z 0-9 _ . : -")
        elif edge_id in seen_edges:
            errors.add(f"{where}.id", f"Duplicate edge id '{edge_id}'.")
        else:
            seen_edges.add(edge_id)
        for key in ("source", "target"):
            if not isinstance(edge.get(key), str) or not NODE_ID_RE.match(edge[key]):
                errors.add(f"{where}.{key}", f"'{key}' must be a node id.")
        port = edge.get("source_port")
        if port is not None and (not isinstance(port, str) or not PORT_RE.match(port)):
            errors.add(f"{where}.source_port", "'source_port' must match [a-z][a-z0-9_]{0,63}.")
    return errors.items


def check_shape(graph: Any, *, size: int | None = None) -> dict:
    """Raise ApplicationError (400, or 413 when too large) unless `graph` is well formed; return it."""
    errors = shape_errors(graph, size=size)
    if errors:
        first = errors[0]["message"]
        too_large = any(f" {unit}; the limit is" in first for unit in ("bytes", "nodes", "edges"))
        raise ApplicationError(
            "payload_too_large" if too_large else "invalid_graph",
            errors[0]["message"] if too_large else "The graph is malformed.",
            errors,
            status=413 if too_large else 400,
        )
    return graph


# --- Helpers over a well-formed graph (the algorithms are in builder/topology.py) ------------------


def edge_port(edge: dict) -> str:
    return edge.get("source_port") or DEFAULT_PORT


def triples(graph: dict) -> list[tuple[str, str, str]]:
    """The graph's edges as builder.topology's (source, port, target) triples."""
    return [(edge["source"], edge_port(edge), edge["target"]) for edge in graph.get("edges", [])]
